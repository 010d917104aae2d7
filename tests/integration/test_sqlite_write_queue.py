"""This process's SQLite writers queue in asyncio, not in SQLite's sleeping busy handler."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import make_engine
from storage.sqlite_onehop import write_lock


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
