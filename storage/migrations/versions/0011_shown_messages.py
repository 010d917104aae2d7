"""what the bot's editable messages show, so that no edit that changes nothing is sent

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.orm

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shown_messages",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("body", sa.String(length=32), nullable=True),
        sa.Column("markup", sa.String(length=32), nullable=False),
        sa.Column("updated_at", storage.orm.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "message_id", name=op.f("pk_shown_messages")),
    )
    op.create_index(
        op.f("ix_shown_messages_updated"), "shown_messages", ["updated_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_shown_messages_updated"), table_name="shown_messages")
    op.drop_table("shown_messages")
