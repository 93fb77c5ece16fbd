"""The editor's API (role ``editor`` or ``admin``): FAQ topics side by side in five languages,
saving back to ``data/faq`` after validation, train + publish with progress, the review inbox of
what the bot did not answer well, and the missing-translation report."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path as FilePath
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Path
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.kb.editing import language_file, with_topic_text, with_variant, write_atomically
from bot.kb.model import LANGUAGES, KnowledgeBaseError, load_knowledge_base
from handoff.audit import record
from handoff.deps import Hub, current_agent, get_hub
from handoff.errors import HubError
from handoff.models import Message, User
from handoff.validation import MAX_ID, CleanText, RequestBody

EDITOR_ROLES = {"editor", "admin"}
REVIEW_LIMIT = 3000  # most recent bot turns looked at by the review inbox
_save_lock = threading.Lock()


def current_editor(agent: User = Depends(current_agent)) -> User:
    if agent.role not in EDITOR_ROLES:
        raise HubError(403, "editors only", "this needs the editor or admin role")
    return agent


router = APIRouter(prefix="/api/editor", tags=["editor"], dependencies=[Depends(current_editor)])


class TopicText(RequestBody):
    title: CleanText = Field(min_length=1, max_length=120)
    answer: CleanText = Field(min_length=1, max_length=4000)
    questions: list[Annotated[CleanText, Field(min_length=1, max_length=500)]] = Field(min_length=1, max_length=200)


class ReviewDecision(RequestBody):
    action: str = Field(pattern="^(add|dismiss)$")
    faq_id: str | None = Field(None, max_length=64)


# ---------- topics ----------


@router.get("/topics")
def topics(hub: Hub = Depends(get_hub)) -> dict:
    kb = load_knowledge_base(hub.settings.faq_dir)
    return {
        "languages": list(LANGUAGES),
        "items": [
            {
                "id": topic.id,
                "handling": topic.handling,
                "titles": {lang: text.title for lang, text in topic.texts.items()},
                "variants": {lang: len(text.questions) for lang, text in topic.texts.items()},
                "missing": [lang for lang in LANGUAGES if lang not in topic.texts],
            }
            for topic in kb.topics.values()
        ],
    }


@router.get("/topics/{topic_id}")
def topic(topic_id: str = Path(max_length=64), hub: Hub = Depends(get_hub)) -> dict:
    kb = load_knowledge_base(hub.settings.faq_dir)
    if topic_id not in kb.topics:
        raise HubError(404, "unknown topic")
    item = kb.topics[topic_id]
    return {
        "id": item.id,
        "handling": item.handling,
        "facts": item.facts,
        "languages": {
            lang: (
                {"title": t.title, "answer": t.answer, "questions": t.questions}
                if (t := item.texts.get(lang))
                else None
            )
            for lang in LANGUAGES
        },
    }


def validated_save(hub: Hub, language: str, new_text: str) -> None:
    """Check the edit on a scratch copy of data/ first; write the real file only when it passes."""
    from bot.pipeline import validate

    with _save_lock, tempfile.TemporaryDirectory(prefix="editor-") as scratch:
        data = FilePath(scratch) / "data"
        shutil.copytree(hub.settings.data_dir, data)
        write_atomically(language_file(data / "faq", language), new_text)
        try:
            report = validate(hub.settings.model_copy(update={"data_dir": data}), embeddings=False, rasa=False)
        except KnowledgeBaseError as exc:
            raise HubError(422, "validation failed", str(exc).replace(str(data), "data")) from exc
        if report.errors:
            raise HubError(422, "validation failed", "; ".join(e.replace(str(data), "data") for e in report.errors))
        write_atomically(language_file(hub.settings.faq_dir, language), new_text)


@router.put("/topics/{topic_id}/{language}")
def save_topic(
    body: TopicText,
    topic_id: str = Path(max_length=64),
    language: str = Path(max_length=8),
    editor: User = Depends(current_editor),
    hub: Hub = Depends(get_hub),
) -> dict:
    if language not in LANGUAGES:
        raise HubError(404, "unknown language")
    if topic_id not in load_knowledge_base(hub.settings.faq_dir).topics:
        raise HubError(404, "unknown topic")
    path = language_file(hub.settings.faq_dir, language)
    validated_save(hub, language, with_topic_text(path, topic_id, body.title, body.answer, body.questions))
    hub.db.run(lambda s: record(s, editor.username, "kb_edit", f"{topic_id}/{language}"))  # a worker thread
    return topic(topic_id, hub)


# ---------- train + publish ----------


@dataclass
class PublishJob:
    id: str
    by: str
    state: str = "running"  # running | done | failed
    events: list[dict] = field(default_factory=list)
    result: dict | None = None
    error: str | None = None
    started: float = field(default_factory=time.time)


_jobs: dict[str, PublishJob] = {}


def run_publish(hub: Hub, job: PublishJob) -> None:
    from bot.pipeline import PipelineError, publish, train

    def progress(event) -> None:
        job.events.append({k: v for k, v in asdict(event).items()})
        del job.events[:-50]

    try:
        trained = train(hub.settings, progress=progress)
        published = publish(hub.settings, progress=progress)
        hub.kb = load_knowledge_base(hub.settings.faq_dir)  # agents' suggestions show the new texts
        progress_eval = evaluate_live(hub, trained.release.id, progress)
        job.result = {
            "release": trained.release.id,
            "index_rebuilt": trained.index_rebuilt,
            "rasa_retrained": trained.rasa_retrained,
            "index_swapped": published.index_swapped,
            "rasa_swapped": published.rasa_swapped,
            "seconds": round(trained.seconds + published.seconds, 1),
            "eval": progress_eval,
        }
        job.state = "done"
    except (PipelineError, KnowledgeBaseError, OSError) as exc:
        job.error, job.state = str(exc), "failed"


def evaluate_live(hub: Hub, release_id: str, progress) -> dict | None:
    """The held-out half of the dev set through the now-live bot, stored with the release and
    compared with the previous evaluated release (drops over EVAL_DROP_WARN_POINTS are warnings)."""
    from bot.evaluation.cli import store_and_report
    from bot.evaluation.dataset import DatasetError, load_cases
    from bot.evaluation.report import summarize
    from bot.evaluation.runner import run_cases
    from bot.progress import Progress

    settings = hub.settings
    dev_set = settings.data_dir / "eval" / "dev.tsv"
    if not settings.editor_publish_eval or not dev_set.exists():
        return None
    try:
        cases = [c for c in load_cases(dev_set, set(hub.kb.topics)) if c.split == "holdout"]
    except DatasetError as exc:
        return {"error": str(exc)}
    progress(Progress("eval", 0, len(cases), "held-out dev set through the live bot"))
    started = time.perf_counter()
    summary = summarize(run_cases(settings.rasa_url, cases, token=settings.rasa_token))
    summary.update(file=str(dev_set.relative_to(settings.data_dir.parent)), split="holdout")
    summary["seconds"] = round(time.perf_counter() - started, 1)
    notes = store_and_report(settings, release_id, summary)
    progress(Progress("eval", len(cases), len(cases), "done"))
    return {
        "faq_top1": {lang: row["faq_top1"] for lang, row in summary["per_language"].items()},
        "overall": summary["overall"],
        "warnings": [n for n in notes if n.startswith("WARNING")],
        "notes": [n for n in notes if not n.startswith("WARNING")],
    }


@router.post("/publish", status_code=202)
def start_publish(editor: User = Depends(current_editor), hub: Hub = Depends(get_hub)) -> dict:
    if any(job.state == "running" for job in _jobs.values()):
        raise HubError(409, "a publish is running", "wait for it to finish")
    job = PublishJob(id=uuid.uuid4().hex[:12], by=editor.username)
    _jobs[job.id] = job
    hub.db.run(lambda s: record(s, editor.username, "publish", job.id))
    threading.Thread(target=run_publish, args=(hub, job), name=f"publish-{job.id}", daemon=True).start()
    return {"job": job.id}


@router.get("/publish/{job_id}")
def publish_status(job_id: str = Path(max_length=32)) -> dict:
    job = _jobs.get(job_id)
    if job is None:
        raise HubError(404, "unknown job")
    return {
        "job": job.id,
        "state": job.state,
        "events": job.events[-10:],
        "result": job.result,
        "error": job.error,
        "seconds": round(time.time() - job.started, 1),
    }


# ---------- review inbox and missing translations ----------


def needs_review(meta: dict, answer_probability: float) -> str | None:
    outcome = meta.get("outcome")
    if meta.get("handoff") and meta["handoff"].get("reason") in ("low_confidence", "repeated_fallback"):
        return "escalated"
    if outcome in ("clarify", "fallback"):
        return {"clarify": "clarified", "fallback": "fell back"}[outcome]
    # An answer given just over the threshold (faq_score is the topic's probability).
    if outcome == "answer" and (meta.get("faq_score") or 1.0) < answer_probability + (1 - answer_probability) / 2:
        return "low confidence"
    return None


def cluster(texts: list[str], hub: Hub) -> list[int]:
    """Group questions that mean the same (e5 embeddings, greedy, cosine >= 0.9)."""
    if len(texts) < 2:
        return [0] * len(texts)
    from bot.embedding.model import load_embedder

    embedder = load_embedder(hub.settings.embedding_model, hub.settings.embedding_prefix)  # cached per process
    vectors = embedder.encode(texts)
    leaders: list[int] = []
    labels = []
    for i, vector in enumerate(vectors):
        best = next((n for n, leader in enumerate(leaders) if float(vector @ vectors[leader]) >= 0.9), None)
        if best is None:
            leaders.append(i)
            best = len(leaders) - 1
        labels.append(best)
    return labels


def review_items(session: Session, answer_probability: float) -> list[dict]:
    bot_turns = session.scalars(
        select(Message).where(Message.sender == "bot").order_by(Message.id.desc()).limit(REVIEW_LIMIT)
    ).all()
    agent_topics = {
        m.conversation_id: m.meta.get("faq_id")
        for m in session.scalars(select(Message).where(Message.sender == "agent")).all()
        if (m.meta or {}).get("faq_id")
    }
    items = []
    for turn in bot_turns:
        reason = needs_review(turn.meta or {}, answer_probability)
        if not reason:
            continue
        asked = session.scalar(
            select(Message)
            .where(Message.conversation_id == turn.conversation_id, Message.sender == "player", Message.id < turn.id)
            .order_by(Message.id.desc())
            .limit(1)
        )
        if asked is None or asked.text.startswith("/") or (asked.meta or {}).get("review"):
            continue
        items.append(
            {
                "message_id": asked.id,
                "text": asked.text,
                "language": (turn.meta or {}).get("language") or "en",
                "reason": reason,
                "bot_topic": (turn.meta or {}).get("faq_id"),
                "suggestions": [s.get("faq_id") for s in (turn.meta or {}).get("suggestions") or []][:3],
                "agent_topic": agent_topics.get(turn.conversation_id),
            }
        )
    return items


@router.get("/review")
async def review_inbox(hub: Hub = Depends(get_hub)) -> dict:
    items = await hub.db.read(lambda s: review_items(s, hub.settings.faq_answer_probability))
    return await anyio.to_thread.run_sync(grouped_review, items, hub)


def grouped_review(items: list[dict], hub: Hub) -> dict:
    groups = []
    by_language: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        by_language[item["language"]].append(item)
    for language, rows in sorted(by_language.items()):
        labels = cluster([r["text"] for r in rows], hub)
        clusters: dict[int, list[dict]] = defaultdict(list)
        for label, row in zip(labels, rows, strict=True):
            clusters[label].append(row)
        ordered = sorted(clusters.values(), key=len, reverse=True)
        groups.append({"language": language, "clusters": [{"count": len(c), "items": c} for c in ordered]})
    return {"groups": groups, "total": len(items)}


def reviewed_question(session: Session, message_id: int) -> tuple[Message, str]:
    """The player's question and the language the bot answered it in."""
    message = session.get(Message, message_id)
    if message is None or message.sender != "player":
        raise HubError(404, "unknown message")
    language = next(
        (
            (m.meta or {}).get("language")
            for m in session.scalars(
                select(Message)
                .where(Message.conversation_id == message.conversation_id, Message.id > message.id)
                .order_by(Message.id)
                .limit(3)
            )
            if (m.meta or {}).get("language")
        ),
        "en",
    )
    return message, language


