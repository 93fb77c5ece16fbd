"""FastAPI dependencies: the hub's shared objects, a database session, the current player/agent."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session, sessionmaker

from bot.kb.model import KnowledgeBase
from bot.kb.texts import BotTexts
from bot.settings import Settings
from handoff.errors import HubError
from handoff.models import AgentToken, Conversation, User, now
from handoff.rasa_client import RasaClient
from handoff.realtime import Broadcaster
from handoff.security import token_hash, tokens_match


@dataclass
class Hub:
    settings: Settings
    sessions: sessionmaker[Session]
    broadcaster: Broadcaster
    rasa: RasaClient
    kb: KnowledgeBase
    texts: BotTexts  # data/texts/hub: what the hub itself says
    bot_texts: BotTexts  # data/texts: the bot's texts, for when the bot is down

    def outbox(self, note: str) -> None:
        """Where mail to players would go; a pluggable sender replaces this log line."""
        import logging

        logging.getLogger("handoff.outbox").info("outbox: %s", note)

    def say(self, key: str, language: str, **values: object) -> str:
        rules = self.kb.rules_for(language)
        return self.texts.text(key, language).format_map({**rules, **{k: str(v) for k, v in values.items()}})


# SQLite writers take the lock at BEGIN (handoff/db.py). Dependencies run in worker threads and
# endpoints on the event loop, so a transaction opened in a dependency, or left open across an
# ``await``, would hold the lock while its release waits for the loop: every other request that
# touches the database on the loop would then block the loop itself. Hence the rule: commit
# before handing over (dependencies) and before every ``await`` (async endpoints).


def get_hub(request: Request) -> Hub:
    return request.app.state.hub


def get_session(hub: Hub = Depends(get_hub)) -> Iterator[Session]:
    with hub.sessions() as session:
        yield session


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


def current_conversation(
    conversation_id: str, authorization: str | None = Header(None), session: Session = Depends(get_session)
) -> Conversation:
    conversation = player_conversation(conversation_id, bearer(authorization), session)
    session.commit()  # see end_transaction
    return conversation


def agent_for_token(token: str, session: Session) -> User:
    row = session.get(AgentToken, token_hash(token))
    if row is None or row.expires_at.replace(tzinfo=row.expires_at.tzinfo or UTC) < now():
        raise HubError(401, "invalid or expired token", "log in again")
    return row.user


def current_agent(authorization: str | None = Header(None), session: Session = Depends(get_session)) -> User:
    agent = agent_for_token(bearer(authorization), session)
    session.commit()  # see end_transaction
    return agent


def require_service(authorization: str | None = Header(None), hub: Hub = Depends(get_hub)) -> None:
    if not tokens_match(bearer(authorization), token_hash(hub.settings.handoff_service_token)):
        raise HubError(403, "forbidden", "wrong service token")
