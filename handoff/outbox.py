"""The outbox: mail is stored with what caused it, then delivered by a background worker.

Queueing. ``queue_mail(session, ...)`` adds an ``OutboxMail`` row inside the caller's unit of work,
so a ticket and its two mails (``ticket_mails``: the player's confirmation in the player's language,
the ticket for the support inbox in English) are committed together, before the player is answered,
or not at all. Nothing is sent from a request.

Delivery. ``OutboxWorker`` is an asyncio task of the hub (``start()`` / ``await stop()``;
``nudge()`` after a commit that queued mail). It reads pending rows, oldest first, a batch at a
time, and hands each to its own thread (one, never the event loop and never the thread pool that
serves requests). For each row, in that thread:

1. claim: one unit of work raises ``attempts`` by one where the row is still ``pending`` with the
   attempts the worker read: exactly one worker wins, also when several hub processes share the
   database;
2. deliver, outside any transaction (a stuck SMTP server never holds SQLite's write lock): by SMTP
   when ``SMTP_HOST`` is set, otherwise a WARNING on the ``handoff.outbox`` logger plus an entry
   in ``<LOG_DIR>/outbox.log``;
3. record: one unit of work writes the result: ``sent`` / ``logged`` with ``sent_at``, or
   ``last_error`` and ``pending`` again (retried after a backoff: OUTBOX_RETRY_S, twice that, four
   times, ... at most an hour), or ``failed`` once ``OUTBOX_MAX_ATTEMPTS`` attempts failed.

A crash between 2 and 3 (the mail went out, the process died before the result was written) leaves
the row ``pending`` with the attempt already counted: it is delivered again after the backoff.
Delivery is therefore at least once: a crash can duplicate a mail, never lose one. Every SMTP
attempt of a row carries the same ``Message-ID``, so mail systems that drop duplicates by that
header drop the second copy. A mail whose delivery kills the process each time still ends
``failed``, because the attempt is counted before it is made.

Backoff survives restarts and is shared between processes: a row is due only when
``created_at`` plus the backoffs of its past attempts has passed (this also keeps a second hub
process away from a row while the first one is still sending it: keep OUTBOX_RETRY_S above the
longest send, a few times SMTP_TIMEOUT_S). The worker also remembers in memory when it last
failed each row, so a row whose schedule fell behind (the hub was down for an hour) still waits a
full backoff between attempts.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import smtplib
import ssl
import time
import unicodedata
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.kb.model import KnowledgeBase
from bot.kb.texts import BotTexts
from bot.privacy.redaction import redact
from bot.settings import Settings, get_settings
from handoff.db import Database
from handoff.models import OutboxMail, Ticket, now

if TYPE_CHECKING:
    from handoff.deps import Hub

logger = logging.getLogger("handoff.outbox")

BATCH = 20  # rows read per pass
MAX_BACKOFF_S = 3600.0
LOG_FILE = "outbox.log"
ERROR_MAX_CHARS = 1000

TICKET_CONFIRMATION = "ticket_confirmation"  # to the player, in the player's language
TICKET_SUPPORT = "ticket_support"  # to SUPPORT_INBOX, in English

LANGUAGE_NAMES = {"fi": "Finnish", "sv": "Swedish", "ru": "Russian", "tr": "Turkish", "en": "English"}

SUPPORT_SUBJECT = "Ticket #{ticket_id} ({language}) from {email}"
SUPPORT_BODY = """\
A player left ticket #{ticket_id} in the chat widget while no agent was online.

Ticket:        #{ticket_id}
Conversation:  {conversation_id}
Language:      {language} ({language_name})
Player email:  {email}

