"""The content pipeline as plain functions: ``train`` what changed, ``publish`` it to the running stack.

The CLI (``bot train``, ``bot publish``) is a thin layer over these; the hub's editor can call
them in a worker thread and forward the ``Progress`` events to the browser.

    result = train(settings, progress=print)      # -> TrainResult (release id, what was rebuilt)
    publish(settings, progress=print)             # -> PublishResult (what was swapped, how long)
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot import releases
from bot.progress import Progress, ProgressCallback, ignore
from bot.settings import Settings

logger = logging.getLogger(__name__)


class PipelineError(RuntimeError):
    """A step failed in a way the editor can act on; the message says what and where."""


@dataclass
class TrainResult:
    release: releases.Release
    rasa_model: Path
    index_rebuilt: bool
    rasa_retrained: bool
    index_embedded: int  # variants embedded by this build (0 when nothing changed)
    seconds: float


@dataclass
class PublishResult:
    release: str
    index_version: str
    rasa_model: str
    index_swapped: bool  # False: the action server already served this index
    rasa_swapped: bool  # False: Rasa already served this model
    index_seconds: float
    rasa_seconds: float
    seconds: float


@contextmanager
def _exclusive(models_dir: Path) -> Iterator[None]:
    """One training at a time per models folder (CLI and hub may both ask)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    with (models_dir / ".train.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def validate(
    settings: Settings,
    embeddings: bool = True,
    rasa: bool = True,
    margin: float = 0.05,
    progress: ProgressCallback = ignore,
):
    """Every content check of ``bot.kb.validate`` (-> its ``Report``; errors block training).

    Embeddings of variants the newest index already holds are reused, so only new texts are embedded.
    """
    from bot.kb.validate import validate as run_checks

    embed = None
    if embeddings:
        from bot.build import ensure_embedding_model
        from bot.embedding.model import load_embedder
        from bot.index.faq_index import current_version, embed_missing, reusable_vectors

        ensure_embedding_model(settings)
        embedder = load_embedder(settings.embedding_model, settings.embedding_prefix)
        current = current_version(settings.index_dir)
        known = reusable_vectors(settings.index_dir / current if current else None, embedder)

        def embed(texts: list[str]):
            on_progress = lambda done, total: progress(Progress("embed", done, total))  # noqa: E731
            return embed_missing(texts, embedder, known, on_progress=on_progress)[0]

    progress(Progress("validate", 0, 1, "rasa data validate" if rasa else ""))
    report = run_checks(
        settings.data_dir,
        embed,
        margin=margin,
        similarity=settings.near_duplicate_similarity,
        rasa=settings if rasa else None,
    )
    progress(Progress("validate", 1, 1))
    return report


def train(settings: Settings, progress: ProgressCallback = ignore, force: bool = False) -> TrainResult:
    """Rebuild only what changed (FAQ index and/or Rasa model) and record the release.

    An FAQ-only edit rebuilds the index, re-embedding only new or changed variants (seconds); an
    NLU, rules, domain, config, texts or house-rules edit (or a change of the first
    ``RASA_FAQ_EXAMPLES_PER_TOPIC`` variants of a topic) retrains Rasa (minutes).
    """
    from bot.build import build_faq_index, ensure_embedding_model, rasa_fingerprint, train_rasa
    from bot.kb.model import KnowledgeBaseError, load_knowledge_base

    started = time.perf_counter()
    with _exclusive(settings.models_dir):
        ensure_embedding_model(settings)
        try:
            kb = load_knowledge_base(settings.faq_dir)
        except KnowledgeBaseError as exc:
            raise PipelineError(str(exc)) from exc
        manifest, index_built = build_faq_index(
            settings,
            force=force,
            progress=False,
            kb=kb,
            on_progress=lambda done, total: progress(Progress("index", done, total)),
        )
        t0 = time.perf_counter()
        progress(Progress("rasa", 0, 100, "checking"))
        try:
            model, trained = train_rasa(
                settings, force=force, kb=kb, on_percent=lambda pct: progress(Progress("rasa", pct, 100, "DIET"))
            )
        except RuntimeError as exc:
            raise PipelineError(str(exc)) from exc
        progress(Progress("rasa", 100, 100, "trained" if trained else "up to date"))
        rasa_seconds = time.perf_counter() - t0
        build_seconds = {
            "index": manifest.build_seconds if index_built else 0.0,
            "rasa": round(rasa_seconds, 2) if trained else 0.0,
        }
        release = _record(settings, manifest, model, rasa_fingerprint(settings, kb), build_seconds)
    return TrainResult(
        release=release,
        rasa_model=model,
        index_rebuilt=index_built,
        rasa_retrained=trained,
        index_embedded=(manifest.embedded or 0) if index_built else 0,
        seconds=round(time.perf_counter() - started, 2),
    )


