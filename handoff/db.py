"""Database engine and sessions. SQLite (WAL) by default, PostgreSQL when DATABASE_URL says so."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings

# Set for GET requests and WebSockets (ReadOnlyRequests in app.py): their transactions only read,
# so on SQLite they BEGIN DEFERRED and never wait for, nor hold, the write lock (WAL readers see
# the last committed state).
reading_only: ContextVar[bool] = ContextVar("reading_only", default=False)


def make_engine(settings: Settings) -> Engine:
    url = settings.hub_database_url
    if url.startswith("sqlite"):
        settings.hub_data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN itself
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin_immediate(connection) -> None:
            # Writers take the lock at BEGIN: read-then-write transactions (claims) cannot interleave.
            # So no transaction may stay open across a network call (see bot_turn).
            connection.exec_driver_sql("BEGIN" if reading_only.get() else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session


def releasing_transactions(endpoint: Callable) -> Callable:
    """Wrap an endpoint so its database transaction ends inside the endpoint, success or error.

    On SQLite the write lock is taken at BEGIN. A sync endpoint runs in a worker thread, but its
    session would otherwise only be closed by the dependency teardown, which the event loop
    schedules; if the loop is meanwhile blocked on BEGIN by another request, neither can move on
    (a deadlock until the busy timeout). Ending the transaction in the endpoint itself (a
    rollback after the endpoint's own commits is a no-op) keeps every lock holder independent of
    the loop. Async endpoints follow the same rule and also commit before every ``await``.
    """

    def end(values: dict) -> None:
        for value in values.values():
            if isinstance(value, Session):
                value.rollback()

    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def async_endpoint(**values):
            try:
                return await endpoint(**values)
            finally:
                end(values)

        return async_endpoint

    @functools.wraps(endpoint)
    def sync_endpoint(**values):
        try:
            return endpoint(**values)
        finally:
            end(values)

    return sync_endpoint


class ReadOnlyRequests:
    """ASGI middleware: mark GET/HEAD requests and WebSockets as reading only (see ``reading_only``)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        reads = scope["type"] == "websocket" or (scope["type"] == "http" and scope["method"] in ("GET", "HEAD"))
        if not reads:
            await self.app(scope, receive, send)
            return
        token = reading_only.set(True)
        try:
            await self.app(scope, receive, send)
        finally:
            reading_only.reset(token)
