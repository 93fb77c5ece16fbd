"""The outbox: ticket mails are stored with the ticket, then delivered by the worker to a real SMTP
server (aiosmtpd on a free port), or logged when no SMTP server is configured; a refusing server
means retries and finally ``failed``; a hanging one never blocks the hub."""

from __future__ import annotations

import asyncio
import logging
import stat
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.kb.model import LANGUAGES
from bot.kb.texts import load_texts
from handoff import migrate
from handoff.db import Database
from handoff.models import Conversation, OutboxMail, Ticket, now
from handoff.outbox import (
    TICKET_CONFIRMATION,
    TICKET_SUPPORT,
    OutboxWorker,
    PendingMail,
    claim,
    pending_mails,
    queue_mail,
    queue_ticket_mails,
    ticket_mails,
    write_log,
)
from tests.conftest import free_port
from tests.hub.conftest import new_conversation

# --- a real SMTP sink ---


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage


class Sink:
    """An aiosmtpd server on 127.0.0.1 that keeps every message; ``hang`` makes it stall at DATA."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Received] = []
        self.hang = False
        self.hanging = 0  # sessions stalled right now
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        self.hanging += 1
        try:
            while self.hang:
                await asyncio.sleep(0.02)
        finally:
            self.hanging -= 1
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, message))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.hang = False
            self.controller.stop()
            self.controller = None

    def to(self, recipient: str) -> list[Received]:
        return [m for m in self.messages if m.rcpt_tos == [recipient]]


def text_of(message: EmailMessage) -> str:
    """The decoded body, with the CRLF line ends of the wire back to ``\\n``."""
    return message.get_content().replace("\r\n", "\n")


@pytest.fixture
def sink():
    server = Sink()
    server.start()
    yield server
    server.stop()


def smtp_settings(hub_settings, tmp_path, port: int, **more):
    return hub_settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_timeout_s": 2.0,
            "outbox_retry_s": 0.2,
            "outbox_poll_s": 0.1,
            "log_dir": tmp_path / "logs",
            **more,
        }
    )


# --- the hub with its outbox worker ---


class UnwiredTicketRoute:
    """Stands in for the old ``hub.outbox(note)`` while the ticket route does not queue the mails
    itself: queues them right after the ticket's commit (a second unit of work), then nudges."""

    def __init__(self, hub, worker: OutboxWorker) -> None:
        self.hub, self.worker = hub, worker

    def __call__(self, note: str) -> None:  # note: "ticket <id> from <email> (<language>)"
        hub, ticket_id = self.hub, int(note.split()[1])

        def queue(session) -> None:
            ticket = session.get(Ticket, ticket_id)
            language = session.get(Conversation, ticket.conversation_id).language
            queue_ticket_mails(session, hub.texts, hub.kb, ticket, language, hub.settings.support_inbox)

        async def work() -> None:
            await hub.db.write(queue)
            self.worker.nudge()

        hub.background(work())


def is_wired(app) -> bool:
    """The hub queues ticket mails in the ticket's unit of work and runs the worker in its lifespan
    (``Hub.outbox(note)``, the old log line, is gone)."""
    return not callable(getattr(app.state.hub, "outbox", None))


def hub_app(settings):
    """``create_app(settings)`` with the outbox worker running in its lifespan: as handoff/app.py
    wires it, or, until it does, wired here the same way."""
    from handoff.app import create_app

    app = create_app(settings)
    if is_wired(app):
        return app
    hub = app.state.hub
    worker = OutboxWorker(hub)
    hub.outbox = UnwiredTicketRoute(hub, worker)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app):
        async with inner(app) as state:
            worker.start()
            try:
                yield state
            finally:
                await worker.stop()

    app.router.lifespan_context = lifespan
    return app


