"""Outer update middleware: the unit of work of the update being handled."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject


class UnitOfWorkMiddleware(BaseMiddleware):
    """Makes sure ``data["uow"]`` is there for the handlers of one update.

    The inbox processor passes the unit of work it opened (it commits it, marking the update
    processed in the same transaction); an update fed any other way gets a fresh one here.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if data.get("uow") is not None:
            return await handler(event, data)
        async with data["uow_factory"]() as uow:
            data["uow"] = uow
            return await handler(event, data)
