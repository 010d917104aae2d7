"""Shared fixtures: databases on both backends, units of work, a fixed clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.coordination import RedisCoordinator
from storage import SqlAlchemyUnitOfWork
from storage import uow_factory as make_uow_factory
from tests.support.db import BACKENDS, empty_database, engine_with_schema

if TYPE_CHECKING:
    from tests.support.mailservers import Outbox


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database URL, once per backend."""
    async for url in empty_database(request.param, tmp_path):
        yield url


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> AsyncIterator[str]:
    async for url in empty_database("sqlite", tmp_path):
        yield url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = await engine_with_schema(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def uow_factory(engine: AsyncEngine) -> Callable[..., SqlAlchemyUnitOfWork]:
    return make_uow_factory(engine)


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[Outbox, int]]:
    """A local SMTP server taking the desk's outgoing mail: its outbox and its port."""
    from tests.support.mailservers import smtp_server

    async with smtp_server() as server:
        yield server


REDIS_ENV = "HELPDESK_TEST_REDIS_URL"


@pytest.fixture
async def redis_workers() -> AsyncIterator[Callable[[], RedisCoordinator]]:
    """Make coordinators as separate workers would have them: one Redis, one key prefix (fresh
    per test), a client each. Skips when ``HELPDESK_TEST_REDIS_URL`` is unset."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"Redis tests need {REDIS_ENV} (e.g. redis://127.0.0.1:6379/0)")
    prefix = f"helpdesk-test-{uuid.uuid4().hex[:10]}"
    made: list[RedisCoordinator] = []

    def make() -> RedisCoordinator:
        made.append(RedisCoordinator(url, prefix=prefix, worker=f"w{len(made) + 1}"))
        return made[-1]

    yield make
    if made:
        keys = [k async for k in made[0].redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await made[0].redis.delete(*keys)
    for coordinator in made:
        await coordinator.close()
