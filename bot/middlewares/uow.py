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
        update_id = data.get("inbox_update_id")
        async with data["uow_factory"]() as uow:
            uow.inbox_update_id = update_id
            data["uow"] = uow
            result = await handler(event, data)
            if update_id is not None and not uow.committed:
                # Nothing to change (an ignored update): the commit still marks it processed.
                await uow.commit()
        if update_id is not None and "inbox_state" in data:
            data["inbox_state"]["done"] = True
        return result
