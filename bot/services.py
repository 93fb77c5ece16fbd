"""Starting, watching and stopping the Rasa server and the action server as child processes."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bot.build import rasa_env, rasa_executable
from bot.settings import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)


class ServiceError(RuntimeError):
    pass


@dataclass
class Service:
    name: str
    command: list[str]
    health_url: str
    log_file: Path
    env: dict[str, str]
    health_params: dict[str, str] = field(default_factory=dict)  # e.g. Rasa's API token, kept out of messages
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends it with all children
        )

    def healthy(self) -> bool:
        try:
            return requests.get(self.health_url, params=self.health_params, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def rasa_service(settings: Settings, model: Path) -> Service:
    command = [
        str(rasa_executable(settings)),
        "run",
        "--enable-api",
        "--model",
        str(model),
        "--endpoints",
        str(PROJECT_ROOT / "endpoints.yml"),
        "--credentials",  # the REST channel, and the model swap channel of `bot publish`
        str(PROJECT_ROOT / "credentials.yml"),
        "--interface",
        settings.host,
        "--port",
        str(settings.rasa_port),
        # No --cors: browsers never call Rasa (the widget talks to the hub), and without the flag
        # Rasa sends no Access-Control-* headers, so no web page can read its API.
    ]
    params = {}
    if settings.rasa_token:  # protects /status, trackers and PUT /model (the REST webhook stays open)
        # One argument with "=": a token that starts with "-" is still the option's value for argparse.
        command.append(f"--auth-token={settings.rasa_token}")
        params = {"token": settings.rasa_token}
    env = dict(rasa_env(settings), RASA_TOKEN=settings.rasa_token)  # read by bot.rasa_server.model_swap
    return Service("rasa", command, f"{settings.rasa_url}/status", settings.log_dir / "rasa.log", env, params)


def app_env(settings: Settings) -> dict[str, str]:
    """The environment of our app-side processes: every setting, so a child process (the hub, the
    action server) runs with exactly the settings object its parent was given, overrides included."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if isinstance(value, str | int | float | bool | Path):
            env[name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


def action_service(settings: Settings) -> Service:
    python = settings.venv_dir / "app" / "bin" / "python"
    command = [str(python), "-m", "bot.action_server", "--host", settings.host, "--port", str(settings.action_port)]
    return Service(
        "actions", command, f"{settings.action_url}/health", settings.log_dir / "actions.log", app_env(settings)
    )


def hub_service(settings: Settings) -> Service:
    python = settings.venv_dir / "app" / "bin" / "python"
    return Service(
        "hub",
        [str(python), "-m", "handoff", "serve"],
        f"{settings.hub_url}/livez",
        settings.log_dir / "hub.log",
        app_env(settings),
    )


def wait_healthy(services: list[Service], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(services)
    while pending:
        for service in list(pending):
            if service.process is not None and service.process.poll() is not None:
                raise ServiceError(f"{service.name} exited with {service.process.returncode}; see {service.log_file}")
            if service.healthy():
                pending.remove(service)
        if pending and time.monotonic() > deadline:
            names = ", ".join(s.name for s in pending)
            raise ServiceError(f"{names} did not answer within {timeout:.0f} s; see {settings_logs(pending)}")
        if pending:
            time.sleep(0.5)


def settings_logs(services: list[Service]) -> str:
    return ", ".join(str(s.log_file) for s in services)


def with_hub(settings: Settings) -> Settings:
    """Settings for a stack whose action server hands conversations to our own hub."""
    return settings.model_copy(update={"handoff_url": settings.handoff_url or f"{settings.hub_url}/api/handoffs"})


def start_stack(settings: Settings, model: Path, hub: bool = False) -> list[Service]:
    """Start the action server, Rasa (and the hub); return once all answer (or stop them all and raise).

    Raises ``UnsafeSettings`` before starting anything when ``HOST`` is not a loopback address and a
    secret is empty or a published default (``Settings.check_exposure``).
    """
    settings.check_exposure()
    services = [action_service(settings), rasa_service(settings, model)]
    if hub:
        services.append(hub_service(settings))
    for service in services:
        if service.healthy():
            raise ServiceError(f"port of {service.name} is already in use ({service.health_url})")
        service.start()
    try:
        wait_healthy(services, settings.startup_timeout_s)
    except BaseException:
        stop_stack(services)
        raise
    return services


def stop_stack(services: list[Service]) -> None:
    for service in reversed(services):
        service.stop()
