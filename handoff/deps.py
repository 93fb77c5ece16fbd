"""FastAPI dependencies: the hub's shared objects, a database session, the current player/agent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from bot.kb.model import KnowledgeBase
from bot.kb.texts import BotTexts
from bot.settings import Settings
from handoff.db import Database
from handoff.errors import HubError
from handoff.limits import SlidingWindow
from handoff.models import AgentToken, Conversation, User, now
from handoff.rasa_client import RasaClient
from handoff.realtime import Broadcaster
from handoff.security import token_hash, tokens_match

if TYPE_CHECKING:
    from handoff.outbox import OutboxWorker

logger = logging.getLogger(__name__)


@dataclass
class Hub:
    settings: Settings
    db: Database
    broadcaster: Broadcaster
    rasa: RasaClient
    kb: KnowledgeBase
    texts: BotTexts  # data/texts/hub: what the hub itself says
    bot_texts: BotTexts  # data/texts: the bot's texts, for when the bot is down
    conversation_starts: SlidingWindow = field(default_factory=lambda: SlidingWindow(20))
    outbox_worker: OutboxWorker | None = None  # started with the app (handoff/app.py)
    tasks: set[asyncio.Task] = field(default_factory=set)

    def background(self, work: Coroutine) -> None:
        """Run ``work`` after the response, keeping a reference until it ends and logging its failure."""
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task failed", exc_info=task.exception())

    def mail_ticket(self, session: Session, ticket, language: str, text: str) -> None:
        """Queue the ticket's mails (the player's confirmation, the support inbox's copy) in the
        caller's unit of work: stored with the ticket, before the player is answered."""
        from handoff.outbox import queue_mail, ticket_mails

        for kind, recipient, subject, body in ticket_mails(
            self.texts,
            self.kb,
            language,
            ticket.id,
            ticket.email,
            ticket.text,
            ticket.conversation_id,
            support_inbox=self.settings.support_inbox,
        ):
            queue_mail(session, kind, recipient, subject, body)

    def outbox_nudge(self) -> None:
        if self.outbox_worker is not None:
            self.outbox_worker.nudge()

    def say(self, key: str, language: str, **values: object) -> str:
        rules = self.kb.rules_for(language)
        return self.texts.text(key, language).format_map({**rules, **{k: str(v) for k, v in values.items()}})


def get_hub(request: Request) -> Hub:
    return request.app.state.hub


def client_address(request: Request) -> str:
    """The client's address as the hub sees it (behind a proxy: uvicorn's --forwarded-allow-ips)."""
    return request.client.host if request.client else "unknown"


def bearer(authorization: str | None) -> str:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HubError(401, "missing token", "send Authorization: Bearer <token>")
    return authorization[7:].strip()


def player_conversation(conversation_id: str, token: str, session: Session) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    # Same answer for "no such conversation" and "wrong token": nothing to learn by probing ids.
    if conversation is None or not tokens_match(token, conversation.token_hash):
        raise HubError(403, "forbidden", "this token does not open this conversation")
    return conversation


async def current_conversation(
    conversation_id: str, authorization: str | None = Header(None), hub: Hub = Depends(get_hub)
) -> Conversation:
    """The conversation the player's bearer token opens (a detached snapshot; writes re-read it)."""
    token = bearer(authorization)
    return await hub.db.read(lambda session: player_conversation(conversation_id, token, session))


def agent_for_token(token: str, session: Session) -> User:
    row = session.get(AgentToken, token_hash(token))
    if row is None or row.expires_at.replace(tzinfo=row.expires_at.tzinfo or UTC) < now():
        raise HubError(401, "invalid or expired token", "log in again")
    return row.user


async def current_agent(authorization: str | None = Header(None), hub: Hub = Depends(get_hub)) -> User:
    token = bearer(authorization)
    return await hub.db.read(lambda session: agent_for_token(token, session))


def require_service(authorization: str | None = Header(None), hub: Hub = Depends(get_hub)) -> None:
    if not tokens_match(bearer(authorization), token_hash(hub.settings.handoff_service_token)):
        raise HubError(403, "forbidden", "wrong service token")
