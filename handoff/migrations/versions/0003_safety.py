"""safety: idempotent messages, masked text with the original kept apart, presence heartbeats,
player references, the outbox, the audit log, login throttling, longer locales

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("original_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("client_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("reply_to", sa.Integer(), nullable=True))
        batch.create_index("ix_messages_client_id", ["conversation_id", "client_id"], unique=True)
    with op.batch_alter_table("conversations") as batch:
        batch.alter_column("locale", type_=sa.String(length=35), existing_type=sa.String(length=8))
        batch.add_column(sa.Column("player_ref", sa.String(length=128), nullable=True))
        batch.create_index("ix_conversations_player_ref", ["player_ref"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_outbox_status", "outbox", ["status"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_action", "audit_events", ["action"])
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=160), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )
    # Queue positions and claims read these on every request: index them.
    op.create_index("ix_conversations_queue", "conversations", ["state", "language", "priority", "queued_at"])


def downgrade() -> None:
    op.drop_index("ix_conversations_queue", "conversations")
    op.drop_table("login_throttle")
    op.drop_table("audit_events")
    op.drop_table("outbox")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("last_seen_at")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_player_ref")
        batch.drop_column("player_ref")
        batch.alter_column("locale", type_=sa.String(length=8), existing_type=sa.String(length=35))
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_client_id")
        batch.drop_column("reply_to")
        batch.drop_column("client_id")
        batch.drop_column("original_text")
