"""outbox channels: each call names its channel; webhook endpoints lose their fake chat ids

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 14:00:00.000000

Webhook deliveries were queued under ``-(2**60) - endpoint id`` as their "chat"; they now carry
``channel = 'webhook'`` and the endpoint's own id, and every queue is (channel, chat_id).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_WEBHOOK_BASE = -(2**60)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(length=16), server_default="telegram", nullable=False)
        )
        batch.drop_index("ix_outbox_pending")
        batch.create_index(
            "ix_outbox_pending", ["status", "channel", "chat_id", "lane", "id"], unique=False
        )
    outbox = sa.table("outbox", sa.column("channel"), sa.column("chat_id", sa.BigInteger))
    op.execute(
        sa.update(outbox)
        .where(outbox.c.chat_id <= _OLD_WEBHOOK_BASE)
        .values(channel="webhook", chat_id=_OLD_WEBHOOK_BASE - outbox.c.chat_id)
    )


def downgrade() -> None:
    outbox = sa.table("outbox", sa.column("channel"), sa.column("chat_id", sa.BigInteger))
    op.execute(
        sa.update(outbox)
        .where(outbox.c.channel == "webhook")
        .values(chat_id=_OLD_WEBHOOK_BASE - outbox.c.chat_id)
    )
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_pending")
        batch.create_index("ix_outbox_pending", ["status", "chat_id", "lane", "id"], unique=False)
        batch.drop_column("channel")
