"""The generated secrets of one machine: ``RASA_TOKEN``, ``ADMIN_TOKEN`` and ``HANDOFF_SERVICE_TOKEN``.

On first use each gets a random value (``secrets.token_urlsafe(32)``), stored in
``<HUB_DATA_DIR>/secrets.json`` (``var/`` by default, git-ignored) with mode 0600. The file is
written to a temporary file and renamed into place under a lock, so concurrent first starts agree
on one set of values and no process ever reads half a file. Later runs, and every process started
with the same ``HUB_DATA_DIR``, read the same values.

A non-empty value in the environment wins over the file (``secret``; ``bot.settings`` asks this
module only for the settings that are still empty). Delete the file to rotate all three.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)

SECRET_NAMES: tuple[str, ...] = ("RASA_TOKEN", "ADMIN_TOKEN", "HANDOFF_SERVICE_TOKEN")
FILE_NAME = "secrets.json"


class SecretsError(RuntimeError):
    """The secrets file cannot be read or written."""


def secrets_path(data_dir: Path) -> Path:
    return Path(data_dir) / FILE_NAME


def new_secret() -> str:
    """32 random bytes, URL-safe; never starting with "-", which command lines would take for an option."""
    while (value := secrets.token_urlsafe(32)).startswith("-"):
        pass
    return value


def load_secrets(data_dir: Path) -> dict[str, str]:
    """Every name of ``SECRET_NAMES`` with its stored value; missing ones are generated and stored first."""
    path = secrets_path(data_dir)
    stored = _read(path)
    if stored is not None and _complete(stored):
        return {name: stored[name] for name in SECRET_NAMES}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path.with_name(FILE_NAME + ".lock")):
            stored = _read(path) or {}  # another process may have written it meanwhile
            missing = [name for name in SECRET_NAMES if not _valid(stored.get(name))]
            if missing:
                stored = {**stored, **{name: new_secret() for name in missing}}
                _write(path, stored)
                logger.info("generated %s in %s", ", ".join(missing), path)
    except OSError as exc:
        raise SecretsError(
            f"cannot store generated secrets in {path} ({exc}); make HUB_DATA_DIR writable "
            f"or set {', '.join(SECRET_NAMES)} in the environment"
        ) from exc
    return {name: stored[name] for name in SECRET_NAMES}


def secret(name: str, data_dir: Path, environ: Mapping[str, str] | None = None) -> str:
    """One secret: the environment's value when it is set and not empty, else the stored one."""
    if name not in SECRET_NAMES:
        raise KeyError(f"{name} is not one of {', '.join(SECRET_NAMES)}")
    value = (os.environ if environ is None else environ).get(name, "")
    return value or load_secrets(data_dir)[name]


def _valid(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _complete(stored: Mapping[str, object]) -> bool:
    return all(_valid(stored.get(name)) for name in SECRET_NAMES)


def _read(path: Path) -> dict[str, object] | None:
    """The file's contents; None when it does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SecretsError(f"cannot read {path}: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SecretsError(f"{path} is not valid JSON ({exc}); delete it to generate new secrets") from exc
    if not isinstance(data, dict):
        raise SecretsError(f"{path} must hold a JSON object; delete it to generate new secrets")
    if mode & 0o077:
        logger.warning("%s is readable by other users (mode %o): run chmod 600 on it", path, mode & 0o777)
    return data


def _write(path: Path, values: Mapping[str, object]) -> None:
    """Write ``values`` to ``path`` atomically: a 0600 temporary file beside it, then a rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{FILE_NAME}.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(values, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """An exclusive lock between the processes of this machine (``flock`` on a lock file)."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
