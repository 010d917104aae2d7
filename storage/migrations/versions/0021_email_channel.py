"""email channel: customers' addresses, the channel of each message, the mail log

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 16:00:00.000000

Adding columns and indexes only: no table is rebuilt on SQLite (the search triggers on
``tickets`` and ``ticket_messages`` stay as they are).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.orm

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("email", sa.String(length=320), nullable=True))
    op.create_index("ix_customers_email", "customers", ["email"], unique=True)
    op.add_column(
        "ticket_messages",
        sa.Column("channel", sa.String(length=16), server_default="telegram", nullable=False),
    )
    op.create_index(
        "ix_ticket_messages_channel_source",
        "ticket_messages",
        ["channel", "customer_message_id"],
        unique=False,
    )
    op.create_table(
        "mail_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=512), nullable=False),
        sa.Column("outgoing", sa.Boolean(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", storage.orm.UTCDateTime(), nullable=False),
        sa.Column("processed_at", storage.orm.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_mail_messages_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_messages")),
        sa.UniqueConstraint("message_id", name=op.f("uq_mail_messages_message_id")),
    )
    op.create_index("ix_mail_messages_ticket", "mail_messages", ["ticket_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_mail_messages_ticket", table_name="mail_messages")
    op.drop_table("mail_messages")
    op.drop_index("ix_ticket_messages_channel_source", table_name="ticket_messages")
    with op.batch_alter_table("ticket_messages") as batch:
        batch.drop_column("channel")
    op.drop_index("ix_customers_email", table_name="customers")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("email")
