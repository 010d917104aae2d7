"""incidents: a surge of similar tickets as one incident, its bulk replies, tickets linked

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-15 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.orm

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.String(length=256), nullable=False),
        sa.Column("created_at", storage.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", storage.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("agent_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("card_message_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("number", name=op.f("uq_incidents_number")),
    )
    op.create_index("ix_incidents_status", "incidents", ["status"], unique=False)
    op.create_table(
        "bulk_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("agent_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("agent_message_id", sa.BigInteger(), nullable=False),
        sa.Column("author_agent_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", storage.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("note", sa.Boolean(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_agent_id"],
            ["agents.id"],
            name=op.f("fk_bulk_replies_author_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_bulk_replies_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_replies")),
        sa.UniqueConstraint(
            "agent_chat_id",
            "agent_message_id",
            name=op.f("uq_bulk_replies_agent_chat_id_agent_message_id"),
        ),
    )
    op.create_index(
        "ix_bulk_replies_incident", "bulk_replies", ["incident_id", "id"], unique=False
    )
    # Plain columns (no foreign key): adding one would make SQLite rebuild the tickets table.
    op.add_column("tickets", sa.Column("incident_id", sa.Integer(), nullable=True))
    op.add_column(
        "tickets",
        sa.Column("incident_detached", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(op.f("ix_tickets_incident_id"), "tickets", ["incident_id"], unique=False)
    # The row detection locks while it decides (one incident, however many workers detect).
    op.execute("INSERT INTO counters (name, value) VALUES ('incident', 0)")


def downgrade() -> None:
    op.execute("DELETE FROM counters WHERE name = 'incident'")
    op.drop_index(op.f("ix_tickets_incident_id"), table_name="tickets")
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_column("incident_detached")
        batch_op.drop_column("incident_id")
    op.drop_index("ix_bulk_replies_incident", table_name="bulk_replies")
    op.drop_table("bulk_replies")
    op.drop_index("ix_incidents_status", table_name="incidents")
    op.drop_table("incidents")
