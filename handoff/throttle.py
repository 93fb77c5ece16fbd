"""Login throttling per account and per address, shared by every hub process (it lives in the database).

An account is locked after ``login_failures_per_account`` failures in a row, first for
``login_lock_s``, doubling with every further failure up to an hour; an address after
``login_failures_per_address`` failures within 15 minutes over all accounts. A success clears the
account's count. While locked, even the right password is refused (429 with Retry-After): guessing
cannot continue in the background of a lock.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from bot.settings import Settings
from handoff.models import LoginThrottle, now
from handoff.queue import as_utc

ADDRESS_WINDOW = timedelta(minutes=15)
MAX_LOCK_S = 3600.0


def keys(username: str, address: str) -> tuple[str, str]:
    return f"user:{username.lower()[:140]}", f"addr:{address[:140]}"


def locked_for(session: Session, username: str, address: str) -> float:
    """Seconds until a login attempt is allowed again (0: allowed)."""
    moment = now()
    waits = [0.0]
    for key in keys(username, address):
        row = session.get(LoginThrottle, key)
        if row is not None and row.locked_until is not None and as_utc(row.locked_until) > moment:
            waits.append((as_utc(row.locked_until) - moment).total_seconds())
    return max(waits)


def failed(session: Session, settings: Settings, username: str, address: str) -> None:
    moment = now()
    account, origin = keys(username, address)
    for key, limit, window in (
        (account, settings.login_failures_per_account, None),
        (origin, settings.login_failures_per_address, ADDRESS_WINDOW),
    ):
        row = session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_started_at=moment)
            session.add(row)
        if window is not None and as_utc(row.window_started_at) < moment - window:
            row.failures, row.window_started_at = 0, moment
        row.failures += 1
        if row.failures >= limit:
            lock_s = min(settings.login_lock_s * 2 ** (row.failures - limit), MAX_LOCK_S)
            row.locked_until = moment + timedelta(seconds=lock_s)


def succeeded(session: Session, username: str, address: str) -> None:
    row = session.get(LoginThrottle, keys(username, address)[0])
    if row is not None:
        session.delete(row)