Answer the player by email within {email_reply_hours} hours, in {language_name}. The player was told
the ticket number (#{ticket_id}) in the confirmation mail.

The player's message (card numbers, IBANs, e-mail addresses and phone numbers masked):
----------------------------------------------------------------------
{text}
----------------------------------------------------------------------"""


# --- queueing (inside the caller's unit of work) ---


def queue_mail(session: Session, kind: str, recipient: str, subject: str, body: str) -> OutboxMail:
    """Add one mail to the outbox in the caller's transaction; it is sent after the commit.

    Raises ``ValueError`` for a header that could smuggle in other headers (a line break) or does not fit.
    """
    for name, value in (("kind", kind), ("recipient", recipient), ("subject", subject)):
        if any(c in value for c in "\r\n\0"):
            raise ValueError(f"outbox: {name} must be one line")
    if not kind or len(kind) > 32:
        raise ValueError("outbox: kind must have 1-32 characters")
    if len(recipient) > 254 or "@" not in recipient:
        raise ValueError(f"outbox: not a mail address: {recipient!r}")
    mail = OutboxMail(
        kind=kind, recipient=recipient, subject=subject[:200], body=body, status="pending", attempts=0, created_at=now()
    )
    session.add(mail)
    session.flush()  # the id, for the caller and the log
    return mail


def ticket_mails(
    hub_texts: BotTexts,
    kb: KnowledgeBase,
    language: str,
    ticket_id: int,
    email: str,
    text: str,
    conversation_id: str,
    *,
    support_inbox: str | None = None,
) -> list[tuple[str, str, str, str]]:
    """The two mails of a ticket as (kind, recipient, subject, body): the player's confirmation in
    ``language`` (``mail_ticket_subject`` / ``mail_ticket_body`` of data/texts/hub), then the ticket
    for the support inbox in English.

    The confirmation never quotes what the player wrote: the address is the player's own claim, and
    the hub must not become a way to mail arbitrary text to anyone. ``support_inbox``: the hub's
    ``settings.support_inbox`` (default: SUPPORT_INBOX of the environment).
    """
    rules = kb.rules_for(language)
    values = {**rules, "ticket_id": str(ticket_id)}

    def say(key: str) -> str:
        return hub_texts.text(key, language).format_map(values)

    support = {
        **kb.rules_for("en"),
        "ticket_id": str(ticket_id),
        "conversation_id": conversation_id,
        "language": language,
        "language_name": LANGUAGE_NAMES.get(language, language),
        "email": email,
        "text": redact(text).text,
        "email_reply_hours": rules.get("email_reply_hours", ""),
    }
    inbox = support_inbox or get_settings().support_inbox
    return [
        (TICKET_CONFIRMATION, email, _one_line(say("mail_ticket_subject")), say("mail_ticket_body") + "\n"),
        (
            TICKET_SUPPORT,
            inbox,
            _one_line(SUPPORT_SUBJECT.format_map(support)),
            SUPPORT_BODY.format_map(support) + "\n",
        ),
    ]


def queue_ticket_mails(
    session: Session, hub_texts: BotTexts, kb: KnowledgeBase, ticket: Ticket, language: str, support_inbox: str
) -> list[OutboxMail]:
    """``ticket_mails`` for a ticket row of this unit of work (flushed), each queued with ``queue_mail``."""
    mails = ticket_mails(
        hub_texts,
        kb,
        language,
        ticket.id,
        ticket.email,
        ticket.text,
        ticket.conversation_id,
        support_inbox=support_inbox,
    )
    return [queue_mail(session, *mail) for mail in mails]


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- delivery ---


@dataclass(frozen=True)
class PendingMail:
    """A snapshot of a pending row, taken in a read-only unit of work."""

    id: int
    kind: str
    recipient: str
    subject: str
    body: str
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class Outcome:
    mail_id: int
    status: str  # sent | logged | pending | failed | skipped (another worker claimed it)
    attempt: int
    error: str | None = None


def retry_delay(attempt: int, base_s: float) -> float:
    """The wait after failed attempt number ``attempt`` (1, 2, ...): base, 2 x base, 4 x base, ..., at most an hour."""
    return min(base_s * 2 ** max(attempt - 1, 0), MAX_BACKOFF_S)


def due_at(mail: PendingMail, base_s: float) -> datetime:
    """When a row is due by its persistent schedule: ``created_at`` plus the backoffs of its past attempts."""
    created = mail.created_at if mail.created_at.tzinfo else mail.created_at.replace(tzinfo=UTC)
    return created + timedelta(seconds=sum(retry_delay(n, base_s) for n in range(1, mail.attempts + 1)))


def pending_mails(session: Session, exclude: Iterable[int] = (), limit: int = BATCH) -> list[PendingMail]:
    query = select(OutboxMail).where(OutboxMail.status == "pending").order_by(OutboxMail.id).limit(limit)
    excluded = list(exclude)
    if excluded:
        query = query.where(OutboxMail.id.not_in(excluded))
    return [
        PendingMail(m.id, m.kind, m.recipient, m.subject, m.body, m.attempts, m.created_at)
        for m in session.scalars(query)
    ]


def claim(session: Session, mail_id: int, seen_attempts: int) -> bool:
    """Count the attempt before making it; False when another worker claimed the row first."""
    result = session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id, OutboxMail.status == "pending", OutboxMail.attempts == seen_attempts)
        .values(attempts=seen_attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def record(session: Session, outcome: Outcome) -> None:
    """Write the result of one attempt (one unit of work)."""
    mail = session.get(OutboxMail, outcome.mail_id)
    if mail is None:  # erased meanwhile
        return
    mail.status = outcome.status
    if outcome.error is not None:
        mail.last_error = outcome.error
    if outcome.status in ("sent", "logged"):
        mail.sent_at = now()


def build_message(mail: PendingMail, settings: Settings) -> EmailMessage:
    """The mail as sent: UTF-8 text, headers encoded as RFC 2047 where needed."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    created = mail.created_at if mail.created_at.tzinfo else mail.created_at.replace(tzinfo=UTC)
    domain = settings.smtp_from.rpartition("@")[2] or "localhost"
    # The same id on every attempt: a copy sent again after a crash can be recognised as a duplicate.
    message["Message-ID"] = f"<outbox.{mail.id}.{int(created.timestamp() * 1_000_000)}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to this
    message.set_content(mail.body, charset="utf-8")
    return message


def send_smtp(mail: PendingMail, settings: Settings) -> None:
    """One SMTP delivery; raises on any failure (refused connection, timeout, rejected command)."""
    message = build_message(mail, settings)
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s)
    try:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())  # certificate and host name verified
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)
    except BaseException:
        smtp.close()
        raise
    # Accepted: a QUIT that fails or times out must not turn a sent mail into a failed one.
    with suppress(OSError, smtplib.SMTPException):
        smtp.quit()
    smtp.close()