def _record(
    settings: Settings, manifest, model: Path, rasa_fp: str, build_seconds: dict[str, float]
) -> releases.Release:
    """The release of this (index, model) pair: the existing one, or a new one after the latest."""
    models_dir = settings.models_dir
    rid = releases.release_id(manifest.version, rasa_fp)
    try:
        release = releases.load(models_dir, rid)
    except FileNotFoundError:
        previous = releases.latest_id(models_dir)
        release = releases.Release(
            id=rid,
            built_at=releases.now(),
            index_version=manifest.version,
            index_dir=str((settings.index_dir / manifest.version).relative_to(models_dir)),
            rasa_model=str(model.relative_to(models_dir)),
            fingerprints={"faq": manifest.kb_fingerprint, "rasa": rasa_fp, "embedding_model": manifest.model},
            build_seconds=build_seconds,
            previous=previous if previous != rid else None,
        )
        releases.save(models_dir, release)
    releases.set_latest(models_dir, rid)
    return release


def publish(settings: Settings, release_id: str | None = None, progress: ProgressCallback = ignore) -> PublishResult:
    """Swap the running stack to a release (the latest by default) without stopping it.

    The action server loads the index in the background and swaps it atomically
    (``POST /admin/reload``); then Rasa loads the model (``PUT /model``) and swaps its agent.
    Messages keep being answered throughout: by the old artifacts until each swap, then the new.
    """
    from bot.stack_clients import ActionAdminApi, RasaApi, StackError

    started = time.perf_counter()
    models_dir = settings.models_dir
    rid = release_id or releases.latest_id(models_dir)
    if rid is None:
        raise PipelineError("nothing to publish: run `bot train` first")
    try:
        release = releases.load(models_dir, rid)
    except FileNotFoundError as exc:
        raise PipelineError(str(exc)) from exc
    model = release.rasa_model_path(models_dir)
    if not model.exists():
        raise PipelineError(f"release {rid}: Rasa model {model} is missing")
    actions, rasa = ActionAdminApi(settings), RasaApi(settings)
    index_seconds = rasa_seconds = 0.0
    try:
        progress(Progress("publish:actions", 0, 1, f"index {release.index_version}"))
        index_swapped = actions.status().get("index_version") != release.index_version
        if index_swapped:
            t0 = time.perf_counter()
            actions.reload(release.index_version, timeout=settings.publish_timeout_s)
            index_seconds = time.perf_counter() - t0
        progress(Progress("publish:actions", 1, 1, "swapped" if index_swapped else "already live"))
        progress(Progress("publish:rasa", 0, 1, model.name))
        rasa_swapped = Path(str(rasa.status().get("model_file") or "")).name != model.name
        if rasa_swapped:
            t0 = time.perf_counter()
            rasa.load_model(str(model.resolve()), timeout=settings.publish_timeout_s)
            live = Path(str(rasa.status().get("model_file") or "")).name
            if live != model.name:
                raise PipelineError(f"Rasa reports model {live!r} after loading {model.name}")
            rasa_seconds = time.perf_counter() - t0
        progress(Progress("publish:rasa", 1, 1, "swapped" if rasa_swapped else "already live"))
    except StackError as exc:
        raise PipelineError(str(exc)) from exc
    releases.set_published(models_dir, rid)
    return PublishResult(
        release=rid,
        index_version=release.index_version,
        rasa_model=model.name,
        index_swapped=index_swapped,
        rasa_swapped=rasa_swapped,
        index_seconds=round(index_seconds, 2),
        rasa_seconds=round(rasa_seconds, 2),
        seconds=round(time.perf_counter() - started, 2),
    )
