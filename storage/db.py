"""Engine and session factory, with the SQLite settings a concurrent bot needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util.concurrency import await_

from storage.sqlite_onehop import WRITE_BEGIN, OneHopDBAPI

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(
    url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, **kwargs: Any
) -> AsyncEngine:
    """Create the async engine; on SQLite: WAL, foreign keys, busy timeout, write-locking begins.

    SQLite transactions start with ``BEGIN IMMEDIATE``: a deferred transaction that reads first and
    writes later can fail with "database is locked" at once when another writer committed in
    between, and the busy timeout does not help there. Taking the write lock up front makes
    concurrent writers queue on the busy timeout instead.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return _server_engine(url, **kwargs)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        # Cheap statements run on the loop's thread, the rest in aiosqlite's (one at a time).
        connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
        module=OneHopDBAPI(),  # one thread hop per statement, not four
        **kwargs,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (not the driver) decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Readers never take the write lock: in WAL mode they see a snapshot and block nobody.
        readonly = conn.get_execution_options().get(READONLY_OPTION, False)
        conn.exec_driver_sql("BEGIN" if readonly else WRITE_BEGIN)

    return engine


def _server_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """PostgreSQL: every connection is checked before use (it may have died with a restart of
    the server), in one round trip.

    SQLAlchemy's ``pool_pre_ping`` on asyncpg wraps its ``;`` in a transaction, for pgbouncer's
    transaction mode (which asyncpg's prepared statements rule out anyway): three round trips
    on every unit of work, a quarter of a one-ticket read's. Here the check is the bare ``;``;
    a connection that fails it is dropped with every older one and replaced, as pre-ping does.
    """
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(_dbapi_connection: Any, _record: Any, proxy: Any) -> None:
        try:
            await_(proxy.driver_connection.fetchrow(";"))
        except Exception as error:
            raise InvalidatePoolError(f"ping failed: {error!r}") from error

    return engine


READONLY_OPTION = "helpdesk_readonly"


def make_session_factory(
    engine: AsyncEngine, *, readonly: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions for the unit of work; ``readonly`` ones must not write (on SQLite they start a
    plain deferred transaction instead of taking the write lock)."""
    bind = engine.execution_options(**{READONLY_OPTION: True}) if readonly else engine
    return async_sessionmaker(bind, expire_on_commit=False, autoflush=False)
