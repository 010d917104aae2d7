"""Database fixtures: every storage test runs on SQLite and, when configured, on PostgreSQL.

PostgreSQL tests read ``HELPDESK_TEST_POSTGRES_URL`` (e.g.
``postgresql+asyncpg://postgres@127.0.0.1:5432/test``) and skip with that reason when it is unset.
Each test gets a database of its own, created from that server and dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage import make_engine
from storage.orm import Base

POSTGRES_ENV = "HELPDESK_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


async def _admin(statement: str, base_url: str) -> None:
    admin = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


async def empty_database(
    backend: str, tmp_path: Path, server: str | None = None
) -> AsyncIterator[str]:
    """Yield the URL of a new, empty database on ``backend``; drop it afterwards. PostgreSQL
    databases are made on ``server`` (default: ``HELPDESK_TEST_POSTGRES_URL``)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    base = server or postgres_url()
    if base is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+asyncpg://...)")
    name = f"helpdesk_test_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}"', base)
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', base)


async def engine_with_schema(url: str) -> AsyncEngine:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return engine
