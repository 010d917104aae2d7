"""Full-text index objects that live outside the ORM metadata.

SQLite: two FTS5 tables with external content (``tickets_fts`` over ``tickets.subject``,
``ticket_messages_fts`` over ``ticket_messages.text``; the text is not stored twice), kept in sync
by triggers. PostgreSQL: STORED generated ``tsvector`` columns (``tickets.subject_tsv``,
``ticket_messages.text_tsv``, ``to_tsvector('simple', ...)`` of the text) with GIN indexes; a
stored vector is read, not re-parsed, when a row is ranked or checked for a phrase.

Migrations 0005 and 0008 create the same objects from a frozen copy of these statements
(migrations must not change when this module does); ``create_all`` runs
:func:`create_search_objects` so databases built from the metadata (tests) can search too. A
test compares the two.

Autogenerate never sees these objects as drift: :func:`is_search_object` is the ``include_name``
filter of ``migrations/env.py`` (the generated columns are not mapped: the ORM never reads or
writes them).

Caveat for future migrations on SQLite: a batch migration that recreates ``tickets`` or
``ticket_messages`` (``batch_alter_table`` with "move and copy") drops their triggers. Such a
migration must call :func:`create_sqlite_triggers` afterwards and rebuild the index
(:data:`SQLITE_REBUILD`).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

MESSAGES_FTS = "ticket_messages_fts"
TICKETS_FTS = "tickets_fts"
MESSAGES_GIN = "ix_ticket_messages_text_fts"
TICKETS_GIN = "ix_tickets_subject_fts"


#: PostgreSQL's stored tsvector columns (table -> column); the GIN indexes are on them.
MESSAGES_TSV = "text_tsv"
TICKETS_TSV = "subject_tsv"
_TSV_COLUMNS = {"tickets": TICKETS_TSV, "ticket_messages": MESSAGES_TSV}


_TOKENIZE = "tokenize='unicode61 remove_diacritics 2', prefix='2 3'"

SQLITE_TABLES = [
    f"CREATE VIRTUAL TABLE {TICKETS_FTS} USING fts5("
    f"subject, content='tickets', content_rowid='id', {_TOKENIZE})",
    f"CREATE VIRTUAL TABLE {MESSAGES_FTS} USING fts5("
    f"text, content='ticket_messages', content_rowid='id', {_TOKENIZE})",
]


def _sqlite_triggers(fts: str, table: str, column: str) -> list[str]:
    insert = f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column});"
    delete = f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});"
    return [
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {column} ON {table} "
        f"BEGIN {delete} {insert} END",
    ]


SQLITE_TRIGGERS = _sqlite_triggers(TICKETS_FTS, "tickets", "subject") + _sqlite_triggers(
    MESSAGES_FTS, "ticket_messages", "text"
)
SQLITE_REBUILD = [
    f"INSERT INTO {TICKETS_FTS}({TICKETS_FTS}) VALUES ('rebuild')",
    f"INSERT INTO {MESSAGES_FTS}({MESSAGES_FTS}) VALUES ('rebuild')",
]
POSTGRES_OBJECTS = [
    f"ALTER TABLE tickets ADD COLUMN {TICKETS_TSV} tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, (subject)::text)) STORED",
    f"ALTER TABLE ticket_messages ADD COLUMN {MESSAGES_TSV} tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, coalesce(text, ''::text))) STORED",
    f"CREATE INDEX {TICKETS_GIN} ON tickets USING gin ({TICKETS_TSV})",
    f"CREATE INDEX {MESSAGES_GIN} ON ticket_messages USING gin ({MESSAGES_TSV})",
]

_SQLITE_TABLE_NAMES = (TICKETS_FTS, MESSAGES_FTS)
_INDEX_NAMES = frozenset({TICKETS_GIN, MESSAGES_GIN})


def is_search_object(name: str | None, type_: str, table: str | None = None) -> bool:
    """Whether a reflected table, column or index belongs to full-text search (FTS5 tables and
    their shadow tables ``<name>_data``, ``_idx``, ``_docsize``, ``_config``; the tsvector
    columns, named with their ``table``; the GIN indexes)."""
    if name is None:
        return False
    if type_ == "table":
        return any(name == t or name.startswith(t + "_") for t in _SQLITE_TABLE_NAMES)
    if type_ == "column":
        return table is not None and _TSV_COLUMNS.get(table) == name
    return type_ == "index" and name in _INDEX_NAMES


def create_sqlite_triggers(connection: Connection) -> None:
    for statement in SQLITE_TRIGGERS:
        connection.execute(text(statement))


def create_search_objects(connection: Connection) -> None:
    """Create the index objects for the connection's dialect and index the existing rows
    (nothing when they exist: ``create_all`` may run twice on one database)."""
    if connection.dialect.name == "sqlite":
        exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"
        if connection.execute(text(exists), {"name": TICKETS_FTS}).first():
            return
        for statement in SQLITE_TABLES:
            connection.execute(text(statement))
        create_sqlite_triggers(connection)
        for statement in SQLITE_REBUILD:
            connection.execute(text(statement))
    elif connection.dialect.name == "postgresql":
        exists = (
            "SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = :name"
        )
        if connection.execute(text(exists), {"name": TICKETS_GIN}).first():
            return
        for statement in POSTGRES_OBJECTS:
            connection.execute(text(statement))