@router.post("/review/{message_id}")
async def decide(
    body: ReviewDecision,
    message_id: int = Path(ge=1, le=MAX_ID),
    editor: User = Depends(current_editor),
    hub: Hub = Depends(get_hub),
) -> dict:
    message, language = await hub.db.read(lambda s: reviewed_question(s, message_id))
    if body.action == "add":
        if body.faq_id not in load_knowledge_base(hub.settings.faq_dir).topics:
            raise HubError(422, "choose a topic", "faq_id must be one of the topics")
        path = language_file(hub.settings.faq_dir, language)
        try:
            await anyio.to_thread.run_sync(
                lambda: validated_save(hub, language, with_variant(path, body.faq_id, message.text))
            )
        except KnowledgeBaseError as exc:
            raise HubError(422, "cannot add", str(exc)) from exc

    def mark(session: Session) -> None:
        row = session.get(Message, message_id)
        review = {"action": body.action, "faq_id": body.faq_id, "by": editor.username}
        row.meta = {**(row.meta or {}), "review": review}
        record(session, editor.username, "review", str(message_id), decision=body.action, faq_id=body.faq_id)

    await hub.db.write(mark)
    return {"ok": True, "language": language}


@router.get("/missing-translations")
async def missing_translations(hub: Hub = Depends(get_hub)) -> dict:
    kb = load_knowledge_base(hub.settings.faq_dir)
    metas = await hub.db.read(lambda s: s.scalars(select(Message.meta).where(Message.sender == "bot")).all())
    asks: Counter[tuple[str, str]] = Counter()
    for meta in metas:
        if meta and meta.get("faq_id") and meta.get("language"):
            asks[(meta["faq_id"], meta["language"])] += 1
    rows = [
        {"faq_id": topic.id, "language": lang, "asks": asks[(topic.id, lang)], "title_en": kb.title(topic.id, "en")}
        for topic in kb.topics.values()
        for lang in LANGUAGES
        if lang not in topic.texts
    ]
    rows.sort(key=lambda r: (-r["asks"], r["faq_id"], r["language"]))
    return {"items": rows}
