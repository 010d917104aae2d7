"""A real aiogram Dispatcher against the emulator: over HTTP polling and in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.filters import CommandStart
from aiogram.types import CallbackQuery, Message

from bot.sandbox.emulator import BotApiEmulator
from tests.support.session import feed, feed_pending, make_bot


def greeter() -> Dispatcher:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        """Greets whoever sends /start."""
        assert message.from_user is not None
        await message.answer(f"Hello, {message.from_user.first_name}!")

    @dp.callback_query(F.data == "ping")
    async def ping(query: CallbackQuery) -> None:
        """Answers the ping button."""
        await query.answer("pong")

    return dp


@asynccontextmanager
async def polling(dp: Dispatcher, bot: Bot, **kwargs: object) -> AsyncIterator[None]:
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, **kwargs)  # type: ignore[arg-type]
    )
    try:
        yield
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(task, 5)


async def test_start_polling_over_http_answers_start(http_emulator: BotApiEmulator) -> None:
    alice = http_emulator.add_user("Alice")
    bot = Bot(http_emulator.token or "", session=AiohttpSession(api=http_emulator.api_server()))
    try:
        async with polling(greeter(), bot, polling_timeout=1):
            http_emulator.user_sends_text(alice, "/start")
            reply = await http_emulator.wait_for_message(alice["id"], timeout=10)
            await http_emulator.wait_confirmed()
    finally:
        await bot.session.close()

    assert reply["text"] == "Hello, Alice!"
    polls = http_emulator.calls_of("getUpdates")
    assert polls[0].params.get("allowed_updates") == ["callback_query", "message"]
    assert any(c.params.get("offset") for c in polls), "the update was confirmed by an offset"


async def test_feeding_updates_in_process(emulator: BotApiEmulator) -> None:
    alice = emulator.add_user("Alice")
    bot = make_bot(emulator)
    dp = greeter()

    emulator.user_sends_text(alice, "/start")
    await feed_pending(dp, bot, emulator)
    sent = emulator.messages_in(alice["id"], from_bot=True)
    assert [m["text"] for m in sent] == ["Hello, Alice!"]

    await bot.send_message(
        alice["id"],
        "buttons",
        reply_markup={"inline_keyboard": [[{"text": "Ping", "callback_data": "ping"}]]},  # type: ignore[arg-type]
    )
    button_message = emulator.messages_in(alice["id"], from_bot=True)[-1]
    query = emulator.user_presses(alice, alice["id"], button_message["message_id"], "ping")
    await feed(dp, bot, emulator.take_updates()[0])
    assert emulator.callback_answer(query["id"]) is not None
    assert emulator.callback_answer(query["id"])["text"] == "pong"
    await bot.session.close()


async def test_start_polling_in_process(emulator: BotApiEmulator) -> None:
    alice = emulator.add_user("Alice")
    bot = make_bot(emulator)
    async with polling(greeter(), bot, polling_timeout=1):
        emulator.user_sends_text(alice, "/start")
        reply = await emulator.wait_for_message(alice["id"])
    assert reply["text"] == "Hello, Alice!"


def slow_dispatcher(started: asyncio.Event, release: asyncio.Event) -> Dispatcher:
    dp = Dispatcher()

    @dp.message(F.text == "slow")
    async def slow(message: Message) -> None:
        """Blocks until released, like a handler caught mid-work by a shutdown."""
        started.set()
        await release.wait()
        await message.answer("done")

    return dp


async def _stop_mid_handler(
    emulator: BotApiEmulator, handle_as_tasks: bool
) -> tuple[Bot, asyncio.Event, int]:
    alice = emulator.add_user("Alice")
    bot = make_bot(emulator)
    started, release = asyncio.Event(), asyncio.Event()
    emulator.user_sends_text(alice, "slow")
    async with polling(
        slow_dispatcher(started, release), bot, polling_timeout=1, handle_as_tasks=handle_as_tasks
    ):
        await asyncio.wait_for(started.wait(), 5)
        if handle_as_tasks:
            # The generator moves on at once; its next getUpdates carries the new offset.
            await emulator.wait_for(lambda e: len(e.calls_of("getUpdates")) >= 2)
    return bot, release, alice["id"]


async def test_handle_as_tasks_false_redelivers_an_interrupted_update(
    emulator: BotApiEmulator,
) -> None:
    bot, _, _ = await _stop_mid_handler(emulator, handle_as_tasks=False)
    assert len(emulator.calls_of("getUpdates")) == 1
    assert len(emulator.pending_updates()) == 1
    await bot.session.close()


async def test_handle_as_tasks_true_confirms_before_the_handler_ends(
    emulator: BotApiEmulator,
) -> None:
    bot, release, chat_id = await _stop_mid_handler(emulator, handle_as_tasks=True)
    assert emulator.pending_updates() == []  # TELEGRAM.md §1.1: lost if the process dies now
    release.set()
    await emulator.wait_for_message(chat_id)
    await bot.session.close()
