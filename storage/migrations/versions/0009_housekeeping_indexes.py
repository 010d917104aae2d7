"""indexes for lookups that scanned tables, and for pruning the inbox and outbox

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 02:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ("ix_tickets_card", "tickets", ["agent_chat_id", "card_message_id"]),
    ("ix_tickets_merged_into", "tickets", ["merged_into_id"]),
    ("ix_tickets_customer_updated", "tickets", ["customer_id", "updated_at"]),
    ("ix_tickets_created_at", "tickets", ["created_at"]),
    ("ix_ratings_prompt", "ratings", ["prompt_message_id"]),
    ("ix_inbox_received", "inbox", ["received_at"]),
    ("ix_outbox_created", "outbox", ["created_at"]),
]


def upgrade() -> None:
    # Plain CREATE INDEX, not a batch: a batch would rebuild tickets on SQLite and drop its
    # full-text triggers.
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
