"""The queries every customer message runs use an index, whatever the history looks like.

A query plan, not a timing: SQLite's ``EXPLAIN QUERY PLAN`` of the statement the repository
actually sends, on a desk whose statistics (``ANALYZE``) come from a history where most
messages have no customer chat (an imported history, messages from the API): with only the
unique (chat, message id) index, the planner scanned every message for the flood count.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from storage import uow_factory as make_uow_factory
from tests.support.db import engine_with_schema

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
CHAT = 5_000_000_001


INSERT = (
    "INSERT INTO ticket_messages (ticket_id, direction, sent_at, text, media_kind, "
    "customer_chat_id, customer_message_id, edited) VALUES (1, 'customer', "
    "'2026-01-01 00:00:00.000000', 'hi', 'text', ?, ?, 0)"
)


def imported_history(db: Path, messages: int) -> None:
    """``messages`` messages without a customer chat, statistics taken (PostgreSQL's autovacuum
    always takes them; SQLite when ``ANALYZE`` runs, as on bench/load.py's history), then a
    customer who writes in Telegram."""
    with sqlite3.connect(db) as conn:
        conn.executemany(INSERT, [(None, i) for i in range(messages)])
        conn.execute("ANALYZE")
        conn.executemany(INSERT, [(CHAT, i) for i in range(20)])


async def test_the_flood_count_searches_an_index(tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    engine = await engine_with_schema(f"sqlite+aiosqlite:///{db}")
    try:
        imported_history(db, 20_000)
        sent: list[tuple[str, Any]] = []

        def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
            sent.append((statement, params))

        event.listen(engine.sync_engine, "before_cursor_execute", record)
        async with make_uow_factory(engine)(readonly=True) as uow:
            recent = await uow.messages.customer_messages_since(CHAT, NOW - timedelta(days=400))
        event.remove(engine.sync_engine, "before_cursor_execute", record)
        assert recent == 20  # the messages with that chat, all within the window

        [(statement, params)] = [(s, p) for s, p in sent if "count(" in s.lower()]
        async with engine.connect() as conn:
            plan = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)).all()
        details = " | ".join(str(row[-1]) for row in plan)
        assert "ix_ticket_messages_customer_sent" in details, details
        assert "SCAN ticket_messages" not in details, details
    finally:
        await engine.dispose()
