"""Secrets safe by default: generated once per HUB_DATA_DIR, env wins, servers refuse to be exposed
with an empty or published secret (bot/secrets.py, Settings.check_exposure)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bot import secrets as bot_secrets
from bot.settings import KNOWN_DEFAULT_SECRETS, PROJECT_ROOT, Settings, UnsafeSettings
from tests.conftest import free_port

NAMES = ("RASA_TOKEN", "ADMIN_TOKEN", "HANDOFF_SERVICE_TOKEN")
FIELDS = {"RASA_TOKEN": "rasa_token", "ADMIN_TOKEN": "admin_token", "HANDOFF_SERVICE_TOKEN": "handoff_service_token"}
PYTHON = sys.executable


@pytest.fixture(autouse=True)
def no_secrets_in_env(monkeypatch):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


def tokens(s: Settings) -> dict[str, str]:
    return {name: getattr(s, field) for name, field in FIELDS.items()}


def child_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NAMES and k != "DATABASE_URL"}
    return {**env, "HUB_DATA_DIR": str(data_dir), "PYTHONPATH": str(PROJECT_ROOT), **extra}


# --- generated once, reused, env wins ---


def test_secrets_are_generated_once_and_reused(tmp_path):
    first = tokens(Settings(hub_data_dir=tmp_path))
    path = tmp_path / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == first
    assert all(len(value) >= 40 for value in first.values())  # token_urlsafe(32): 43 characters
    assert len(set(first.values())) == 3
    assert not set(first.values()) & KNOWN_DEFAULT_SECRETS

    again = tokens(Settings(hub_data_dir=tmp_path))
    assert again == first
    assert bot_secrets.load_secrets(tmp_path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tokens(Settings(hub_data_dir=tmp_path / "other")) != first  # another data folder, other secrets


def test_an_environment_value_wins_over_the_file(tmp_path, monkeypatch):
    stored = tokens(Settings(hub_data_dir=tmp_path))
    monkeypatch.setenv("ADMIN_TOKEN", "from-the-environment")
    s = Settings(hub_data_dir=tmp_path)
    assert s.admin_token == "from-the-environment"
    assert (s.rasa_token, s.handoff_service_token) == (stored["RASA_TOKEN"], stored["HANDOFF_SERVICE_TOKEN"])
    assert bot_secrets.secret("ADMIN_TOKEN", tmp_path) == "from-the-environment"
    assert bot_secrets.secret("ADMIN_TOKEN", tmp_path, environ={}) == stored["ADMIN_TOKEN"]
    assert json.loads((tmp_path / "secrets.json").read_text()) == stored  # the file is not rewritten


def test_secrets_set_in_the_environment_need_no_file(tmp_path, monkeypatch):
    for name in NAMES:
        monkeypatch.setenv(name, f"env-{name}")
    assert tokens(Settings(hub_data_dir=tmp_path)) == {name: f"env-{name}" for name in NAMES}
    assert not (tmp_path / "secrets.json").exists()


def test_a_missing_entry_is_added_and_the_others_are_kept(tmp_path):
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"RASA_TOKEN": "kept-rasa-token-value"}))
    path.chmod(0o600)
    s = Settings(hub_data_dir=tmp_path)
    assert s.rasa_token == "kept-rasa-token-value"
    assert s.admin_token and s.handoff_service_token
    assert json.loads(path.read_text()) == tokens(s)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_broken_file_is_a_clear_error(tmp_path):
    (tmp_path / "secrets.json").write_text("{not json")
    with pytest.raises(bot_secrets.SecretsError, match="secrets.json is not valid JSON"):
        Settings(hub_data_dir=tmp_path)


def test_processes_starting_together_share_one_set_of_secrets(tmp_path):
    """Eight real processes race for the first use of an empty data folder: one set of values wins."""
    code = (
        "import json; from bot.settings import Settings; s = Settings(); "
        "print(json.dumps([s.rasa_token, s.admin_token, s.handoff_service_token]))"
    )
    children = [
        subprocess.Popen([PYTHON, "-c", code], env=child_env(tmp_path), stdout=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert all(child.returncode == 0 for child in children)
    assert len({out.strip() for out in outputs}) == 1
    assert json.loads(outputs[0]) == list(json.loads((tmp_path / "secrets.json").read_text()).get(n) for n in NAMES)


# --- check_exposure ---


@pytest.fixture
def random_settings(tmp_path) -> Settings:
    return Settings(hub_data_dir=tmp_path)


@pytest.mark.parametrize("field", list(FIELDS.values()))
@pytest.mark.parametrize("weak", [*sorted(KNOWN_DEFAULT_SECRETS), ""])
def test_check_exposure_refuses_a_public_host_with_a_default_or_empty_secret(random_settings, field, weak):
    exposed = random_settings.model_copy(update={"host": "0.0.0.0", field: weak})
    env_name = {v: k for k, v in FIELDS.items()}[field]
    with pytest.raises(UnsafeSettings, match=env_name) as caught:
        exposed.check_exposure()
    assert isinstance(caught.value, RuntimeError)
    assert "HOST='0.0.0.0'" in str(caught.value)
    assert ("empty" if not weak else "published default") in str(caught.value)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "192.168.0.10", "2001:db8::1", "example.com", ""])
def test_check_exposure_refuses_every_non_loopback_host(random_settings, host):
    with pytest.raises(UnsafeSettings, match="ADMIN_TOKEN"):
        random_settings.model_copy(update={"host": host, "admin_token": "dev-admin-token"}).check_exposure()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3"])
def test_check_exposure_allows_a_public_host_with_random_secrets(random_settings, host):
    random_settings.model_copy(update={"host": host}).check_exposure()


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"]
)
@pytest.mark.parametrize("weak", ["dev-service-token", ""])
def test_check_exposure_allows_loopback_always(random_settings, host, weak):
    update = {"host": host, "rasa_token": "dev-rasa-token", "admin_token": weak, "handoff_service_token": weak}
    random_settings.model_copy(update=update).check_exposure()


def test_start_stack_refuses_before_starting_anything(random_settings, tmp_path):
    from bot.services import start_stack

    exposed = random_settings.model_copy(
        update={"host": "0.0.0.0", "rasa_token": "dev-rasa-token", "log_dir": tmp_path / "logs"}
    )
    with pytest.raises(UnsafeSettings, match="RASA_TOKEN"):
        start_stack(exposed, tmp_path / "no-model.tar.gz", hub=True)
    assert not (tmp_path / "logs").exists()  # no service was started (each opens its log first)


def test_rasa_runs_without_cors(random_settings, tmp_path):
    from bot.services import rasa_service

    command = rasa_service(random_settings, tmp_path / "model.tar.gz").command
    assert "--cors" not in command
    assert f"--auth-token={random_settings.rasa_token}" in command


def test_a_token_starting_with_a_dash_reaches_rasa_as_the_options_value(random_settings, tmp_path):
    """argparse (Rasa's CLI) takes "--auth-token -abc" for a missing value and exits 2."""
    import argparse

    from bot.services import rasa_service

    dashed = random_settings.model_copy(update={"rasa_token": "-Xy3_random"})
    command = rasa_service(dashed, tmp_path / "model.tar.gz").command
    parser = argparse.ArgumentParser()
    parser.add_argument("-t", "--auth-token")
    known, _ = parser.parse_known_args([arg for arg in command if arg.startswith("--auth-token")])
    assert known.auth_token == "-Xy3_random"


def test_generated_secrets_never_start_with_a_dash():
    from bot.secrets import new_secret

    assert not any(new_secret().startswith("-") for _ in range(2000))  # 1 in 64 would without the guard


# --- the servers' command lines, as real processes ---


def run_refused(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    started = time.monotonic()
    child = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        pytest.fail(f"{command} kept running on a public address with a published secret")
    assert time.monotonic() - started < 60
    return subprocess.CompletedProcess(command, child.returncode, out.decode(), err.decode())


def test_the_hub_cli_refuses_a_public_host_with_the_published_service_token(tmp_path):
    env = child_env(tmp_path, HOST="0.0.0.0", HANDOFF_SERVICE_TOKEN="dev-service-token", HUB_PORT=str(free_port()))
    result = run_refused([PYTHON, "-m", "handoff", "serve"], env)
    assert result.returncode != 0
    assert "HANDOFF_SERVICE_TOKEN" in result.stderr and "0.0.0.0" in result.stderr
    assert "Traceback" not in result.stderr
    assert "RASA_TOKEN is" not in result.stderr  # the generated ones are fine


def test_the_action_server_cli_refuses_a_public_host_with_the_published_admin_token(tmp_path):
    env = child_env(tmp_path, ADMIN_TOKEN="dev-admin-token")
    command = [PYTHON, "-m", "bot.action_server", "--host", "0.0.0.0", "--port", str(free_port())]
    result = run_refused(command, env)
    assert result.returncode != 0
    assert "ADMIN_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_the_hub_cli_still_serves_loopback_with_the_old_defaults(tmp_path):
    port = free_port()
    env = child_env(tmp_path, HOST="127.0.0.1", HANDOFF_SERVICE_TOKEN="dev-service-token", HUB_PORT=str(port))
    child = subprocess.Popen(
        [PYTHON, "-m", "handoff", "serve"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if child.poll() is not None:
                pytest.fail(f"the hub exited with {child.returncode}: {child.stderr.read().decode()[-2000:]}")
            try:
                if requests.get(f"http://127.0.0.1:{port}/livez", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.3)
        else:
            pytest.fail("the hub did not answer on loopback")
    finally:
        child.terminate()
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
