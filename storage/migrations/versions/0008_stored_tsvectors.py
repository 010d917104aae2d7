"""PostgreSQL full-text search on stored tsvector columns

The GIN expression indexes of 0005 stored no tsvector: every row PostgreSQL ranked or checked for
a phrase re-parsed its text (about 30 us a message), too slow for common words at a million
messages. This adds STORED generated columns ``tickets.subject_tsv`` and
``ticket_messages.text_tsv`` (the same expressions) and moves the GIN indexes onto them, keeping
their names. SQLite (FTS5) is unchanged.

The columns are not in the ORM metadata; ``migrations/env.py`` hides them from autogenerate
(storage/fts.py, ``is_search_object``). The statements are a frozen copy of storage/fts.py;
tests/integration/test_search.py checks that the two agree.

Adding a stored generated column rewrites the table under an exclusive lock (about half a minute
per million messages); run it at a quiet time on big desks.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 19:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES_UPGRADE = [
    "DROP INDEX IF EXISTS ix_ticket_messages_text_fts",
    "DROP INDEX IF EXISTS ix_tickets_subject_fts",
    "ALTER TABLE tickets ADD COLUMN subject_tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, (subject)::text)) STORED",
    "ALTER TABLE ticket_messages ADD COLUMN text_tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, coalesce(text, ''::text))) STORED",
    "CREATE INDEX ix_tickets_subject_fts ON tickets USING gin (subject_tsv)",
    "CREATE INDEX ix_ticket_messages_text_fts ON ticket_messages USING gin (text_tsv)",
]
POSTGRES_DOWNGRADE = [
    "DROP INDEX IF EXISTS ix_ticket_messages_text_fts",
    "DROP INDEX IF EXISTS ix_tickets_subject_fts",
    "ALTER TABLE ticket_messages DROP COLUMN IF EXISTS text_tsv",
    "ALTER TABLE tickets DROP COLUMN IF EXISTS subject_tsv",
    "CREATE INDEX ix_tickets_subject_fts ON tickets "
    "USING gin (to_tsvector('simple'::regconfig, (subject)::text))",
    "CREATE INDEX ix_ticket_messages_text_fts ON ticket_messages "
    "USING gin (to_tsvector('simple'::regconfig, coalesce(text, ''::text)))",
]


def _run(statements: list[str]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in statements:
            op.execute(statement)


def upgrade() -> None:
    _run(POSTGRES_UPGRADE)


def downgrade() -> None:
    _run(POSTGRES_DOWNGRADE)
