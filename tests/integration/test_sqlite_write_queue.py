"""This process's SQLite writers queue in asyncio, not in SQLite's sleeping busy handler."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import make_engine
from storage.sqlite_onehop import COSTS, write_lock


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncEngine:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'queue.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE log (who TEXT)"))
    yield engine
    await engine.dispose()


async def test_a_second_writer_waits_for_the_first_and_starts_when_it_commits(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    order: list[str] = []
    first_holds = asyncio.Event()
    let_first_commit = asyncio.Event()

    async def first() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO log VALUES ('first')"))
            first_holds.set()
            await let_first_commit.wait()
            order.append("first commits")

    async def second() -> None:
        await first_holds.wait()
        async with engine.begin() as conn:
            order.append("second begins")
            await conn.execute(text("INSERT INTO log VALUES ('second')"))

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await first_holds.wait()
    for _ in range(20):  # the second writer gets every chance to run
        await asyncio.sleep(0)
    assert write_lock(str(tmp_path / "queue.db")).locked()
    assert order == []  # the second is queued behind the lock, not inside SQLite
    let_first_commit.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert order == ["first commits", "second begins"]
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT who FROM log ORDER BY rowid"))).scalars().all()
    assert rows == ["first", "second"]


async def test_a_failed_transaction_frees_the_lock(engine: AsyncEngine, tmp_path: Path) -> None:
    with pytest.raises(OperationalError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO missing VALUES (1)"))
    assert not write_lock(str(tmp_path / "queue.db")).locked()
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO log VALUES ('after')"))
    assert not write_lock(str(tmp_path / "queue.db")).locked()


async def test_a_writer_that_waits_for_itself_gets_database_is_locked(tmp_path: Path) -> None:
    # As SQLite answers a second connection after its busy timeout: never a silent hang.
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'self.db'}", busy_timeout_ms=200)
    try:
        async with engine.begin() as outer:
            await outer.execute(text("CREATE TABLE t (x INTEGER)"))
            with pytest.raises(OperationalError, match="database is locked"):
                async with engine.begin() as inner:
                    await inner.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        await engine.dispose()


# -- which thread runs a statement ------------------------------------------------------------


def _thread_functions(engine: AsyncEngine) -> None:
    """``thread()`` answers the thread a statement runs in; ``slow()`` takes 5 ms of CPU,
    ``waits()`` 5 ms of waiting (as for the disk)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _functions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("thread", 0, threading.get_ident)
        dbapi_connection.create_function("slow", 0, _busy_5ms)
        dbapi_connection.create_function("waits", 0, lambda: time.sleep(0.005) or 1)


def _busy_5ms() -> int:
    """5 ms of CPU, as a statement that scans much does."""
    until = time.thread_time() + 0.005
    while time.thread_time() < until:
        pass
    return 1


async def test_a_cheap_statement_skips_the_thread_hop_after_its_first_run(
    engine: AsyncEngine,
) -> None:
    _thread_functions(engine)
    await engine.dispose()  # new connections get the functions
    query = text("SELECT thread() AS t, 'cheap' AS kind")
    async with engine.connect() as conn:
        runs = [(await conn.execute(query)).scalar_one() for _ in range(3)]
    loop_thread = threading.get_ident()
    assert runs[0] != loop_thread  # never seen: timed in aiosqlite's thread
    assert runs[1:] == [loop_thread, loop_thread]


async def test_a_slow_statement_always_runs_in_aiosqlite_s_thread(engine: AsyncEngine) -> None:
    _thread_functions(engine)
    await engine.dispose()
    query = text("SELECT thread() AS t, slow() AS s")
    async with engine.connect() as conn:
        runs = [(await conn.execute(query)).scalar_one() for _ in range(3)]
    assert threading.get_ident() not in runs


async def test_a_statement_that_waits_runs_on_the_loop_at_most_once_in_a_row(
    engine: AsyncEngine,
) -> None:
    # In the thread it is timed by CPU and looks cheap; its one run on the loop is timed by
    # the clock and sends it back.
    _thread_functions(engine)
    await engine.dispose()
    query = text("SELECT thread() AS t, waits() AS w")
    async with engine.connect() as conn:
        runs = [(await conn.execute(query)).scalar_one() for _ in range(6)]
    on_loop = [run == threading.get_ident() for run in runs]
    assert not any(a and b for a, b in itertools.pairwise(on_loop))


async def test_a_write_lock_held_by_another_process_is_waited_for_without_holding_the_loop(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    # The other process: a plain connection of its own, holding SQLite's write lock.
    other = sqlite3.connect(tmp_path / "queue.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def write() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO log VALUES ('waited')"))

    clock = asyncio.create_task(ticker())
    writer = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writer.done()  # still waiting for the other's lock ...
    assert ticks >= 10  # ... while the loop went on
    other.rollback()
    await asyncio.wait_for(writer, 5)
    clock.cancel()
    other.close()
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT who FROM log"))).scalars().all()
    assert rows == ["waited"]


async def test_nothing_runs_on_the_loop_while_the_thread_still_runs_a_cancelled_call(
    engine: AsyncEngine,
) -> None:
    # A cancelled caller's statement runs to its end in aiosqlite's thread; a cheap statement
    # meanwhile must queue behind it there, never use the connection from the loop at once.
    COSTS.record("cheap: the thread", 0.0)
    started = threading.Event()

    def slow() -> int:
        started.set()
        time.sleep(0.3)
        return threading.get_ident()

    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        adapted = raw.dbapi_connection
        call = asyncio.create_task(adapted.call("slow: the thread", slow))
        assert await asyncio.to_thread(started.wait, 5)
        call.cancel()
        ran_in = await adapted.call("cheap: the thread", threading.get_ident)
        assert ran_in != threading.get_ident()  # behind the slow one, in the thread
        assert adapted.thread_idle()
        # Once the thread is done, the cheap statement runs on the loop again.
        assert await adapted.call("cheap: the thread", threading.get_ident) == (
            threading.get_ident()
        )
