"""A fresh clone's `make run`: the README's promise of a demo login on an empty database.

The committed HEAD is cloned into a temp folder and the clone's own ``bot run`` (what ``make run``
runs after ``scripts/bootstrap.sh``) is started as a subprocess, as a user would start it: with the
existing virtual environments (``VENV_DIR``) and artifacts (``MODELS_DIR``, plus ``EMBEDDING_MODEL``,
whose default lies under the clone's own ``models/``, not under ``MODELS_DIR``), so nothing is
installed or rebuilt, on free ports and with a fresh ``HUB_DATA_DIR`` and ``LOG_DIR``.

Only committed files reach the clone. To try uncommitted work, commit it in a scratch clone and
point ``FRESH_CLONE_SOURCE`` at that repository.
"""

from __future__ import annotations

import ast
import json
import os
import queue
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests

from bot.language.names import SUPPORTED
from bot.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port

pytestmark = pytest.mark.integration

LOGIN_TIMEOUT_S = 240.0  # the build is a no-op here; Rasa alone takes 40-60 s to answer
STOP_TIMEOUT_S = 90.0  # bot run stops three services, each given 20 s before SIGKILL

_LITERAL = r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\""""  # a Python string literal, as repr() writes it
LOGIN_LINE = re.compile(
    rf"^Demo agent created \(shown once\): user (?P<user>{_LITERAL}), password (?P<password>{_LITERAL})$"
)
READY_LINE = "Press Ctrl-C to stop."


def parse_login(line: str) -> tuple[str, str] | None:
    """(user, password) from the line `bot run` prints once, as any script would read it."""
    match = LOGIN_LINE.match(line.rstrip("\n"))
    if not match:
        return None
    return ast.literal_eval(match["user"]), ast.literal_eval(match["password"])


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    source = os.environ.get("FRESH_CLONE_SOURCE") or str(PROJECT_ROOT)
    target = tmp_path_factory.mktemp("fresh") / "repo"
    subprocess.run(["git", "clone", "--quiet", source, str(target)], check=True, timeout=120)
    return target


def clone_env(clone: Path, settings: Settings, **overrides: str) -> dict[str, str]:
    """The environment of a user's shell: none of our settings set, except the ones that reuse the
    installed environments and built artifacts, and a scratch HUB_DATA_DIR and LOG_DIR."""
    fields = {name.lower() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.lower() not in fields and k != "PYTHONPATH"}
    scratch = clone.parent
    env.update(
        VENV_DIR=str(settings.venv_dir),
        MODELS_DIR=str(settings.models_dir),
        EMBEDDING_MODEL=settings.embedding_model,
        HUB_DATA_DIR=str(scratch / "hub-data"),
        LOG_DIR=str(scratch / "logs"),
    )
    env.update(overrides)
    return env


def python_of(settings: Settings) -> str:
    return str(settings.venv_dir / "app" / "bin" / "python")  # the Makefile's $(APP_PY)


def processes_in(folder: Path) -> list[psutil.Process]:
    """Every live process whose working directory is inside ``folder`` (bot run and its services run there)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.status() != psutil.STATUS_ZOMBIE and Path(process.cwd()).is_relative_to(folder):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, FileNotFoundError):
            continue
    return found


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    result = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                result.append(process)
        except psutil.NoSuchProcess:
            continue
    return result


def describe(processes: list[psutil.Process]) -> list[str]:
    out = []
    for process in processes:
        try:
            out.append(f"{process.pid}: {' '.join(process.cmdline())[:160]}")
        except psutil.Error:
            out.append(str(process.pid))
    return out


class Output:
    """The merged stdout and stderr of a process, line by line, read in a thread (a full pipe would block it)."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def next_line(self, deadline: float) -> str | None:
        """The next line; None at the end of the output. Raises ``TimeoutError`` at the deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        try:
            line = self._queue.get(timeout=remaining)
        except queue.Empty:
            raise TimeoutError from None
        if line is not None:
            self.lines.append(line.rstrip("\n"))
        return line

    def tail(self, n: int = 40) -> str:
        self._thread.join(timeout=2)
        while True:  # whatever arrived after the last next_line
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line.rstrip("\n"))
        return "\n".join(self.lines[-n:])


