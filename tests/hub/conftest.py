"""Hub fixtures: the real FastAPI app on a real SQLite file in a temp folder."""

from __future__ import annotations

import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from bot.settings import PROJECT_ROOT
from tests.conftest import free_port

SERVICE = {"Authorization": "Bearer test-service-token"}


@pytest.fixture
def hub_settings(settings, tmp_path):
    dead = free_port()  # nothing listens here: Rasa and the action server are "down"
    return settings.model_copy(
        update={
            "hub_data_dir": tmp_path,
            "database_url": "",
            "rasa_port": dead,
            "action_port": dead,
            "handoff_service_token": "test-service-token",
            "player_rate_limit_per_minute": 10,
        }
    )


@pytest.fixture
def client(hub_settings):
    from handoff.app import create_app

    with TestClient(create_app(hub_settings)) as test_client:
        yield test_client


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
