"""Feeds stored updates to the dispatcher, in order per chat, until each is processed or parked.

Updates are grouped by conversation (:func:`storage.delivery.update_chat_key`): a chat's updates
are handled one at a time in ``update_id`` order, and a failing update holds back only its own
chat. With several workers, a chat's updates are handled under that chat's lease, after a fresh
read of which are still pending; the transaction that applies an update also marks it done only
if it is still pending, so no update is applied twice whatever the timing.

An update is parsed here, one at a time: one that aiogram cannot read is parked at once with
the reason (trying again cannot change a parse), and one whose handling fails is retried a few
times, holding back only its own chat, then parked. Either way the rest goes on; parked updates
show in ``/failed``, ``/health`` and the ``helpdesk_inbox_updates{status="parked"}`` metric.

The processor opens the unit of work for an update (``uow_factory(inbox_update=id)``) and hands
it to the dispatcher as the handlers' ``uow`` argument (:func:`apply`); the same commit applies
the update and marks it processed. Nothing else passes state between them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from pydantic import ValidationError

from bot.logs import get_logger
from bot.runtime import wait_event
from bot.runtime.coordination import Coordinator, LocalCoordinator
from bot.services.ports import UowFactory
from storage import AbstractUnitOfWork
from storage.delivery import AlreadyProcessed, InboxItem, update_chat_key

log = get_logger(__name__)

#: Updates read per round, and how many rounds a worker may look past chats held elsewhere.
BATCH = 200
PAGES = 5


class Processor:
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        uow_factory: UowFactory,
        *,
        on_processed: Callable[[], None] = lambda: None,
        retry_delay: float = 0.5,
        coordinator: Coordinator | None = None,
        idle_poll: float = 5.0,
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.uow_factory = uow_factory
        self.on_processed = on_processed
        self.retry_delay = retry_delay
        self.coordinator = coordinator or LocalCoordinator()
        self.idle_poll = idle_poll
        self.wakeup = asyncio.Event()
        #: When a failed update may be tried again (monotonic seconds), by update id.
        self._retry_at: dict[int, float] = {}

    def wake(self) -> None:
        self.wakeup.set()

    async def run(self) -> None:
        """Process the inbox until cancelled."""
        while True:
            self.wakeup.clear()
            after: int | None = None
            seen = progressed = 0
            for _page in range(PAGES):
                async with self.uow_factory(readonly=True) as uow:
                    items = await uow.inbox.pending(limit=BATCH, after=after)
                seen += len(items)
                if not items:
                    break
                progressed += await self.process_batch(items)
                if progressed or len(items) < BATCH or not self.coordinator.shared:
                    break
                # Another worker holds every chat in this page (say, the agents' group with a
                # backlog): look further, so the other chats are not kept waiting behind it.
                after = items[-1].update_id
            if not seen:
                await wait_event(self.wakeup, self.idle_poll)
            elif not progressed:
                # Every chat with work waits for a retry or is held by another worker.
                await wait_event(self.wakeup, self._next_retry_in())

    async def process_batch(self, items: list[InboxItem]) -> int:
        """Process what this worker may of ``items``; returns how many were handled here.

        One process takes them in ``update_id`` order, as they came. With several workers,
        each chat's updates are taken under that chat's lease. Either way a failed update holds
        back the rest of its chat until its retry time.
        """
        if not self.coordinator.shared:
            return await self._in_order(items)
        chats: dict[str, list[InboxItem]] = {}
        for item in items:
            chats.setdefault(update_chat_key(item.payload), []).append(item)
        progressed = 0
        for key, group in chats.items():
            try:
                progressed += await self._chat_under_lease(key, group)
            except self.coordinator.errors as exc:  # Redis unreachable: nothing done twice
                log.warning("coordination unavailable", chat=key, error=str(exc))
                break
        return progressed

    async def _in_order(self, items: list[InboxItem]) -> int:
        progressed = 0
        held_back: set[str] = set()
        now = time.monotonic()
        for item in items:
            key = update_chat_key(item.payload)
            if key in held_back:
                continue
            if self._retry_at.get(item.update_id, 0.0) > now or not await self._process_one(item):
                held_back.add(key)
                continue
            progressed += 1
        return progressed

    async def _chat_under_lease(self, key: str, group: list[InboxItem]) -> int:
        if self._retry_at.get(group[0].update_id, 0.0) > time.monotonic():
            return 0
        async with self.coordinator.lease(f"inbox:{key}") as lease:
            if lease is None:
                return 0
            # Our snapshot may be older than another worker's commit.
            async with self.uow_factory(readonly=True) as uow:
                pending = await uow.inbox.still_pending([i.update_id for i in group])
            group = [i for i in group if i.update_id in pending]
            # Only a chat's first pending update can be waiting for a retry (a failure holds
            # back the rest of its chat): one look in Redis per chat, not per update.
            if not group or await self.coordinator.paused(f"inbox-retry:{group[0].update_id}"):
                return 0
            progressed = 0
            for item in group:
                if lease.lost.is_set() or not await self._process_one(item):
                    break
                progressed += 1
            return progressed

    async def _process_one(self, item: InboxItem) -> bool:
        """Process ``item``; on failure, schedule its retry (for every worker)."""
        if await self.process(item):
            self._retry_at.pop(item.update_id, None)
            return True
        delay = self.retry_delay * (item.attempts + 1)
        self._retry_at[item.update_id] = time.monotonic() + delay
        if self.coordinator.shared and delay > 0:
            await self.coordinator.pause(f"inbox-retry:{item.update_id}", delay)
        return False

    def _next_retry_in(self) -> float:
        now = time.monotonic()
        self._retry_at = {uid: at for uid, at in self._retry_at.items() if at > now}
        soonest = min(self._retry_at.values(), default=now + 0.2)
        return min(max(soonest - now, 0.01), 0.2 if self.coordinator.shared else 5.0)

    async def process(self, item: InboxItem) -> bool:
        """Handle one update; returns False if it failed and should be retried."""
        try:
            update = Update.model_validate(item.payload, context={"bot": self.bot})
        except ValidationError as exc:
            await self._fail(item, unparsable(exc), park=True)
            return True
        try:
            async with self.uow_factory(inbox_update=item.update_id) as uow:
                await apply(self.dispatcher, self.bot, update, uow)
        except AlreadyProcessed:
            log.info("update already processed elsewhere", update_id=item.update_id)
            return True
        except Exception as exc:  # anything a handler raised: keep the update and retry it
            return await self._fail(item, f"{type(exc).__name__}: {exc}")
        self.on_processed()
        return True

    async def _fail(self, item: InboxItem, error: str, *, park: bool = False) -> bool:
        """Record a failed attempt (``park``: give up at once); True when it is parked."""
        async with self.uow_factory() as uow:
            parked = await uow.inbox.record_failure(
                item.update_id, error, datetime.now(UTC), park=park
            )
            await uow.commit()
        if park:
            log.error("update parked", update_id=item.update_id, error=error)
        else:
            log.exception("update failed", update_id=item.update_id, parked=parked)
        return parked


async def apply(dispatcher: Dispatcher, bot: Bot, update: Update, uow: AbstractUnitOfWork) -> Any:
    """Handle ``update`` in ``uow`` and commit it; returns what the handler returned.

    The handlers get ``uow`` as their ``uow`` argument and may commit it themselves (to make
    a change visible before a slow step); when they did not (an ignored update, a refusal),
    the commit here still records that the update was handled.
    """
    result = await dispatcher.feed_update(bot, update, uow=uow)
    if not uow.committed:
        await uow.commit()
    return result


def unparsable(exc: ValidationError) -> str:
    """A short reason for an update aiogram cannot read: the first few fields it rejected."""
    problems = [
        f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
        for error in exc.errors(include_url=False)[:3]
    ]
    more = exc.error_count() - len(problems)
    suffix = f" (+{more} more)" if more > 0 else ""
    return "unparsable update: " + "; ".join(problems) + suffix
