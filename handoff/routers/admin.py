"""The admin API: the audit log, and a player's data (export, erasure) under GDPR."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.audit import ACTIONS, record
from handoff.deps import Hub, current_agent, get_hub
from handoff.errors import HubError
from handoff.models import AuditEvent, User
from handoff.rasa_client import RasaUnavailable
from handoff.retention import conversation_ids, erase, hub_export
from handoff.validation import MAX_ID


def current_admin(agent: User = Depends(current_agent)) -> User:
    if agent.role != "admin":
        raise HubError(403, "admins only", "this needs the admin role")
    return agent


router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[Depends(current_admin)])

PlayerRef = Path(min_length=1, max_length=128)
ConversationId = Path(min_length=1, max_length=64)


@router.get("/audit")
async def audit_log(
    action: str | None = Query(None, max_length=32),
    before: int = Query(MAX_ID, ge=1, le=MAX_ID, description="events with a smaller id (paging)"),
    limit: int = Query(100, ge=1, le=1000),
    hub: Hub = Depends(get_hub),
) -> dict:
    if action is not None and action not in ACTIONS:
        raise HubError(422, "unknown action", f"one of {', '.join(ACTIONS)}")

    def read(session: Session) -> list[AuditEvent]:
        statement = select(AuditEvent).where(AuditEvent.id < before)
        if action:
            statement = statement.where(AuditEvent.action == action)
        return session.scalars(statement.order_by(AuditEvent.id.desc()).limit(limit)).all()

    rows = await hub.db.read(read)
    return {
        "items": [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "detail": e.detail or {},
                "address": e.address,
            }
            for e in rows
        ]
    }


async def export(hub: Hub, admin: User, ids: list[str], target: str) -> dict:
    if not ids:
        raise HubError(404, "nothing stored", "no conversation matches")

    def read(session: Session) -> list[dict]:
        data = hub_export(session, ids)
        record(session, admin.username, "export", target, conversations=len(ids))
        return data

    conversations = await hub.db.write(read)
    for item in conversations:
        try:
            item["rasa_tracker"] = await hub.rasa.tracker(item["conversation_id"])
        except RasaUnavailable:
            item["rasa_tracker"] = None
    return {"conversations": conversations}


@router.get("/players/{player_ref}/export")
async def export_player(
    player_ref: str = PlayerRef, admin: User = Depends(current_admin), hub: Hub = Depends(get_hub)
) -> dict:
    """Everything the hub and Rasa hold about one player (the casino's player reference)."""
    ids = await hub.db.read(lambda s: conversation_ids(s, player_ref=player_ref))
    return await export(hub, admin, ids, f"player:{player_ref}")


@router.get("/conversations/{conversation_id}/export")
async def export_conversation(
    conversation_id: str = ConversationId, admin: User = Depends(current_admin), hub: Hub = Depends(get_hub)
) -> dict:
    ids = await hub.db.read(lambda s: conversation_ids(s, conversation_id=conversation_id))
    return await export(hub, admin, ids, conversation_id)


@router.delete("/players/{player_ref}")
async def erase_player(
    player_ref: str = PlayerRef, admin: User = Depends(current_admin), hub: Hub = Depends(get_hub)
) -> dict:
    """Erase one player's conversations in the hub and in Rasa (GDPR erasure)."""
    ids = await hub.db.read(lambda s: conversation_ids(s, player_ref=player_ref))
    if not ids:
        raise HubError(404, "nothing stored", "no conversation matches")
    return await erase(hub, ids, admin.username, "erasure", f"player:{player_ref}")


@router.delete("/conversations/{conversation_id}")
async def erase_conversation(
    conversation_id: str = ConversationId, admin: User = Depends(current_admin), hub: Hub = Depends(get_hub)
) -> dict:
    ids = await hub.db.read(lambda s: conversation_ids(s, conversation_id=conversation_id))
    if not ids:
        raise HubError(404, "nothing stored", "no conversation matches")
    return await erase(hub, ids, admin.username, "erasure", conversation_id)
