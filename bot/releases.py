"""Releases: one FAQ index version + one Rasa model, recorded in a manifest under ``models/releases/``.

``models/releases/<id>/manifest.json`` holds the inputs' fingerprints, the artifacts' paths
(relative to ``MODELS_DIR``), build times, and the evaluation figures once ``bot eval`` ran.
The id is derived from the two artifacts, so training unchanged inputs again yields the same
release. ``LATEST`` names the newest trained release, ``PUBLISHED`` the one the running stack
serves (written by ``bot publish``). Each release remembers the one that was latest before it
(``previous``), which is what a new evaluation is compared with.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path


@dataclass
class Release:
    id: str
    built_at: str
    index_version: str
    index_dir: str  # relative to MODELS_DIR
    rasa_model: str  # relative to MODELS_DIR
    fingerprints: dict[str, str]  # faq (knowledge base files), rasa (training inputs), embedding_model
    build_seconds: dict[str, float] = field(default_factory=dict)  # of the artifacts this build made
    previous: str | None = None
    eval: dict | None = None  # per-language and overall figures, with the file and split they came from

    def rasa_model_path(self, models_dir: Path) -> Path:
        return models_dir / self.rasa_model


def release_id(index_version: str, rasa_fingerprint: str) -> str:
    return f"{index_version[:8]}-{rasa_fingerprint[:8]}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def releases_dir(models_dir: Path) -> Path:
    return models_dir / "releases"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save(models_dir: Path, release: Release) -> None:
    _write_atomic(releases_dir(models_dir) / release.id / "manifest.json", json.dumps(asdict(release), indent=2))


def load(models_dir: Path, rid: str) -> Release:
    path = releases_dir(models_dir) / rid / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"no release {rid!r} under {releases_dir(models_dir)}")
    return Release(**json.loads(path.read_text(encoding="utf-8")))


def _pointer(models_dir: Path, name: str) -> str | None:
    path = releases_dir(models_dir) / name
    return path.read_text().strip() if path.exists() else None


def latest_id(models_dir: Path) -> str | None:
    return _pointer(models_dir, "LATEST")


def published_id(models_dir: Path) -> str | None:
    return _pointer(models_dir, "PUBLISHED")


def set_latest(models_dir: Path, rid: str) -> None:
    _write_atomic(releases_dir(models_dir) / "LATEST", rid)


def set_published(models_dir: Path, rid: str) -> None:
    _write_atomic(releases_dir(models_dir) / "PUBLISHED", rid)


def latest(models_dir: Path) -> Release | None:
    rid = latest_id(models_dir)
    return load(models_dir, rid) if rid else None


def previous_evaluated(models_dir: Path, release: Release) -> Release | None:
    """The nearest earlier release (following ``previous``) that has evaluation figures."""
    seen = {release.id}
    rid = release.previous
    while rid and rid not in seen:
        seen.add(rid)
        try:
            candidate = load(models_dir, rid)
        except FileNotFoundError:
            return None
        if candidate.eval:
            return candidate
        rid = candidate.previous
    return None


def record_eval(models_dir: Path, rid: str, figures: dict) -> Release:
    release = load(models_dir, rid)
    release.eval = figures
    save(models_dir, release)
    return release
