"""website chat widget: visitors, their conversations, the visitor flag on customers

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 19:00:00.000000

New tables and one added column: no table is rebuilt on SQLite (the search triggers on
``tickets`` and ``ticket_messages`` stay as they are).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.orm

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "customers",
        sa.Column("visitor", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "widget_visitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.orm.UTCDateTime(), nullable=False),
        sa.Column("last_read_at", storage.orm.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_widget_visitors_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_widget_visitors")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_widget_visitors_customer_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_widget_visitors_token_hash")),
    )
    op.create_table(
        "widget_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("outbox_id", sa.BigInteger(), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", storage.orm.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_widget_messages_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["widget_visitors.id"],
            name=op.f("fk_widget_messages_visitor_id_widget_visitors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_widget_messages")),
        sa.UniqueConstraint("outbox_id", name=op.f("uq_widget_messages_outbox_id")),
        sa.UniqueConstraint(
            "visitor_id", "client_id", name=op.f("uq_widget_messages_visitor_id_client_id")
        ),
        sa.UniqueConstraint("visitor_id", "seq", name=op.f("uq_widget_messages_visitor_id_seq")),
    )


def downgrade() -> None:
    op.drop_table("widget_messages")
    op.drop_table("widget_visitors")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("visitor")
