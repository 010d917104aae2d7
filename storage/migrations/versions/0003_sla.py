"""sla

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:15:20.546119
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.orm

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sla_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("clock_start", storage.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("at", storage.orm.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_sla_notices_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_notices")),
        sa.UniqueConstraint(
            "ticket_id",
            "kind",
            "level",
            "clock_start",
            name=op.f("uq_sla_notices_ticket_id_kind_level_clock_start"),
        ),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "awaiting_reply_since", storage.orm.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("sla_breached", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("sla_breached")
        batch_op.drop_column("awaiting_reply_since")

    op.drop_table("sla_notices")
