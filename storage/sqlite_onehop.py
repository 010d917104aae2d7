"""aiosqlite with one thread hop per statement instead of four.

aiosqlite runs SQLite in a thread of its own; every call into it is a hop to that thread and
back. SQLAlchemy's adapter makes four per statement (make a cursor, execute, fetch the rows,
close the cursor), and each hop costs the event loop a future, a wake-up and a handover of the
GIL. This adapter runs the whole statement (cursor, execute, fetch, close) as one function in
aiosqlite's thread. Same driver, same SQL, same transactions; only fewer round trips.

It also queues this process's writers in asyncio. SQLite lets one transaction write at a time;
a ``BEGIN IMMEDIATE`` that finds the lock taken waits in SQLite's busy handler, which sleeps
1, 2, 5, ... up to 100 ms between looks and so wakes long after the lock was freed (measured: a
40-customer burst spent 19 s of its 20 s in such waits while the statements took 1.5 s). Here a
write transaction first takes an :class:`asyncio.Lock` per database file and frees it when it
commits or rolls back, so the next writer of the process starts the moment the lock is free.
Other processes (the CLI, a second bot) still meet the busy handler, as before.

And it skips the hop altogether for statements known to be cheap. A hop costs the loop more
than most of the desk's statements cost SQLite (a lookup by key, an insert: tens of
microseconds), so a statement whose last run took under :data:`INLINE_BELOW` runs on the
loop's own thread (:class:`StatementCosts`). The first run of each SQL text and anything that
turned out slower (a report, a search over the whole history, a commit that checkpointed the
log) go through the thread and are timed there (by the thread's CPU time: a statement that
waited on the disk may run on the loop once, is timed there by the clock, and goes back), so
the loop is held no longer than a cheap statement takes. ``BEGIN IMMEDIATE`` is tried on the
loop without waiting; when another process holds the write lock it is waited for in the
thread, as before. The connection is used from both threads, never at once: every call holds
the connection's mutex.

A commit or rollback with nothing to end is not sent at all: no statement ran since the last
one (the connection is in autocommit mode, so only a statement can open a transaction). The
pool rolls back every connection it gets back, after the session already rolled it back: that
second rollback was a hop of its own on every read.

It is handed to SQLAlchemy as the DBAPI ``module`` of the ``sqlite+aiosqlite`` dialect
(``storage.db.make_engine``); written against SQLAlchemy 2.1's asyncio adapter classes.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import time
import weakref
from collections.abc import Callable, Sequence
from threading import Thread
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, list[Any], int, int | None]

#: A statement whose last run took less than this (seconds) runs on the loop's thread.
INLINE_BELOW = 0.001


class StatementCosts:
    """How long each SQL text took when it last ran, to tell the cheap ones.

    Keyed by the SQL text, which SQLAlchemy compiles once per statement shape; bounded, so a
    process that builds SQL texts on the fly (searches) does not grow it without end.
    """

    LIMIT = 4096

    def __init__(self, inline_below: float = INLINE_BELOW) -> None:
        self.inline_below = inline_below
        self._last: dict[str, float] = {}

    def cheap(self, sql: str) -> bool:
        """Known to be cheap: it ran before, quickly (never a ``BEGIN IMMEDIATE``)."""
        return sql != WRITE_BEGIN and self._last.get(sql, self.inline_below) < self.inline_below

    def record(self, sql: str, seconds: float) -> None:
        if len(self._last) >= self.LIMIT and sql not in self._last:
            self._last.clear()
        self._last[sql] = seconds


#: This process's costs (SQL texts are the same for every connection and database file).
COSTS = StatementCosts()


def _timed(clock: Callable[[], float], call: Any, *args: Any) -> tuple[Any, float]:
    """``call(*args)`` and how long it took by ``clock``, measured where it ran."""
    started = clock()
    result = call(*args)
    return result, clock() - started


def _run(conn: sqlite3.Connection, operation: str, parameters: Any) -> Outcome:
    """The whole statement, its rows and what the cursor tells."""
    cursor = conn.cursor()
    try:
        cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run_many(conn: sqlite3.Connection, operation: str, seq: Sequence[Any]) -> Outcome:
    cursor = conn.cursor()
    try:
        cursor.executemany(operation, seq)
        return cursor.description, [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement runs in one call into aiosqlite's thread."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")
    _adapt_connection: OneHopConnection

    def __init__(self, adapt_connection: Any) -> None:
        # No aiosqlite cursor is made: it would cost a hop to make and one to close.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        return None

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        if operation == WRITE_BEGIN:
            await self._adapt_connection.take_write_lock()
        try:
            await self._run_async(operation, parameters)
        except BaseException:
            if operation == WRITE_BEGIN:
                self._adapt_connection.free_write_lock()
            raise

    async def _run_async(self, operation: Any, parameters: Any) -> None:
        async with self._adapt_connection._execute_mutex:
            self._adapt_connection.sent = True
            conn = self._connection._conn
            adapt = self._adapt_connection
            if operation == WRITE_BEGIN and adapt.thread_idle() and adapt.begin_at_once(conn):
                outcome: Outcome = (None, [], -1, None)
            else:
                outcome = await self._adapt_connection.call(
                    operation, _run, conn, operation, parameters
                )
        self._keep(outcome)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            self._adapt_connection.sent = True
            outcome = await self._adapt_connection.call(
                operation, _run_many, self._connection._conn, operation, seq_of_parameters
            )
        self._keep(outcome)

    def _keep(self, outcome: Outcome) -> None:
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)


#: The statement that opens a write transaction (``storage.db`` issues it).
WRITE_BEGIN = "BEGIN IMMEDIATE"

#: The write lock of each database file, per event loop (a lock belongs to one loop).
_write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def write_lock(database: str) -> asyncio.Lock:
    """This process's lock for writing ``database`` on the running loop."""
    locks = _write_locks.setdefault(asyncio.get_running_loop(), {})
    return locks.setdefault(database, asyncio.Lock())


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_database", "_finished", "_lock_timeout", "_queued", "_write_lock", "sent")
    _cursor_cls = OneHopCursor

    def __init__(
        self, dbapi: Any, connection: Any, *, database: str | None, lock_timeout: float
    ) -> None:
        super().__init__(dbapi, connection)
        self._database = database
        self._lock_timeout = lock_timeout
        self._write_lock: asyncio.Lock | None = None
        #: Whether a statement ran since the last commit or rollback (only then can a
        #: transaction be open: storage.db puts the connection in autocommit mode).
        self.sent = False
        #: Calls handed to aiosqlite's thread (counted here) and finished there (counted by
        #: the thread). A call whose caller was cancelled still runs to its end in the thread:
        #: until it has, nothing runs on the loop's thread, so the two never use the
        #: connection at once.
        self._queued = 0
        self._finished = 0

    async def take_write_lock(self) -> None:
        """Wait for the other writers of this process (as long as SQLite would wait)."""
        if self._database is None or self._write_lock is not None:
            return
        lock = write_lock(self._database)
        try:
            await asyncio.wait_for(lock.acquire(), self._lock_timeout)
        except TimeoutError:
            held = f"{self._lock_timeout:g} s"
            msg = f"database is locked (another writer of this process held it {held})"
            raise sqlite3.OperationalError(msg) from None
        self._write_lock = lock

    def free_write_lock(self) -> None:
        lock, self._write_lock = self._write_lock, None
        if lock is not None:
            lock.release()

    def begin_at_once(self, conn: sqlite3.Connection) -> bool:
        """``BEGIN IMMEDIATE`` on this thread if no other process holds the write lock (without
        waiting); False when one does: then it is waited for in aiosqlite's thread."""
        conn.execute("PRAGMA busy_timeout=0")
        try:
            conn.execute(WRITE_BEGIN)
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
            return False
        finally:
            conn.execute(f"PRAGMA busy_timeout={round(self._lock_timeout * 1000)}")
        return True

    async def call(self, sql: str, call: Any, *args: Any) -> Any:
        """``call(*args)`` for the statement ``sql``: on this thread when ``sql`` is known to be
        cheap, else in aiosqlite's thread; either way its cost is kept for next time."""
        if COSTS.cheap(sql) and self.thread_idle():
            result, seconds = _timed(time.perf_counter, call, *args)
        else:
            self._queued += 1
            result, seconds = await self._connection._execute(self._in_thread, call, *args)
        COSTS.record(sql, seconds)
        return result

    def thread_idle(self) -> bool:
        """Whether aiosqlite's thread has finished every call handed to it."""
        return self._queued == self._finished

    def _in_thread(self, call: Any, *args: Any) -> tuple[Any, float]:
        try:
            # The thread's own CPU time: not the wait for the GIL, which the busy loop may hold
            # for milliseconds after SQLite is done (a cheap statement would look slow).
            return _timed(time.thread_time, call, *args)
        finally:
            self._finished += 1

    def commit(self) -> None:
        self._end("COMMIT")

    def rollback(self) -> None:
        self._end("ROLLBACK")

    def _end(self, sql: str) -> None:
        """Commit or roll back, if a statement ran since the last time (else nothing is open);
        like a statement, on this thread when that is known to be cheap."""
        try:
            if self._connection._connection and self.sent:
                await_(self._end_async(sql))
        except Exception as error:
            self._handle_exception(error)
        finally:
            self.free_write_lock()

    async def _end_async(self, sql: str) -> None:
        conn = self._connection._conn
        async with self._execute_mutex:
            await self.call(sql, conn.commit if sql == "COMMIT" else conn.rollback)
            # Only once it worked: a commit that failed leaves the transaction open, and the
            # rollback that follows must still be sent.
            self.sent = False

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.free_write_lock()


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite DBAPI adapter, handing out :class:`OneHopConnection` objects."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        database = kw.get("database", arg[0] if arg else None)
        if not isinstance(database, str) or database in MEMORY:
            database = None  # a connection of its own: nobody to queue behind
        lock_timeout = float(kw.get("timeout", 5.0))
        creator_fn = kw.pop("async_creator_fn", None)
        if creator_fn:
            connection = creator_fn(*arg, **kw)
        else:
            connection = self.aiosqlite.connect(*arg, **kw)
            # As SQLAlchemy does: the connection's thread must not keep the process alive.
            thread = connection if isinstance(connection, Thread) else connection._thread
            thread.daemon = True
        return OneHopConnection(
            self, await_(connection), database=database, lock_timeout=lock_timeout
        )


MEMORY = ("", ":memory:")
