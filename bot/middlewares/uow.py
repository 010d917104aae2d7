"""Outer update middleware: one fresh unit of work per update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject


class UnitOfWorkMiddleware(BaseMiddleware):
    """Opens ``data["uow"]`` around the handlers of one update.

    When the update came from the inbox, the unit of work marks it processed in the same commit
    as the handler's changes, so a crash can never apply an update twice.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with data["uow_factory"]() as uow:
            uow.inbox_update_id = data.get("inbox_update_id")
            data["uow"] = uow
            return await handler(event, data)
