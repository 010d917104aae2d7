"""Feeds stored updates to the dispatcher, in order, until each is processed or parked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from aiogram import Bot, Dispatcher

from bot.logs import get_logger
from bot.runtime import wait_event
from bot.services.ports import UowFactory
from storage.delivery import InboxItem

log = get_logger(__name__)


class Processor:
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        uow_factory: UowFactory,
        *,
        on_processed: Callable[[], None] = lambda: None,
        retry_delay: float = 0.5,
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.uow_factory = uow_factory
        self.on_processed = on_processed
        self.retry_delay = retry_delay
        self.wakeup = asyncio.Event()

    def wake(self) -> None:
        self.wakeup.set()

    async def run(self) -> None:
        """Process the inbox until cancelled."""
        while True:
            self.wakeup.clear()
            async with self.uow_factory(readonly=True) as uow:
                items = await uow.inbox.pending(limit=200)
            if not items:
                await wait_event(self.wakeup, 5.0)
                continue
            for item in items:
                if not await self.process(item):
                    # Keep the order: retry the failed update before anything after it.
                    await asyncio.sleep(self.retry_delay * (item.attempts + 1))
                    break

    async def process(self, item: InboxItem) -> bool:
        """Handle one update; returns False if it failed and should be retried."""
        state = {"done": False}
        try:
            await self.dispatcher.feed_raw_update(
                self.bot, item.payload, inbox_update_id=item.update_id, inbox_state=state
            )
        except Exception as exc:  # anything a handler raised: keep the update and retry it
            async with self.uow_factory() as uow:
                parked = await uow.inbox.record_failure(
                    item.update_id, f"{type(exc).__name__}: {exc}", datetime.now(UTC)
                )
                await uow.commit()
            log.exception("update failed", update_id=item.update_id, parked=parked)
            return parked
        if not state["done"]:  # e.g. a domain error answered by the error handler
            async with self.uow_factory() as uow:
                await uow.inbox.mark_done(item.update_id, datetime.now(UTC))
                await uow.commit()
        self.on_processed()
        return True
