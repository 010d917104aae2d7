"""linked customers: an email address linked to a Telegram customer, and where replies go

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 22:00:00.000000

Two added columns on ``customers``, their foreign keys written inline (``ADD COLUMN ...
REFERENCES``), so no table is rebuilt on SQLite: a rebuild would drop ``customers`` while
tickets refer to it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _column(name: str) -> sa.Column[int]:
    return sa.Column(
        name,
        sa.Integer(),
        sa.ForeignKey("customers.id", name=op.f(f"fk_customers_{name}_customers")),
        nullable=True,
    )


def upgrade() -> None:
    op.add_column("customers", _column("linked_to_id"), inline_references=True)
    op.add_column("customers", _column("reply_via_id"), inline_references=True)
    op.create_index("ix_customers_linked_to_id", "customers", ["linked_to_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_customers_linked_to_id", table_name="customers")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("reply_via_id")
        batch.drop_column("linked_to_id")
