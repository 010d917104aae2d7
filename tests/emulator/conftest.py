"""Fixtures for the emulator's own tests: an in-process world, an HTTP one, and bots on both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession

from bot.sandbox.emulator import BotApiEmulator
from tests.support.session import make_bot


def _no_emulator_bugs(emulator: BotApiEmulator) -> None:
    assert not emulator.internal_errors, "\n".join(emulator.internal_errors)


@pytest.fixture
def emulator() -> Iterator[BotApiEmulator]:
    emulator = BotApiEmulator()
    yield emulator
    _no_emulator_bugs(emulator)


@pytest.fixture
async def http_emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator() as emulator:
        yield emulator
    _no_emulator_bugs(emulator)


@pytest.fixture
async def http_bot(http_emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    bot = Bot(http_emulator.token or "", session=AiohttpSession(api=http_emulator.api_server()))
    yield bot
    await bot.session.close()


@pytest.fixture(params=["http", "session"])
async def api(request: pytest.FixtureRequest) -> AsyncIterator[tuple[BotApiEmulator, Bot]]:
    """The same world reached over HTTP (AiohttpSession) and in-process (EmulatorSession)."""
    emulator = BotApiEmulator()
    if request.param == "http":
        await emulator.start()
        bot = Bot(emulator.token or "", session=AiohttpSession(api=emulator.api_server()))
    else:
        bot = make_bot(emulator)
    yield emulator, bot
    await bot.session.close()
    await emulator.stop()
    _no_emulator_bugs(emulator)
