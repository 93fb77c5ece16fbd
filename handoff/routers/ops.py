"""Operations: ``/healthz`` (database, Rasa, action server) and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from handoff.deps import Hub, get_hub
from handoff.models import STATES, Conversation, Message, Rating
from handoff.queue import as_utc

router = APIRouter(tags=["operations"])


@router.get("/livez")
def livez() -> dict:
    """The hub process answers (start-up probe); /healthz checks its dependencies."""
    return {"status": "ok"}


class Health(BaseModel):
    status: str  # ok | degraded
    checks: dict[str, str]  # database, rasa, action_server: ok | down


@router.get(
    "/healthz",
    responses={
        200: {"model": Health, "description": "the database, Rasa and the action server answer"},
        503: {"model": Health, "description": "degraded: the checks say what is down"},
    },
)
async def healthz(hub: Hub = Depends(get_hub)) -> JSONResponse:
    checks = {}
    try:
        await hub.db.read(lambda s: s.execute(text("SELECT 1")))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - report, never raise
        checks["database"] = "down"
    checks["rasa"] = "ok" if await hub.rasa.healthy() else "down"
    try:
        async with httpx.AsyncClient(timeout=3) as client:
            ok = (await client.get(f"{hub.settings.action_url}/health")).status_code == 200
    except httpx.HTTPError:
        ok = False
    checks["action_server"] = "ok" if ok else "down"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks}, status_code=200 if healthy else 503
    )


def histogram(name: str, values: list[float], bounds=(10, 30, 60, 120, 300, 600, 1800)) -> list[str]:
    lines = [f'{name}_bucket{{le="{b}"}} {sum(v <= b for v in values)}' for b in bounds]
    lines.append(f'{name}_bucket{{le="+Inf"}} {len(values)}')
    lines.append(f"{name}_sum {sum(values):.1f}")
    lines.append(f"{name}_count {len(values)}")
    return lines


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(hub: Hub = Depends(get_hub)) -> str:
    return await hub.db.read(metrics_text)


def metrics_text(session: Session) -> str:
    lines = ["# HELP hub_conversations Conversations by state.", "# TYPE hub_conversations gauge"]
    counts = dict(session.execute(select(Conversation.state, func.count()).group_by(Conversation.state)).all())
    lines += [f'hub_conversations{{state="{state}"}} {counts.get(state, 0)}' for state in STATES]
    lines += ["# HELP hub_handoffs_total Handoffs by reason and language.", "# TYPE hub_handoffs_total counter"]
    rows = session.execute(
        select(Conversation.handoff_reason, Conversation.language, func.count())
        .where(Conversation.queued_at.is_not(None))
        .group_by(Conversation.handoff_reason, Conversation.language)
    ).all()
    lines += [f'hub_handoffs_total{{reason="{r or "unknown"}",language="{lang}"}} {n}' for r, lang, n in rows]
    lines += ["# HELP hub_messages_total Stored messages by sender.", "# TYPE hub_messages_total counter"]
    for sender, n in session.execute(select(Message.sender, func.count()).group_by(Message.sender)).all():
        lines.append(f'hub_messages_total{{sender="{sender}"}} {n}')
    lines += ["# HELP hub_claim_wait_seconds Time from queued to claimed.", "# TYPE hub_claim_wait_seconds histogram"]
    waits = [
        (as_utc(c) - as_utc(q)).total_seconds()
        for q, c in session.execute(
            select(Conversation.queued_at, Conversation.claimed_at).where(Conversation.claimed_at.is_not(None))
        ).all()
        if q and c
    ]
    lines += histogram("hub_claim_wait_seconds", waits)
    lines += [
        "# HELP hub_first_response_seconds Time from claim to the agent's first message.",
        "# TYPE hub_first_response_seconds histogram",
    ]
    first_reply = (
        select(Message.conversation_id, func.min(Message.created_at).label("first"))
        .where(Message.sender == "agent", Message.internal.is_(False))
        .group_by(Message.conversation_id)
        .subquery()
    )
    responses = [
        (as_utc(first) - as_utc(claimed)).total_seconds()
        for claimed, first in session.execute(
            select(Conversation.claimed_at, first_reply.c.first).join(
                first_reply, first_reply.c.conversation_id == Conversation.id
            )
        ).all()
        if claimed and first
    ]
    lines += histogram("hub_first_response_seconds", responses)
    scores = session.execute(select(func.count(), func.avg(Rating.score))).one()
    lines += ["# HELP hub_csat CSAT ratings (1-5).", "# TYPE hub_csat gauge"]
    lines.append(f"hub_csat_count {scores[0]}")
    lines.append(f"hub_csat_average {float(scores[1] or 0):.3f}")
    return "\n".join(lines) + "\n"
