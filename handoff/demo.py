"""The demo agent that `make run` creates on an empty database, so the queue can be tried at once."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select

from bot.language.names import SUPPORTED
from bot.settings import Settings
from handoff.db import make_engine, make_session_factory
from handoff.migrate import upgrade
from handoff.models import User
from handoff.security import hash_password


def ensure_demo_agent(settings: Settings) -> tuple[str, str] | None:
    """Create the demo agent when no user exists; return (user, password) only when created."""
    engine = make_engine(settings)
    try:
        upgrade(engine)
        with make_session_factory(engine)() as session:
            if session.scalar(select(func.count()).select_from(User)):
                return None
            password = settings.demo_agent_password or secrets.token_urlsafe(12)
            session.add(
                User(
                    username=settings.demo_agent_user,
                    display_name="Demo Agent",
                    password_hash=hash_password(password),
                    role="admin",
                    languages=",".join(SUPPORTED),
                    max_chats=5,
                )
            )
            session.commit()
            return settings.demo_agent_user, password
    finally:
        engine.dispose()
