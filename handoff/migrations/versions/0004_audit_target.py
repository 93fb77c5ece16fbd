"""audit targets hold a player reference with its "player:" prefix (up to 128 + 7 characters)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("target", existing_type=sa.String(length=128), type_=sa.String(length=200))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("target", existing_type=sa.String(length=200), type_=sa.String(length=128))
