"""Builds the ``ctx`` argument of the handlers (``bot.context.HandlerContext``).

An inner middleware of the root router's message, edited-message and button observers: it
runs only once a handler's filters have passed (a filter's lookups need no context), and every
router below the root inherits it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import Chat, TelegramObject, User

from bot.context import HandlerContext
from bot.handlers.common import telegram_user

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class HandlerContextMiddleware(BaseMiddleware):
    """``data["ctx"]``: the unit of work, presenter and clock with the event's sender and place
    (aiogram's ``event_from_user``, ``event_chat`` and ``event_thread_id``)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        data["ctx"] = HandlerContext(
            uow=data["uow"],
            presenter=data["presenter"],
            clock=data["clock"],
            sender=telegram_user(user) if user is not None else None,
            chat=chat.id if chat is not None else None,
            thread=data.get("event_thread_id"),
        )
        return await handler(event, data)


def install(router: Router) -> None:
    """The context for every message, edit and button handler of ``router`` and below."""
    middleware = HandlerContextMiddleware()
    router.message.middleware(middleware)
    router.edited_message.middleware(middleware)
    router.callback_query.middleware(middleware)
