"""The hub's tables (SQLAlchemy 2). Migrations: handoff/migrations (Alembic)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

STATES = ("bot", "queued", "agent", "closed", "ticket")
SENDERS = ("player", "bot", "agent", "system")
ROLES = ("agent", "editor", "admin")


def now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    languages: Mapped[str] = mapped_column(String(32))  # "fi,sv"
    max_chats: Mapped[int] = mapped_column(Integer, default=3)
    presence: Mapped[str] = mapped_column(String(8), default="away")  # online | away
    # The last heartbeat of the agent's console: "online" expires without one (PRESENCE_TTL_S).
    last_seen_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=now)

    @property
    def language_list(self) -> list[str]:
        return [lang for lang in self.languages.split(",") if lang]


class AgentToken(Base):
    __tablename__ = "agent_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column()
    user: Mapped[User] = relationship(lazy="joined")


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_queue", "state", "language", "priority", "queued_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(8), default="bot", index=True)
    language: Mapped[str] = mapped_column(String(2), default="en")
    locale: Mapped[str | None] = mapped_column(String(35), nullable=True)  # BCP 47 tags can be long
    # The casino's own id of the player, when the embedding page passes one: export and erasure.
    player_ref: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    # True once the player picked a language in the widget: then it wins over detection every turn.
    language_chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    handoff_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    suggestions: Mapped[list] = mapped_column(JSON, default=list)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    queued_at: Mapped[datetime | None] = mapped_column(nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    agent: Mapped[User | None] = relationship(lazy="joined")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_client_id", "conversation_id", "client_id", unique=True),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text, default="")  # players' card numbers, IBANs, e-mails, phones masked
    # What the player typed before masking, when it differed: shown only to the agent holding the
    # conversation, purged with it after the retention period.
    original_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The widget's id for a message: a retried send is stored once (idempotency).
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # For bot and system replies: the player message they answer (a retried send gets the same replies).
    reply_to: Mapped[int | None] = mapped_column(Integer, nullable=True)
    buttons: Mapped[list] = mapped_column(JSON, default=list)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=now)


class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_at: Mapped[datetime] = mapped_column(default=now)


class Rating(Base):
    __tablename__ = "ratings"
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=now)


class OutboxMail(Base):
    """Mail to players and to support, stored first, then sent (SMTP) or logged by the outbox worker."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="pending", index=True)  # pending | sent | logged | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)


class AuditEvent(Base):
    """Who did what, when: logins, claims, transfers, transcript reads, edits, publishes, erasures."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=now, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # a username, or "system"
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)  # e.g. "player:" + a 128-char ref
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LoginThrottle(Base):
    """Failed logins per account and per address: a growing lock-out after too many (shared by replicas)."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)  # "user:<name>" | "addr:<ip>"
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=now)
    locked_until: Mapped[datetime | None] = mapped_column(nullable=True)
