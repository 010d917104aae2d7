"""Migrations build the schema on an empty database, and agree with the models."""

from __future__ import annotations

import asyncio

from storage import migrate


async def test_upgrade_head_on_empty_database_then_no_drift(db_url: str) -> None:
    assert await asyncio.to_thread(migrate.current, db_url) is None
    await asyncio.to_thread(migrate.upgrade, db_url)
    assert await asyncio.to_thread(migrate.current, db_url) == migrate.head_revision()
    await asyncio.to_thread(migrate.check, db_url)


async def test_upgrade_is_idempotent(sqlite_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, sqlite_url)
    await asyncio.to_thread(migrate.upgrade, sqlite_url)
    assert await asyncio.to_thread(migrate.current, sqlite_url) == migrate.head_revision()
