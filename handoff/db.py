"""The hub's database: units of work that always end, run off the event loop.

SQLite (WAL) by default, PostgreSQL when DATABASE_URL says so.

Every use of the database is one *unit of work*: a synchronous function that receives a
``Session`` and runs in a worker thread inside one transaction, committed when it returns and
rolled back when it raises, whatever the route around it does::

    conversation = await hub.db.write(lambda session: accept_message(session, ...))

The structure is the safety (issue: ten parallel requests froze the hub): a unit of work cannot
span an ``await`` (it is plain synchronous code), so no transaction is ever held across a call to
Rasa or a WebSocket send, and a thread waiting for SQLite's write lock never blocks the event loop.
Routers get no ``Session`` at all; ``Database`` is the only way in.

On SQLite, writers take the lock at ``BEGIN IMMEDIATE`` (read-then-write units such as a claim
cannot interleave); the hub queues its own writers on an async limiter of one, so they wait on the
event loop without holding a thread, and readers (``BEGIN`` deferred) never wait for writers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import nullcontext
from contextvars import ContextVar
from typing import TypeVar

import anyio
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings

T = TypeVar("T")

# Set while a read-only unit of work runs: on SQLite it begins DEFERRED and never takes the write lock.
_reading_only: ContextVar[bool] = ContextVar("reading_only", default=False)

SQLITE_BUSY_TIMEOUT_S = 30  # only another process (the CLI) can hold the lock that long
READ_THREADS = 16


def make_engine(settings: Settings) -> Engine:
    url = settings.hub_database_url
    if url.startswith("sqlite"):
        settings.hub_data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN itself
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection) -> None:
            connection.exec_driver_sql("BEGIN" if _reading_only.get() else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """Units of work on one engine: ``await read(fn)``, ``await write(fn)``, or ``run(fn)`` from a thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # Synchronous callers (background threads) and the async limiter share one writer lock.
        self._writer = threading.Lock() if self.is_sqlite else None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._read_limiter: anyio.CapacityLimiter | None = None
        self._write_limiter: anyio.CapacityLimiter | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(make_engine(settings))

    def _limiters(self) -> tuple[anyio.CapacityLimiter, anyio.CapacityLimiter]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # one set per event loop (tests start several)
            self._loop = loop
            self._read_limiter = anyio.CapacityLimiter(READ_THREADS)
            self._write_limiter = anyio.CapacityLimiter(1 if self.is_sqlite else 24)
        return self._read_limiter, self._write_limiter

    async def read(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a worker thread in a read-only transaction."""
        limiter = self._limiters()[0]
        return await anyio.to_thread.run_sync(self.run, work, False, limiter=limiter)

    async def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a worker thread in one transaction: committed on return, rolled back on error."""
        limiter = self._limiters()[1]
        return await anyio.to_thread.run_sync(self.run, work, True, limiter=limiter)

    def run(self, work: Callable[[Session], T], write: bool = True) -> T:
        """The unit of work itself, for code that already runs in a thread (never on the event loop)."""
        token = _reading_only.set(not write)
        try:
            with self._writer if (write and self._writer) else nullcontext():
                with self._sessions() as session, session.begin():
                    return work(session)
        finally:
            _reading_only.reset(token)

    def dispose(self) -> None:
        self.engine.dispose()
