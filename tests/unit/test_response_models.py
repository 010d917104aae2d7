"""aiogram's response models survive garbage collection once the bot has used them."""

from __future__ import annotations

import gc
import weakref

from aiogram.methods import GetMe, Response

from bot.middlewares.responses import KeepResponseModels
from bot.sandbox.emulator import BotApiEmulator
from tests.support.session import make_bot


async def test_a_method_s_response_model_is_built_once_and_kept() -> None:
    emulator = BotApiEmulator()
    bot = make_bot(emulator)
    keeper = KeepResponseModels()
    bot.session.middleware(keeper)
    await bot(GetMe())
    model = weakref.ref(Response[GetMe.__returning__])  # type: ignore[name-defined]
    gc.collect()
    assert model() is not None
    assert Response[GetMe.__returning__] is model()  # type: ignore[name-defined]
    assert GetMe in keeper.models
    await bot.session.close()