def stop(process: subprocess.Popen) -> int:
    """Ctrl-C: SIGINT to bot run's process group, then wait; SIGKILL when it does not end in time."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return -signal.SIGKILL
    return process.returncode


def test_the_clone_runs_its_own_code(clone, settings):
    """Otherwise the test below would prove something about /work/main, not about the clone."""
    code = "import actions, bot, handoff; print(bot.__file__, handoff.__file__, actions.__file__)"
    result = subprocess.run(
        [python_of(settings), "-c", code],
        cwd=clone,
        env=clone_env(clone, settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for path in result.stdout.split():
        assert Path(path).resolve().is_relative_to(clone.resolve()), result.stdout


def test_make_run_on_a_fresh_clone_prints_a_demo_login_that_works(clone, settings):
    tracked = subprocess.run(
        ["git", "ls-files", "--", "var", "*.db", "*secrets.json"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked == [], f"the repository tracks runtime data: {tracked}"

    ports = set()
    while len(ports) < 3:
        ports.add(free_port())
    rasa_port, action_port, hub_port = sorted(ports)
    env = clone_env(clone, settings, RASA_PORT=str(rasa_port), ACTION_PORT=str(action_port), HUB_PORT=str(hub_port))
    hub_data = Path(env["HUB_DATA_DIR"])
    assert not hub_data.exists()

    started = time.monotonic()
    process = subprocess.Popen(
        [python_of(settings), "-m", "bot", "run"],
        cwd=clone,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, like a shell job: Ctrl-C reaches bot run only
    )
    output = Output(process.stdout)
    services: list[psutil.Process] = []
    try:
        login = None
        ready = False
        deadline = started + LOGIN_TIMEOUT_S
        while not ready:
            try:
                line = output.next_line(deadline)
            except TimeoutError:
                pytest.fail(f"no demo login within {LOGIN_TIMEOUT_S:.0f} s; output:\n{output.tail()}")
            if line is None:
                pytest.fail(f"bot run exited with {process.wait()} before it was ready; output:\n{output.tail()}")
            login = login or parse_login(line)
            ready = line.strip() == READY_LINE
        print(f"stack ready after {time.monotonic() - started:.1f} s", file=sys.stderr)
        services = psutil.Process(process.pid).children(recursive=True)
        commands = "\n".join(describe(services))
        for part in ("/rasa run", "-m bot.action_server", "-m handoff serve"):
            assert part in commands, f"no {part!r} among the children of bot run:\n{commands}"
        assert login is not None, f"bot run started on an empty database but printed no demo login:\n{output.tail()}"
        user, password = login
        assert user == "demo" and len(password) >= 12

        hub = f"http://127.0.0.1:{hub_port}"
        response = requests.post(f"{hub}/api/agent/login", json={"username": user, "password": password}, timeout=30)
        assert response.status_code == 200, response.text
        agent = response.json()
        assert agent["token"] and sorted(agent["user"]["languages"]) == sorted(SUPPORTED)
        wrong = requests.post(f"{hub}/api/agent/login", json={"username": user, "password": password + "x"}, timeout=30)
        assert wrong.status_code == 401

        secrets_file = hub_data / "secrets.json"
        assert secrets_file.is_file(), f"no {secrets_file}"
        assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
        assert (hub_data / "hub.db").is_file()
        tokens = [line for line in output.lines if line.startswith("Tokens:")]
        assert tokens and str(secrets_file) in tokens[0], f"no word on where the tokens live:\n{output.tail()}"
        # The stack really uses the generated tokens: Rasa's API answers with the stored token only.
        rasa_token = json.loads(secrets_file.read_text())["RASA_TOKEN"]
        rasa = f"http://127.0.0.1:{rasa_port}/status"
        assert requests.get(rasa, params={"token": rasa_token}, timeout=30).status_code == 200
        assert requests.get(rasa, timeout=30).status_code in (401, 403)

        assert not (clone / "var" / "hub.db").exists()
        assert subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True).stdout == ""
    finally:
        if not services and process.poll() is None:
            services = psutil.Process(process.pid).children(recursive=True)
        returncode = stop(process)
        time.sleep(1)  # services re-parented to init are reaped asynchronously
        survivors = alive(services) + [p for p in processes_in(clone) if p.pid not in {s.pid for s in services}]
        survivor_list = describe(survivors)
        for survivor in survivors:  # ours: they run in the temp clone
            try:
                survivor.kill()
            except psutil.NoSuchProcess:
                pass
        print(f"bot run ran {time.monotonic() - started:.1f} s in all", file=sys.stderr)
    assert not survivors, "still running after Ctrl-C:\n" + "\n".join(survivor_list)
    assert returncode == 0, f"bot run exited with {returncode} after Ctrl-C:\n{output.tail()}"


def test_run_refuses_an_exposed_host_with_a_published_secret_before_building(clone, settings):
    env = clone_env(
        clone,
        settings,
        HOST="0.0.0.0",
        RASA_TOKEN="dev-rasa-token",  # published: the former default
        ADMIN_TOKEN="a-random-enough-admin-token-for-this-test",
        HANDOFF_SERVICE_TOKEN="a-random-enough-service-token-for-this-test",
        HUB_DATA_DIR=str(clone.parent / "exposed-hub-data"),
        LOG_DIR=str(clone.parent / "exposed-logs"),
    )
    started = time.monotonic()
    result = subprocess.run(
        [python_of(settings), "-m", "bot", "run"],
        cwd=clone,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
    )
    seconds = time.monotonic() - started
    errors = result.stderr.strip().splitlines()
    assert result.returncode != 0
    assert len(errors) == 1, f"expected one line, got:\n{result.stderr[-3000:]}"
    assert errors[0].startswith("error: refusing to listen on HOST='0.0.0.0'") and "RASA_TOKEN" in errors[0]
    assert result.stdout == ""
    assert seconds < 60, f"refused only after {seconds:.0f} s"
    assert not Path(env["LOG_DIR"]).exists()  # no server was started
    assert not processes_in(clone)
