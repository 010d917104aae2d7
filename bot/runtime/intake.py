"""Long polling that stores every update before Telegram considers it delivered.

Telegram confirms an update once ``getUpdates`` is called with a higher offset. aiogram's own
polling moves the offset before handlers finish, so a crash loses in-flight updates. Here a batch
is committed to the inbox first, and only then is the next offset requested: after a crash the
unconfirmed batch comes again and the inbox ignores what it already has.

Updates are stored as the raw JSON Telegram sent, without parsing them into aiogram's models:
one update that aiogram cannot read (a newer or older Bot API shape) must not make the whole
batch fail and be fetched again forever. Parsing happens per update in the processor, which
parks an unreadable update and goes on with the rest.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import TelegramMethod
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.logs import get_logger
from bot.services.ports import UowFactory

log = get_logger(__name__)

BACKOFF = BackoffConfig(min_delay=0.5, max_delay=15.0, factor=1.6, jitter=0.1)


class RawGetUpdates(TelegramMethod[list[dict[str, Any]]]):
    """``getUpdates`` whose answer is kept as plain JSON objects, one per update."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


def inbox_rows(updates: list[dict[str, Any]]) -> tuple[list[tuple[int, str]], int | None]:
    """The rows to store for a batch, and the offset that confirms it.

    An object without an integer ``update_id`` cannot be stored (nor ever asked for again);
    it is logged and skipped, and the offset still moves past the ids around it.
    """
    rows: list[tuple[int, str]] = []
    for update in updates:
        update_id = update.get("update_id")
        if isinstance(update_id, int) and not isinstance(update_id, bool):
            rows.append((update_id, json.dumps(update, ensure_ascii=False)))
        else:
            log.error("update without an update_id skipped", update=str(update)[:500])
    highest = max((uid for uid, _ in rows), default=None)
    return rows, None if highest is None else highest + 1


class Intake:
    def __init__(
        self,
        bot: Bot,
        uow_factory: UowFactory,
        *,
        allowed_updates: list[str],
        timeout: int = 25,
        on_stored: Callable[[], None] = lambda: None,
    ) -> None:
        self.bot = bot
        self.uow_factory = uow_factory
        self.allowed_updates = allowed_updates
        self.timeout = timeout
        self.on_stored = on_stored
        self.offset: int | None = None

    async def run(self) -> None:
        """Poll until cancelled."""
        backoff = Backoff(BACKOFF)
        while True:
            try:
                updates = await self.bot(
                    RawGetUpdates(
                        offset=self.offset,
                        timeout=self.timeout,
                        allowed_updates=self.allowed_updates,
                    ),
                    request_timeout=self.timeout + 10,
                )
            except TelegramRetryAfter as exc:
                log.warning("getUpdates rate limited", retry_after=exc.retry_after)
                await asyncio.sleep(exc.retry_after)
                continue
            except TelegramConflictError as exc:  # another poller (or a webhook) is active
                delay = next(backoff)
                log.warning("getUpdates conflict", error=str(exc), retry_in=round(delay, 2))
                await asyncio.sleep(delay)
                continue
            except (TelegramNetworkError, TelegramServerError, ClientDecodeError) as exc:
                delay = next(backoff)
                log.warning("getUpdates failed", error=str(exc), retry_in=round(delay, 2))
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            if not updates:
                continue
            rows, offset = inbox_rows(updates)
            try:
                async with self.uow_factory() as uow:
                    new = await uow.inbox.add_many(rows, datetime.now(UTC))
                    await uow.commit()
            except Exception as exc:  # database trouble: keep the offset, Telegram resends
                delay = next(backoff)
                log.exception("storing updates failed", error=str(exc), retry_in=round(delay, 2))
                await asyncio.sleep(delay)
                continue
            log.debug("stored updates", received=len(rows), new=new)
            if offset is not None:
                self.offset = offset
            self.on_stored()
