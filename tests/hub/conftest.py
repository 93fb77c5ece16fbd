"""Hub fixtures: the real FastAPI app on a real SQLite file in a temp folder."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.settings import PROJECT_ROOT
from tests.conftest import free_port

SERVICE = {"Authorization": "Bearer test-service-token"}


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster on a free port (Debian's postgresql package).

    Missing PostgreSQL skips the PostgreSQL half of the suite on a developer's machine and FAILS it
    in CI (CI=true), where .ci/run installs it.
    """
    initdb = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not initdb:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed")
    bindir = initdb[-1].parent
    data = Path(tempfile.mkdtemp(prefix="hub-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        shutil.chown(data, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    run = lambda *cmd: subprocess.run([*as_postgres, *map(str, cmd)], check=True, capture_output=True)  # noqa: E731
    try:
        run(bindir / "initdb", "-D", data / "db", "-A", "trust", "-U", "hub", "--no-sync")
        options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        run(bindir / "pg_ctl", "-D", data / "db", "-o", options, "-l", data / "log", "-w", "start")
    except subprocess.CalledProcessError as exc:
        message = f"PostgreSQL did not start: {exc.stderr.decode(errors='replace')}"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    yield f"postgresql+psycopg://hub@127.0.0.1:{port}"
    subprocess.run(
        [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop"], capture_output=True
    )
    shutil.rmtree(data, ignore_errors=True)


_database_numbers = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    if request.param == "sqlite":
        return ""
    import psycopg

    server = request.getfixturevalue("postgres_server")
    name = f"hub_test_{next(_database_numbers)}"
    with psycopg.connect(server.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


@pytest.fixture
def hub_settings(settings, tmp_path, database_url):
    dead = free_port()  # nothing listens here: Rasa and the action server are "down"
    return settings.model_copy(
        update={
            "hub_data_dir": tmp_path,
            "database_url": database_url,
            "rasa_port": dead,
            "action_port": dead,
            "handoff_service_token": "test-service-token",
            "player_rate_limit_per_minute": 10,
            "conversations_per_minute_per_address": 10_000,  # tests start many from one address
            "log_dir": tmp_path / "logs",
        }
    )


@pytest.fixture
def client(hub_settings):
    from handoff.app import create_app

    with TestClient(create_app(hub_settings)) as test_client:
        yield test_client


@pytest.fixture
def data_copy_client(hub_settings, tmp_path):
    """The hub on a copy of data/, so that saves (canned replies, FAQ edits) never touch the repository."""
    from handoff.app import create_app

    data = tmp_path / "data"
    shutil.copytree(hub_settings.data_dir, data)
    settings = hub_settings.model_copy(update={"data_dir": data})
    with TestClient(create_app(settings)) as test_client:
        yield test_client, settings


def create_user(hub_settings, name: str, password: str = "correct horse", **options) -> None:
    env_args = [f"--{k.replace('_', '-')}={v}" for k, v in options.items()]
    env = {"HUB_DATA_DIR": str(hub_settings.hub_data_dir), "DATABASE_URL": hub_settings.database_url, "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-m", "handoff", "create-user", name, *env_args],
        input=password + "\n",
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def login(client, name: str, password: str = "correct horse") -> dict:
    response = client.post("/api/agent/login", json={"username": name, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def new_conversation(client, locale: str | None = None) -> tuple[str, dict]:
    body = client.post("/api/conversations", json={"locale": locale} if locale else {}).json()
    return body["conversation_id"], {"Authorization": f"Bearer {body['token']}"}


def queue_it(client, conversation_id: str, language: str = "en", reason: str = "player_request") -> dict:
    response = client.post(
        "/api/handoffs",
        json={"conversation_id": conversation_id, "language": language, "reason": reason, "priority": "normal"},
        headers=SERVICE,
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def hub_server(hub_settings, tmp_path):
    """The hub as its own uvicorn process (``python -m handoff serve``) on a free port: real
    concurrency, as players and agents reach it. Rasa and the action server are down."""
    from bot.services import hub_service, wait_healthy

    settings = hub_settings.model_copy(update={"hub_port": free_port(), "log_dir": tmp_path / "logs"})
    service = hub_service(settings)
    service.start()
    try:
        wait_healthy([service], 60)
        yield settings
    finally:
        service.stop()
