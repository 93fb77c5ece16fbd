"""Canned replies for agents, per language, kept in ``data/canned/<lang>.yml`` (editable by admins/editors)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml
from fastapi import APIRouter, Depends
from pydantic import Field

from bot.language.names import SUPPORTED
from handoff.audit import record
from handoff.deps import Hub, current_agent, get_hub
from handoff.errors import HubError
from handoff.models import User
from handoff.validation import CleanText, RequestBody

router = APIRouter(prefix="/api/canned", tags=["agent"])

EDITING_ROLES = {"admin", "editor"}


class CannedReply(RequestBody):
    title: CleanText = Field(min_length=1, max_length=80)
    text: CleanText = Field(min_length=1, max_length=2000)


class CannedReplies(RequestBody):
    replies: list[CannedReply] = Field(max_length=100)


def canned_file(hub: Hub, language: str) -> Path:
    if language not in SUPPORTED:
        raise HubError(404, "unknown language", f"one of {', '.join(SUPPORTED)}")
    return hub.settings.canned_dir / f"{language}.yml"


def read_replies(path: Path) -> list[dict]:
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [{"title": str(r["title"]), "text": str(r["text"]).strip()} for r in data.get("replies") or []]


def write_replies(path: Path, language: str, replies: list[CannedReply]) -> None:
    """Write atomically (temp file + rename): an agent never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"language": language, "replies": [r.model_dump() for r in replies]}
    text = yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=100)
    handle, temp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temp, path)


@router.get("/{language}")
def list_replies(language: str, agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)) -> dict:
    return {"language": language, "replies": read_replies(canned_file(hub, language))}


@router.put("/{language}")
def replace_replies(
    language: str, body: CannedReplies, agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)
) -> dict:
    if agent.role not in EDITING_ROLES:
        raise HubError(403, "editors only", "canned replies are edited by an admin or an editor")
    path = canned_file(hub, language)
    write_replies(path, language, body.replies)
    hub.db.run(
        lambda s: record(s, agent.username, "canned_edit", language, replies=len(body.replies))
    )  # a worker thread
    return {"language": language, "replies": read_replies(path)}
