"""The demo agent that `make run` creates on an empty database, so the queue can be tried at once."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select

from bot.language.names import SUPPORTED
from bot.settings import Settings
from handoff.db import Database
from handoff.migrate import upgrade
from handoff.models import User
from handoff.security import hash_password


def ensure_demo_agent(settings: Settings) -> tuple[str, str] | None:
    """Create the demo agent when no user exists; return (user, password) only when created."""
    db = Database.from_settings(settings)
    try:
        upgrade(db.engine)
        if db.run(lambda s: s.scalar(select(func.count()).select_from(User)), write=False):
            return None
        password = settings.demo_agent_password or secrets.token_urlsafe(12)
        db.run(
            lambda session: session.add(
                User(
                    username=settings.demo_agent_user,
                    display_name="Demo Agent",
                    password_hash=hash_password(password),
                    role="admin",
                    languages=",".join(SUPPORTED),
                    max_chats=5,
                )
            )
        )
        return settings.demo_agent_user, password
    finally:
        db.dispose()