def _printable(line: str) -> str:
    """Control characters escaped (no terminal escapes or fake lines from a player's text in the log)."""
    return "".join(
        c if c == "\t" or unicodedata.category(c) not in ("Cc", "Cf") or c == "\u200d" else f"\\u{ord(c):04x}"
        for c in line
    )


def log_entry(mail: PendingMail) -> tuple[str, str]:
    """(header line, indented body lines): every body line starts with four spaces, so nothing a
    player wrote can pass for the header of another entry."""
    header = (
        f"outbox mail #{mail.id} {_printable(mail.kind)} to {_printable(mail.recipient)}: {_printable(mail.subject)}"
    )
    body = "\n".join("    " + _printable(line) for line in mail.body.splitlines())
    return header, body


def write_log(mail: PendingMail, log_dir: Path) -> None:
    """The delivery without SMTP: a WARNING on ``handoff.outbox`` and an entry in ``<log_dir>/outbox.log``."""
    header, body = log_entry(mail)
    logger.warning("%s\n%s", header, body)
    log_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    entry = f"{stamp} {header}\n{body}\n\n".encode()
    # Personal data (addresses, tickets): readable by the hub's user only; one write per entry.
    fd = os.open(log_dir / LOG_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, entry)
    finally:
        os.close(fd)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS]