def outbox_rows(db: Database) -> list[dict]:
    def read(session) -> list[dict]:
        return [
            {c: getattr(m, c) for c in ("id", "kind", "recipient", "subject", "body", "status", "attempts")}
            | {"last_error": m.last_error, "sent_at": m.sent_at}
            for m in session.scalars(select(OutboxMail).order_by(OutboxMail.id))
        ]

    return db.run(read, write=False)


def wait_until(check, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def leave_ticket(client, locale: str, email: str, text: str) -> tuple[str, int]:
    cid, auth = new_conversation(client, locale)
    response = client.post(f"/api/conversations/{cid}/ticket", json={"email": email, "text": text}, headers=auth)
    assert response.status_code == 201, response.text
    return cid, response.json()["ticket_id"]


# --- the mails themselves ---


def test_every_language_has_its_own_ticket_confirmation(settings, kb):
    texts = load_texts(settings.data_dir / "texts" / "hub")
    reply_hours = str(kb.rules_for("en")["email_reply_hours"])
    bodies = set()
    for language in LANGUAGES:
        assert {"mail_ticket_subject", "mail_ticket_body"} <= set(texts.texts[language]), language
        mails = ticket_mails(texts, kb, language, 4321, "p@example.com", "secret question 77", "conv-1")
        assert [(kind, to) for kind, to, _, _ in mails] == [
            (TICKET_CONFIRMATION, "p@example.com"),
            (TICKET_SUPPORT, settings.support_inbox),
        ]
        (_, _, subject, body), (_, _, support_subject, support_body) = mails
        for text in (subject, body, support_subject, support_body):
            assert "{" not in text and "}" not in text, (language, text)
        assert "4321" in subject and "4321" in body and reply_hours in body
        assert kb.rules_for(language)["casino_name"] in subject
        # the player's words never go back out to the (unverified) address they typed
        assert "secret question" not in subject + body
        assert "secret question 77" in support_body and "conv-1" in support_body and f"({language})" in support_subject
        bodies.add(body)
    assert len(bodies) == len(LANGUAGES)  # no language falls back to English


def test_the_support_copy_masks_card_numbers(settings, kb):
    texts = load_texts(settings.data_dir / "texts" / "hub")
    [_, (_, _, _, body)] = ticket_mails(texts, kb, "fi", 1, "p@example.com", "kortti 4111 1111 1111 1111", "c")
    assert "4111 1111 1111 1111" not in body and "****1111" in body


def test_queue_mail_refuses_header_injection(hub_settings):
    db = Database.from_settings(hub_settings)
    migrate.upgrade(db.engine)
    for bad in [("k", "a@example.com\r\nBcc: x@example.com", "s"), ("k", "a@example.com", "hi\nBcc: x@example.com")]:
        with pytest.raises(ValueError):
            db.run(lambda s, bad=bad: queue_mail(s, *bad, "body"))
    assert outbox_rows(db) == []
    db.dispose()


def test_a_mail_is_stored_only_with_the_transaction_that_queued_it(hub_settings):
    db = Database.from_settings(hub_settings)
    migrate.upgrade(db.engine)

    def ticket_that_fails(session) -> None:
        queue_mail(session, "k", "a@example.com", "subject", "body")
        raise RuntimeError("the ticket could not be stored")

    with pytest.raises(RuntimeError):
        db.run(ticket_that_fails)
    assert outbox_rows(db) == []
    db.run(lambda s: queue_mail(s, "k", "a@example.com", "subject", "body"))
    assert [r["status"] for r in outbox_rows(db)] == ["pending"]
    db.dispose()


def test_one_worker_wins_a_row(hub_settings, tmp_path):
    """Two workers (two hub processes) that read the same pending row: only one claims and sends it."""
    settings = hub_settings.model_copy(update={"smtp_host": "", "log_dir": tmp_path / "logs"})
    db = Database.from_settings(settings)
    migrate.upgrade(db.engine)
    db.run(lambda s: queue_mail(s, "k", "a@example.com", "subject", "body"))
    [mail] = db.run(lambda s: pending_mails(s), write=False)
    assert db.run(lambda s: claim(s, mail.id, 0)) is True
    assert db.run(lambda s: claim(s, mail.id, 0)) is False  # the other one read attempts == 0 too
    assert OutboxWorker(db, settings).process(mail).status == "skipped"
    assert not (tmp_path / "logs" / "outbox.log").exists()
    db.dispose()


# --- end to end through the hub ---


def test_a_ticket_sends_both_mails_in_utf8(hub_settings, tmp_path, sink):
    settings = smtp_settings(hub_settings, tmp_path, sink.port)
    app = hub_app(settings)
    hub = app.state.hub
    cases = {
        "ru": ("igrok@example.com", "Не могу вывести выигрыш уже третий день. Что делать?"),
        "tr": ("oyuncu@example.com", "Çekim talebim neden hâlâ beklemede? Şifremi değiştirdim, ığüşöç."),
    }
    with TestClient(app) as client:
        tickets = {lang: leave_ticket(client, lang, email, text) for lang, (email, text) in cases.items()}
        wait_until(lambda: len(sink.messages) == 4, what="4 mails at the SMTP sink")
        rows = wait_until(
            lambda: (r := outbox_rows(hub.db)) and all(x["status"] == "sent" for x in r) and r, what="rows sent"
        )

    assert len(rows) == 4 and all(r["attempts"] == 1 and r["sent_at"] and r["last_error"] is None for r in rows)
    for lang, (email, text) in cases.items():
        cid, ticket_id = tickets[lang]
        expected = ticket_mails(
            hub.texts, hub.kb, lang, ticket_id, email, text, cid, support_inbox=settings.support_inbox
        )
        for kind, recipient, subject, body in expected:
            [got] = [m for m in sink.to(recipient) if m.message["Subject"] == subject]
            assert got.mail_from == settings.smtp_from and got.message["To"] == recipient
            assert got.message.get_content_charset() == "utf-8"
            assert text_of(got.message) == body
            assert got.message["Message-ID"] and got.message["Auto-Submitted"] == "auto-generated"
            assert subject.isascii() or b"=?utf-8?" in got.raw  # a non-ASCII subject is encoded (RFC 2047)
            assert all(byte < 128 for byte in got.raw)
            assert kind in {r["kind"] for r in rows if r["recipient"] == recipient}
    ru_player = sink.to("igrok@example.com")[0].message
    assert "Здравствуйте" in text_of(ru_player) and "обращение" in ru_player["Subject"]
    tr_player = sink.to("oyuncu@example.com")[0].message
    assert "Merhaba" in text_of(tr_player) and "Sorunuzu aldık" in tr_player["Subject"]
    support = {m.message["Subject"]: text_of(m.message) for m in sink.to(settings.support_inbox)}
    assert any(cases["ru"][1] in body and tickets["ru"][0] in body for body in support.values())
    assert any(cases["tr"][1] in body and "Turkish" in body for body in support.values())


def test_without_smtp_the_mails_are_logged_and_marked_logged(hub_settings, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="handoff.outbox")
    settings = hub_settings.model_copy(update={"smtp_host": "", "log_dir": tmp_path / "logs", "outbox_poll_s": 0.1})
    app = hub_app(settings)
    hub = app.state.hub
    forged = "Kiitos\n2030-01-01T00:00:00+00:00 outbox mail #999 ticket_confirmation to x@example.com: fake"
    with TestClient(app) as client:
        cid, ticket_id = leave_ticket(client, "fi", "pelaaja@example.com", forged)
        rows = wait_until(
            lambda: (r := outbox_rows(hub.db)) and len(r) == 2 and all(x["status"] == "logged" for x in r) and r,
            what="both mails logged",
        )
    assert all(r["attempts"] == 1 and r["sent_at"] for r in rows)
    log = tmp_path / "logs" / "outbox.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600  # addresses and tickets: the hub's user only
    content = log.read_text(encoding="utf-8")
    confirmation = rows[0]
    for row in rows:
        header = f"outbox mail #{row['id']} {row['kind']} to {row['recipient']}: {row['subject']}"
        assert header in content
        [record] = [r for r in caplog.records if r.name == "handoff.outbox" and header in r.getMessage()]
        assert record.levelno == logging.WARNING
        message = record.getMessage()
        assert message.splitlines()[0] == header  # one line: kind, recipient, subject; then the body
        assert all(line.startswith("    ") or not line.strip() for line in message.splitlines()[1:])
    assert confirmation["recipient"] == "pelaaja@example.com" and "tukipyyntö" in confirmation["subject"]
    assert "    Hei," in content and f"#{ticket_id}" in content and cid in content
    # what the player typed cannot pass for an entry of its own
    entry_lines = [line for line in content.splitlines() if "outbox mail #" in line and not line.startswith("    ")]
    assert len(entry_lines) == 2


def test_the_log_escapes_control_characters(tmp_path, caplog):
    """Mail queued by any code path: a terminal escape or a bidi override never reaches the log raw."""
    caplog.set_level(logging.WARNING, logger="handoff.outbox")
    mail = PendingMail(7, "k", "a@example.com", "s", "clear \x1b[2J screen\r\nevil \u202efdp.exe", 0, now())
    write_log(mail, tmp_path)
    content = (tmp_path / "outbox.log").read_text(encoding="utf-8")
    assert "\x1b" not in content and "\u202e" not in content and "\r" not in content
    assert "    clear \\u001b[2J screen\n    evil \\u202efdp.exe\n" in content
    assert "\x1b" not in caplog.text


def test_a_refusing_server_means_retries_then_failed(hub_settings, tmp_path, sink):
    settings = smtp_settings(hub_settings, tmp_path, sink.port, outbox_max_attempts=3)
    sink.stop()  # nothing listens on the port any more: connection refused
    app = hub_app(settings)
    hub = app.state.hub
    started = time.monotonic()
    with TestClient(app) as client:
        leave_ticket(client, "en", "player@example.com", "Where is my withdrawal?")
        first = wait_until(
            lambda: (r := outbox_rows(hub.db)) and len(r) == 2 and all(x["attempts"] >= 1 for x in r) and r,
            what="a first attempt",
        )
        assert all(r["status"] == "pending" or r["attempts"] == 3 for r in first)
        assert all("Connection" in r["last_error"] or "refused" in r["last_error"] for r in first)
        rows = wait_until(
            lambda: (r := outbox_rows(hub.db)) and all(x["status"] == "failed" for x in r) and r,
            what="both mails failed",
        )
    # three attempts each, with the backoff between them (0.2 s, then 0.4 s)
    assert [r["attempts"] for r in rows] == [3, 3] and time.monotonic() - started >= 0.6
    assert all(r["last_error"] and r["sent_at"] is None for r in rows)
    assert sink.messages == []


def test_a_mail_refused_once_is_sent_when_the_server_is_back(hub_settings, tmp_path):
    sink = Sink()  # not started yet: refused
    settings = smtp_settings(hub_settings, tmp_path, sink.port)
    db = Database.from_settings(settings)
    migrate.upgrade(db.engine)
    db.run(lambda s: queue_mail(s, "test", "player@example.com", "Hei – ääkköset", "Rivi 1\nRivi 2 – ÅÄÖ\n"))
    worker = OutboxWorker(db, settings)

    asyncio.run(worker.run_once())
    [row] = outbox_rows(db)
    assert (row["status"], row["attempts"]) == ("pending", 1) and "ConnectionRefused" in row["last_error"]
    asyncio.run(worker.run_once())  # within the backoff: not attempted again
    assert outbox_rows(db)[0]["attempts"] == 1

    sink.start()
    try:

        async def until_sent() -> None:
            while outbox_rows(db)[0]["status"] != "sent":
                await worker.run_once()
                await asyncio.sleep(0.05)

        asyncio.run(asyncio.wait_for(until_sent(), 10))
    finally:
        sink.stop()
    [row] = outbox_rows(db)
    assert row["attempts"] == 2 and row["sent_at"] and "ConnectionRefused" in row["last_error"]  # history kept
    [got] = sink.messages
    assert got.message["Subject"] == "Hei – ääkköset" and text_of(got.message) == "Rivi 1\nRivi 2 – ÅÄÖ\n"
    db.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_hanging_smtp_server_does_not_block_the_hub(hub_settings, tmp_path, sink):
    sink.hang = True  # accepts the connection and the envelope, then never answers DATA
    settings = smtp_settings(hub_settings, tmp_path, sink.port, smtp_timeout_s=1.0)
    app = hub_app(settings)
    hub = app.state.hub
    with TestClient(app) as client:
        started = time.monotonic()
        leave_ticket(client, "sv", "spelare@example.com", "Varför är mitt uttag fortfarande under behandling?")
        assert time.monotonic() - started < 1.0  # the player's answer never waits for SMTP
        wait_until(lambda: sink.hanging > 0, what="the worker stuck in SMTP")
        probes, writes, stuck_seen = [], [], 0
        while time.monotonic() - started < 2.5:
            t = time.monotonic()
            assert client.get("/livez").status_code == 200
            probes.append(time.monotonic() - t)
            t = time.monotonic()
            new_conversation(client, "fi")  # a database write meanwhile
            writes.append(time.monotonic() - t)
            stuck_seen += sink.hanging > 0
            time.sleep(0.05)
        assert stuck_seen >= 5
        # Blocked by the hung SMTP call, a probe would take the whole SMTP timeout (1 s) or more.
        assert max(probes) < 0.9, f"/livez took {max(probes):.2f} s while SMTP hung"
        assert max(writes) < 0.9, f"a write took {max(writes):.2f} s while SMTP hung"
        rows = wait_until(
            lambda: (r := outbox_rows(hub.db)) and any(x["last_error"] for x in r) and r, what="a timed-out attempt"
        )
        timed_out = [r for r in rows if r["last_error"]]
        assert all(r["status"] == "pending" and "timed out" in r["last_error"] for r in timed_out)
        sink.hang = False  # the server recovers: the retries go through
        wait_until(
            lambda: all(x["status"] == "sent" for x in outbox_rows(hub.db)), what="both mails sent after recovery"
        )
    # at least once: the copy the server took while the client had given up arrives too
    assert len(sink.to("spelare@example.com")) >= 1 and len(sink.to(settings.support_inbox)) >= 1


def test_the_mails_are_committed_with_the_ticket(hub_settings, tmp_path):
    """Once the ticket route queues the mails in its own unit of work, they exist when the player is answered."""
    settings = hub_settings.model_copy(update={"smtp_host": "", "log_dir": tmp_path / "logs"})
    app = hub_app(settings)
    if not is_wired(app):
        pytest.skip("handoff/app.py and the ticket route do not queue the mails yet")
    with TestClient(app) as client:
        _, ticket_id = leave_ticket(client, "en", "player@example.com", "Hello?")
        rows = outbox_rows(app.state.hub.db)
    assert sorted(r["kind"] for r in rows) == [TICKET_CONFIRMATION, TICKET_SUPPORT]
    assert all(f"#{ticket_id}" in r["subject"] for r in rows)


def test_pending_mail_snapshot_is_plain_data(hub_settings):
    db = Database.from_settings(hub_settings)
    migrate.upgrade(db.engine)
    db.run(lambda s: queue_mail(s, "k", "a@example.com", "s", "b"))
    [mail] = db.run(lambda s: pending_mails(s), write=False)
    assert isinstance(mail, PendingMail) and mail.attempts == 0
    assert db.run(lambda s: pending_mails(s, exclude=[mail.id]), write=False) == []
    db.dispose()
