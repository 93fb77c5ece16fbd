"""Players' data: export, erasure, and the retention period (GDPR).

An admin can export everything the hub and Rasa hold about one player (by the casino's player
reference, or one conversation) and erase it: the hub's rows go (messages, tickets, ratings,
with the conversations) and Rasa's tracker is emptied. Conversations older than
``RETENTION_DAYS`` are purged the same way by a periodic job, and so are the outbox's mails about
them (and any mail older than that). Every export, erasure and purge is in the audit log (which
keeps who and when, never the content). Without SMTP the outbox also writes mails to
``<LOG_DIR>/outbox.log``: rotate that file within the retention period like any other log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from handoff.audit import record
from handoff.models import Conversation, Message, OutboxMail, Rating, Ticket, now
from handoff.rasa_client import RasaUnavailable
from handoff.serialize import message_out

logger = logging.getLogger(__name__)


def conversation_ids(session: Session, player_ref: str | None = None, conversation_id: str | None = None) -> list[str]:
    statement = select(Conversation.id)
    if player_ref is not None:
        statement = statement.where(Conversation.player_ref == player_ref)
    if conversation_id is not None:
        statement = statement.where(Conversation.id == conversation_id)
    return list(session.scalars(statement.order_by(Conversation.created_at)).all())


def hub_export(session: Session, ids: list[str]) -> list[dict]:
    out = []
    for cid in ids:
        conversation = session.get(Conversation, cid)
        messages = session.scalars(select(Message).where(Message.conversation_id == cid).order_by(Message.id)).all()
        tickets = session.scalars(select(Ticket).where(Ticket.conversation_id == cid)).all()
        rating = session.get(Rating, cid)
        out.append(
            {
                "conversation_id": cid,
                "player_ref": conversation.player_ref,
                "created_at": conversation.created_at.isoformat(),
                "language": conversation.language,
                "state": conversation.state,
                "messages": [message_out(m, for_agent=True, with_original=True) for m in messages],
                "tickets": [
                    {"email": t.email, "text": t.text, "created_at": t.created_at.isoformat()} for t in tickets
                ],
                "rating": {"score": rating.score, "comment": rating.comment} if rating else None,
            }
        )
    return out


def erase_rows(session: Session, ids: list[str]) -> int:
    if not ids:
        return 0
    # The mails about these conversations: the player's confirmations (by address) and the support
    # inbox's copies (they name the conversation).
    emails = set(session.scalars(select(Ticket.email).where(Ticket.conversation_id.in_(ids))).all())
    mails = [OutboxMail.recipient.in_(emails)] if emails else []
    mails += [OutboxMail.body.contains(cid) for cid in ids]
    session.execute(delete(OutboxMail).where(or_(*mails)))
    for table in (Message, Ticket, Rating):
        session.execute(delete(table).where(table.conversation_id.in_(ids)))
    session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
    return len(ids)


async def erase(hub, ids: list[str], actor: str, reason: str, target: str | None = None) -> dict:
    """Erase conversations in the hub and in Rasa; returns what was done (and what Rasa missed)."""
    rasa_missed = []
    for cid in ids:
        try:
            await hub.rasa.erase(cid)
        except RasaUnavailable:
            rasa_missed.append(cid)

    def remove(session: Session) -> int:
        count = erase_rows(session, ids)
        record(session, actor, reason, target, conversations=count, rasa_missed=len(rasa_missed))
        return count

    count = await hub.db.write(remove)
    return {"conversations": count, "rasa_not_reached": rasa_missed}


def expired(session: Session, days: int, limit: int = 500) -> list[str]:
    """Conversations with no change and no message within the last ``days``."""
    cutoff = now() - timedelta(days=days)
    recent = select(Message.id).where(Message.conversation_id == Conversation.id, Message.created_at >= cutoff)
    return list(
        session.scalars(
            select(Conversation.id).where(Conversation.updated_at < cutoff, ~recent.exists()).limit(limit)
        ).all()
    )


class RetentionJob:
    """Purges conversations older than the retention period, every ``RETENTION_INTERVAL_S``."""

    def __init__(self, hub) -> None:
        self.hub = hub
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def purge_once(self) -> int:
        cutoff = now() - timedelta(days=self.hub.settings.retention_days)
        await self.hub.db.write(lambda s: s.execute(delete(OutboxMail).where(OutboxMail.created_at < cutoff)))
        total = 0
        while ids := await self.hub.db.read(lambda s: expired(s, self.hub.settings.retention_days)):
            total += (await erase(self.hub, ids, "system", "retention_purge"))["conversations"]
        return total

    async def _run(self) -> None:
        while True:
            try:
                purged = await self.purge_once()
                if purged:
                    days = self.hub.settings.retention_days
                    logger.info("retention: purged %d conversations older than %d days", purged, days)
            except Exception:  # noqa: BLE001 - a failed round is logged and retried next time
                logger.exception("retention purge failed")
            await asyncio.sleep(self.hub.settings.retention_interval_s)
