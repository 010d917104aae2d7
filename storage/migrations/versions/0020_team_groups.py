"""team groups: a team's own agents' group; a moved ticket's old topic

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 16:00:00.000000

``teams.group_chat_id`` is the chat id of that forum supergroup (NULL: the desk's main group).
Tickets already store their place (``agent_chat_id`` and ``agent_thread_id``); a ticket moved to
another group keeps its old topic in ``moved_from_chat_id`` / ``moved_from_thread_id`` until
that topic is closed with a link to the new one. Plain ``ADD COLUMN`` on ``tickets`` (no batch):
SQLite would otherwise rebuild the table and drop its full-text triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("group_chat_id", sa.BigInteger(), nullable=True))
        batch.create_index("ix_teams_group_chat_id", ["group_chat_id"], unique=False)
    op.add_column("tickets", sa.Column("moved_from_chat_id", sa.BigInteger(), nullable=True))
    op.add_column("tickets", sa.Column("moved_from_thread_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("tickets", "moved_from_thread_id")
    op.drop_column("tickets", "moved_from_chat_id")
    with op.batch_alter_table("teams") as batch:
        batch.drop_index("ix_teams_group_chat_id")
        batch.drop_column("group_chat_id")