class OutboxWorker:
    """Delivers pending outbox rows in the background; see the module's documentation."""

    def __init__(self, hub_or_db: Hub | Database, settings: Settings | None = None, batch: int = BATCH) -> None:
        """``OutboxWorker(hub)`` in the app (its database and settings), or ``OutboxWorker(db, settings)``."""
        if isinstance(hub_or_db, Database):
            if settings is None:
                raise TypeError("OutboxWorker(db, settings): the settings are missing")
            self.db, self.settings = hub_or_db, settings
        else:
            self.db, self.settings = hub_or_db.db, settings or hub_or_db.settings
        self.batch = batch
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._not_before: dict[int, float] = {}  # row id -> time.monotonic() of its next attempt

    @property
    def uses_smtp(self) -> bool:
        return bool(self.settings.smtp_host)

    # --- life cycle (on the event loop) ---

    def start(self) -> None:
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stopping = False
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        if self.uses_smtp and self.settings.smtp_user and not self.settings.smtp_starttls:
            logger.warning("outbox: SMTP_USER is set without SMTP_STARTTLS: the password travels unencrypted")
        if not self.uses_smtp:
            logger.warning(
                "outbox: SMTP_HOST is not set: mail is not sent, it is logged to %s", self.settings.log_dir / LOG_FILE
            )
        self._task = self._loop.create_task(self._run(), name="outbox")

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop after the row being delivered (waiting at most ``grace_s``, default 2 x SMTP_TIMEOUT_S).

        A delivery still running after that finishes in its thread and records its own result.
        """
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self.nudge()
        grace = grace_s if grace_s is not None else 2 * self.settings.smtp_timeout_s
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    def nudge(self) -> None:
        """Look for pending mail now (after a commit that queued some); safe from any thread."""
        if self._wake is None or self._loop is None or self._loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            self._wake.clear()
            try:
                more = await self.run_once()
            except Exception:  # the database is away, or a bug: log it and try again later
                logger.exception("outbox: delivery pass failed")
                more = False
            if more and not self._stopping:
                continue
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._next_wait())

    def _next_wait(self) -> float:
        wait = self.settings.outbox_poll_s
        if self._not_before:
            wait = min(wait, min(self._not_before.values()) - time.monotonic())
        return max(wait, 0.02)

    # --- one pass ---

    async def run_once(self) -> bool:
        """Attempt every due row of one batch; True when the batch was full (more may be waiting)."""
        clock = time.monotonic()
        self._not_before = {i: t for i, t in self._not_before.items() if t > clock}
        waiting = set(self._not_before)
        rows = await self.db.read(lambda s: pending_mails(s, waiting, self.batch))
        wall = now()
        for mail in rows:
            if self._stopping:
                break
            ahead = (due_at(mail, self.settings.outbox_retry_s) - wall).total_seconds()
            if ahead > 0:
                self._not_before[mail.id] = clock + ahead
                continue
            outcome = await self._in_thread(mail)
            if outcome.status == "pending":
                self._not_before[mail.id] = time.monotonic() + retry_delay(
                    outcome.attempt, self.settings.outbox_retry_s
                )
        return len(rows) >= self.batch

    async def _in_thread(self, mail: PendingMail) -> Outcome:
        loop = asyncio.get_running_loop()
        if self._executor is None:  # run_once() without start(): tests, scripts
            return await loop.run_in_executor(None, self.process, mail)
        return await loop.run_in_executor(self._executor, self.process, mail)

    def process(self, mail: PendingMail) -> Outcome:
        """Claim, deliver and record one row (in a worker thread: it blocks on the network)."""
        if not self.db.run(lambda s: claim(s, mail.id, mail.attempts)):
            return Outcome(mail.id, "skipped", mail.attempts)
        attempt = mail.attempts + 1
        try:
            if self.uses_smtp:
                send_smtp(mail, self.settings)
            else:
                write_log(mail, self.settings.log_dir)
        except Exception as exc:
            final = attempt >= self.settings.outbox_max_attempts
            outcome = Outcome(mail.id, "failed" if final else "pending", attempt, describe(exc))
            (logger.error if final else logger.warning)(
                "outbox: mail #%s (%s) to %s, attempt %d of %d failed%s: %s",
                mail.id,
                mail.kind,
                mail.recipient,
                attempt,
                self.settings.outbox_max_attempts,
                ", giving up" if final else "",
                outcome.error,
            )
        else:
            outcome = Outcome(mail.id, "sent" if self.uses_smtp else "logged", attempt)
            if self.uses_smtp:
                logger.info("outbox: mail #%s (%s) sent to %s", mail.id, mail.kind, mail.recipient)
        self.db.run(lambda s: record(s, outcome))
        return outcome
