"""The queue: position, estimated wait, enqueue (idempotent) and the atomic claim."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from handoff.models import Conversation, User, now

PRIORITY_ORDER = {"high": 0, "normal": 1}


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def position(session: Session, conversation: Conversation) -> int | None:
    """1-based place in its language queue: high priority first, then the longest waiting."""
    if conversation.state != "queued" or conversation.queued_at is None:
        return None
    ahead = (
        select(func.count())
        .select_from(Conversation)
        .where(
            Conversation.state == "queued",
            Conversation.language == conversation.language,
            Conversation.id != conversation.id,
            or_(
                and_(Conversation.priority == "high", conversation.priority != "high"),
                and_(Conversation.priority == conversation.priority, Conversation.queued_at < conversation.queued_at),
            ),
        )
    )
    return int(session.scalar(ahead) or 0) + 1


def typical_claim_delay_s(session: Session, language: str, default_s: int) -> float:
    """Median of the last claim delays in this language (``default_s`` without history)."""
    rows = session.execute(
        select(Conversation.queued_at, Conversation.claimed_at)
        .where(Conversation.language == language, Conversation.claimed_at.is_not(None))
        .order_by(Conversation.claimed_at.desc())
        .limit(50)
    ).all()
    delays = [(as_utc(c) - as_utc(q)).total_seconds() for q, c in rows if q and c]
    return max(statistics.median(delays) if delays else default_s, 5)


def estimated_wait_s(session: Session, language: str, place: int, default_s: int) -> int:
    """The typical claim delay in this language, times the place in the queue."""
    return int(round(typical_claim_delay_s(session, language, default_s) * place))


def places(session: Session, language: str, default_s: int) -> dict[str, tuple[int, int]]:
    """Every queued conversation of a language: id -> (place, estimated wait), in two queries."""
    ids = session.scalars(
        select(Conversation.id)
        .where(Conversation.state == "queued", Conversation.language == language)
        .order_by(case((Conversation.priority == "high", 0), else_=1), Conversation.queued_at, Conversation.id)
    ).all()
    delay = typical_claim_delay_s(session, language, default_s)
    return {cid: (place, int(round(delay * place))) for place, cid in enumerate(ids, start=1)}


def place_and_wait(session: Session, conversation: Conversation, default_s: int) -> tuple[int | None, int | None]:
    """(place in the queue, estimated wait in seconds), or (None, None) when not queued."""
    place = position(session, conversation)
    if place is None:
        return None, None
    return place, estimated_wait_s(session, conversation.language, place, default_s)


def agents_online(session: Session, language: str | None = None, ttl_s: float = 90.0) -> int:
    """Agents marked online whose console sent a heartbeat within ``ttl_s`` (a closed tab or a lost
    connection stops the heartbeat: the player gets the ticket form, not a queue nobody watches)."""
    fresh = now() - timedelta(seconds=ttl_s)
    agents = session.scalars(
        select(User).where(User.presence == "online", User.role.in_(("agent", "admin")), User.last_seen_at >= fresh)
    ).all()
    return sum(1 for a in agents if language is None or language in a.language_list)


def enqueue(session: Session, conversation: Conversation, reason: str, priority: str, suggestions: list) -> None:
    if conversation.state in ("queued", "agent"):
        return  # idempotent: a second handoff request changes nothing
    conversation.state = "queued"
    conversation.handoff_reason = reason
    conversation.priority = priority
    conversation.suggestions = suggestions
    conversation.queued_at = now()
    conversation.agent_id = None
    conversation.claimed_at = None


def active_chats(session: Session, agent_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.agent_id == agent_id, Conversation.state == "agent")
        )
        or 0
    )


def claim(session: Session, conversation_id: str, agent: User) -> str:
    """Atomically give a queued conversation to ``agent``: 'ok', 'taken', 'busy' or 'missing'.

    One UPDATE … WHERE state = 'queued': whichever transaction commits first wins, on SQLite
    (BEGIN IMMEDIATE serialises writers) and PostgreSQL (row lock, re-checked predicate) alike.
    """
    if active_chats(session, agent.id) >= agent.max_chats:
        return "busy"
    result = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.state == "queued")
        .values(state="agent", agent_id=agent.id, claimed_at=now(), updated_at=now())
    )
    if result.rowcount == 1:
        return "ok"
    exists = session.get(Conversation, conversation_id)
    return "taken" if exists is not None else "missing"
