"""A scratch copy of ``data/`` and of the current artifacts, for trying edits end to end.

Tests and benchmarks edit the copy, train and publish into a stack started on it, and leave the
repository's data and models untouched. The copy starts with the newest FAQ index and the Rasa model
for the current inputs (so nothing is rebuilt until the copy is edited).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bot.settings import Settings


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)  # the model is ~80 MB; it is never written in place
    except OSError:
        shutil.copy2(source, target)


def make_workspace(settings: Settings, root: Path, rasa_cache: bool = False) -> Settings:
    """Copy data and the current artifacts under ``root``; return settings pointing there.

    ``rasa_cache``: also copy Rasa's training cache (~500 MB), which makes a retraining after a
    small NLU edit reuse the unchanged components, as it does in the repository.
    """
    from bot.build import build_all, rasa_model_path
    from bot.index.faq_index import current_version

    model = build_all(settings)  # up to date in seconds unless the repository's inputs changed
    data, models = root / "data", root / "models"
    shutil.copytree(settings.data_dir, data)
    _link_or_copy(model, models / "rasa" / model.name)
    version = current_version(settings.index_dir)
    assert version, "build_all always leaves an index"
    shutil.copytree(settings.index_dir / version, models / "faq_index" / version)
    (models / "faq_index" / "CURRENT").write_text(version)
    if rasa_cache and (settings.models_dir / "rasa_cache").exists():
        shutil.copytree(settings.models_dir / "rasa_cache", models / "rasa_cache")
    workspace = settings.model_copy(update={"data_dir": data, "models_dir": models})
    assert rasa_model_path(workspace) == models / "rasa" / model.name, "the copy must fingerprint as the original"
    return workspace
