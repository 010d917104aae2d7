"""The handlers' ``ctx``: the root router's inner middleware builds it from the update's unit
of work, the presenter and the clock, and from aiogram's event context: the sender, and the chat
and topic where answers go (a forum topic's id only for a topic message)."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.types import CallbackQuery, Message

from bot.context import HandlerContext
from bot.middlewares import context
from bot.services.ports import TelegramUser
from tests.conftest import FixedClock

ANN = {"id": 42, "is_bot": False, "first_name": "Ann", "username": "ann", "language_code": "de"}
GROUP = {"id": -100123, "type": "supergroup", "title": "Agents", "is_forum": True}


def message(chat: dict[str, Any], **extra: Any) -> dict[str, Any]:
    base = {"message_id": 7, "date": 1_700_000_000, "chat": chat, "from": ANN, "text": "hi"}
    return base | extra


async def seen(update: dict[str, Any]) -> HandlerContext:
    """The ``ctx`` a handler of a router below the root gets for ``update``."""
    got: list[HandlerContext] = []

    async def on_message(_message: Message, ctx: HandlerContext) -> None:
        got.append(ctx)

    async def on_button(_callback: CallbackQuery, ctx: HandlerContext) -> None:
        got.append(ctx)

    root, below = Router(name="root"), Router(name="below")
    context.install(root)
    below.message.register(on_message)
    below.callback_query.register(on_button)
    root.include_router(below)
    dp = Dispatcher(presenter="presenter", clock=FixedClock())
    dp.include_router(root)
    bot = Bot("123456:TEST")
    await dp.feed_raw_update(bot, {"update_id": 1, **update}, uow="uow")
    assert len(got) == 1
    return got[0]


class TestHandlerContext:
    async def test_a_private_message_is_answered_in_the_private_chat(self) -> None:
        ctx = await seen({"message": message({"id": 42, "type": "private", "first_name": "Ann"})})
        assert (ctx.uow, ctx.presenter) == ("uow", "presenter")
        assert ctx.actor == TelegramUser(42, "Ann", None, "ann", "de")
        assert ctx.place == (42, None)

    async def test_a_topic_message_is_answered_in_its_topic(self) -> None:
        ctx = await seen({"message": message(GROUP, message_thread_id=5, is_topic_message=True)})
        assert ctx.place == (-100123, 5)

    async def test_a_reply_thread_outside_a_forum_topic_is_no_topic(self) -> None:
        ctx = await seen({"message": message(GROUP, message_thread_id=5)})
        assert ctx.place == (-100123, None)

    async def test_a_button_is_answered_where_its_message_is(self) -> None:
        shown = message(GROUP, message_thread_id=9, is_topic_message=True)
        callback = {"id": "c1", "from": ANN, "chat_instance": "x", "data": "d", "message": shown}
        ctx = await seen({"callback_query": callback})
        assert ctx.actor.first_name == "Ann"
        assert ctx.place == (-100123, 9)
