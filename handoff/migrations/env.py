"""Alembic environment: the URL comes from the caller (handoff.migrate) or from the settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from handoff.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
if not url:
    from bot.settings import get_settings

    url = get_settings().hub_database_url


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
