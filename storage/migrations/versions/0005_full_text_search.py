"""full-text search over ticket subjects and message texts

SQLite: FTS5 tables with external content (``tickets_fts``, ``ticket_messages_fts``; unicode61
tokenizer, diacritics removed, prefix indexes for 2 and 3 characters) kept in sync by triggers,
filled from the existing rows. PostgreSQL: GIN expression indexes on
``to_tsvector('simple', ...)``.
None of these objects is in the ORM metadata; ``migrations/env.py`` keeps autogenerate from
reporting them (storage/fts.py, ``is_search_object``). The statements are a frozen copy of
storage/fts.py; tests/integration/test_search.py checks that the two agree.

On PostgreSQL the indexes are built inside the migration's transaction, which blocks writes to
the two tables meanwhile (seconds per million messages); run it at a quiet time on big desks.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TOKENIZE = "tokenize='unicode61 remove_diacritics 2', prefix='2 3'"

SQLITE_UPGRADE = [
    "CREATE VIRTUAL TABLE tickets_fts USING fts5("
    f"subject, content='tickets', content_rowid='id', {_TOKENIZE})",
    "CREATE VIRTUAL TABLE ticket_messages_fts USING fts5("
    f"text, content='ticket_messages', content_rowid='id', {_TOKENIZE})",
    "CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN "
    "INSERT INTO tickets_fts(rowid, subject) VALUES (new.id, new.subject); END",
    "CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, subject) "
    "VALUES ('delete', old.id, old.subject); END",
    "CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject ON tickets BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, subject) "
    "VALUES ('delete', old.id, old.subject); "
    "INSERT INTO tickets_fts(rowid, subject) VALUES (new.id, new.subject); END",
    "CREATE TRIGGER ticket_messages_fts_insert AFTER INSERT ON ticket_messages BEGIN "
    "INSERT INTO ticket_messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER ticket_messages_fts_delete AFTER DELETE ON ticket_messages BEGIN "
    "INSERT INTO ticket_messages_fts(ticket_messages_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER ticket_messages_fts_update AFTER UPDATE OF text ON ticket_messages BEGIN "
    "INSERT INTO ticket_messages_fts(ticket_messages_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); "
    "INSERT INTO ticket_messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO tickets_fts(tickets_fts) VALUES ('rebuild')",
    "INSERT INTO ticket_messages_fts(ticket_messages_fts) VALUES ('rebuild')",
]
SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS ticket_messages_fts_update",
    "DROP TRIGGER IF EXISTS ticket_messages_fts_delete",
    "DROP TRIGGER IF EXISTS ticket_messages_fts_insert",
    "DROP TRIGGER IF EXISTS tickets_fts_update",
    "DROP TRIGGER IF EXISTS tickets_fts_delete",
    "DROP TRIGGER IF EXISTS tickets_fts_insert",
    "DROP TABLE IF EXISTS ticket_messages_fts",
    "DROP TABLE IF EXISTS tickets_fts",
]
POSTGRES_UPGRADE = [
    "CREATE INDEX ix_tickets_subject_fts ON tickets "
    "USING gin (to_tsvector('simple'::regconfig, (subject)::text))",
    "CREATE INDEX ix_ticket_messages_text_fts ON ticket_messages "
    "USING gin (to_tsvector('simple'::regconfig, coalesce(text, ''::text)))",
]
POSTGRES_DOWNGRADE = [
    "DROP INDEX IF EXISTS ix_ticket_messages_text_fts",
    "DROP INDEX IF EXISTS ix_tickets_subject_fts",
]


def _run(statements: dict[str, list[str]]) -> None:
    for statement in statements.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRES_UPGRADE})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRES_DOWNGRADE})
