"""team groups: a team may have its own agents' group, where its tickets' topics live

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 16:00:00.000000

``teams.group_chat_id`` is the chat id of that forum supergroup (NULL: the desk's main group).
Tickets already store their place (``agent_chat_id`` and ``agent_thread_id``), so no ticket
changes here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("group_chat_id", sa.BigInteger(), nullable=True))
        batch.create_index("ix_teams_group_chat_id", ["group_chat_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.drop_index("ix_teams_group_chat_id")
        batch.drop_column("group_chat_id")
