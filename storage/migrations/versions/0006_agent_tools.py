"""agent tools: canned answers, assignment strategies, tags, merges, bans

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 19:14:42

Columns are added with plain ``ADD COLUMN`` (no batch rebuild), so SQLite keeps the tables'
triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.orm

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "canned_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.orm.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["agents.id"],
            name=op.f("fk_canned_answers_created_by_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_answers")),
        sa.UniqueConstraint("key", "language", name=op.f("uq_canned_answers_key_language")),
    )
    op.add_column("categories", sa.Column("auto_answer_key", sa.String(length=32)))
    op.add_column("categories", sa.Column("auto_answer_threshold", sa.Float()))
    op.add_column("customers", sa.Column("ban_reason", sa.String(length=256)))
    op.add_column("customers", sa.Column("last_notice_at", storage.orm.UTCDateTime(timezone=True)))
    op.add_column(
        "teams",
        sa.Column("strategy", sa.String(length=16), server_default="manual", nullable=False),
    )
    op.add_column(
        "tickets", sa.Column("tags", sa.String(length=400), server_default="", nullable=False)
    )
    op.add_column(
        "tickets",
        sa.Column("suggestions", sa.String(length=64), server_default="", nullable=False),
    )
    op.add_column("tickets", sa.Column("auto_answer", sa.String(length=32)))
    op.add_column("tickets", sa.Column("merged_into_id", sa.Integer()))


def downgrade() -> None:
    for table, column in [
        ("tickets", "merged_into_id"),
        ("tickets", "auto_answer"),
        ("tickets", "suggestions"),
        ("tickets", "tags"),
        ("teams", "strategy"),
        ("customers", "last_notice_at"),
        ("customers", "ban_reason"),
        ("categories", "auto_answer_threshold"),
        ("categories", "auto_answer_key"),
    ]:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column(column)
    op.drop_table("canned_answers")
