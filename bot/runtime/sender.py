"""Drains the outbox: per-chat order, Telegram's rate limits, retries that know what failed.

* Each chat's calls go out one at a time, in lane then id order; chats proceed in parallel.
  A chat's task goes on with that chat's next due call when one is done, so the heads of all
  chats are read only for new work (at most once per ``HEADS_INTERVAL``), not after every call:
  the cost of a call does not grow with the backlog.
* Rate limits are applied before Telegram complains (per chat and overall; in memory, or in
  Redis when several workers share the budget); a 429 still pauses the chat for ``retry_after``.
* With several workers, a chat's calls are sent under that chat's lease (see
  :mod:`bot.runtime.coordination`), and each call is re-read under the lease before it goes out.
* 5xx and network errors are retried with exponential back-off and jitter.
* Permanent errors (blocked, chat not found, bad request) mark the call failed and let the
  application tell someone (``on_failed``).
* Webhook deliveries (channel ``webhook``, one queue per endpoint) share the outbox and its
  per-queue order, but are posted by :class:`~bot.runtime.webhook_poster.WebhookPoster` with a
  retry policy of their own and without Telegram's rate limits (see :mod:`models.webhooks`).
  So are mails (``email``, :class:`~bot.runtime.mail_poster.MailPoster`) and texts for website
  visitors (``web``, :class:`~bot.runtime.widget_poster.WidgetPoster`), one queue per customer;
  a mail given up on is reported like a Telegram message (``on_failed``: the topic says so).
* A timeout has an unknown outcome: Telegram may have delivered the message. The call is retried
  (at-least-once), so a timeout can cause one duplicate per retry, bounded by ``max_attempts``.
  A crash between Telegram's answer and our commit can cause one duplicate as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import aiogram.methods
from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import TelegramMethod

from bot.logs import get_logger
from bot.runtime import to_jsonable, wait_event
from bot.runtime.coordination import Coordinator, Lease, Limiter, LocalCoordinator
from bot.runtime.mail_poster import MailPoster
from bot.runtime.webhook_poster import Outcome, WebhookPoster
from bot.runtime.widget_poster import WidgetPoster
from bot.services.ports import UowFactory
from models.delivery import (
    EDIT_METHODS,
    Appearance,
    Channel,
    Coalesced,
    NotReady,
    OutboundCall,
    OutboxStatus,
    Queue,
    Skip,
    Unsendable,
    appearance,
)
from storage import AbstractUnitOfWork

log = get_logger(__name__)

METHODS: dict[str, type[TelegramMethod[Any]]] = {
    cls.__api_method__: cls
    for cls in vars(aiogram.methods).values()
    if isinstance(cls, type) and issubclass(cls, TelegramMethod) and hasattr(cls, "__api_method__")
}


#: The heads of every chat's queue are read at most this often (seconds).
HEADS_INTERVAL = 0.02
#: Units of work the sender keeps open at once. Every chat with due calls has a task; without
#: a bound, a hundred of them waiting for SQLite's one writer held every pooled connection, and
#: recording a call Telegram had accepted failed with a pool timeout (so it was sent again).
#: The rest of the pool (15 by default) stays for the processor, the intake and the jobs.
DB_SLOTS = 6

#: Telegram's answers to an edit that would change nothing: the state is already as asked.
UNCHANGED = ("message is not modified", "TOPIC_NOT_MODIFIED")
#: Calls that are courtesies: when Telegram refuses one (the agent deleted the command it
#: acknowledges, the group allows no such reaction) nothing is lost and nobody needs telling.
COURTESIES = frozenset({"setMessageReaction"})


@dataclass(frozen=True)
class RateLimits:
    private_per_s: float = 1.0
    group_per_min: float = 20.0
    global_per_s: float = 30.0


#: A call's parameters with its references looked up (``now``: when the call is made).
Resolve = Callable[[AbstractUnitOfWork, OutboundCall, datetime], Awaitable[dict[str, Any]]]
#: Records what a call's result changes (the call, its resolved parameters, the result, now).
Recorder = Callable[
    [AbstractUnitOfWork, OutboundCall, dict[str, Any], Any, datetime], Awaitable[None]
]
#: Given a call about to be made (and its resolved parameters): one call to make instead, that
#: also does the work of calls queued after it (see :class:`models.delivery.Coalesced`).
Coalesce = Callable[
    [AbstractUnitOfWork, OutboundCall, dict[str, Any], datetime], Awaitable[Coalesced | None]
]
Poster = MailPoster | WidgetPoster
OnFailed = Callable[[AbstractUnitOfWork, OutboundCall, str, datetime], Awaitable[None]]


async def _no_refs(_uow: AbstractUnitOfWork, call: OutboundCall, _now: datetime) -> dict[str, Any]:
    return call.params


async def _nothing(*_args: Any) -> None:
    return None


class Sender:
    def __init__(
        self,
        bot: Bot,
        uow_factory: UowFactory,
        limits: RateLimits = RateLimits(),
        *,
        resolve: Resolve = _no_refs,
        on_sent: Recorder = _nothing,
        on_failed: OnFailed = _nothing,
        coalesce: Coalesce | None = None,
        on_absorbed: Recorder = _nothing,
        request_timeout: int = 15,
        max_attempts: int = 12,
        max_backoff: float = 60.0,
        webhooks: WebhookPoster | None = None,
        mail: MailPoster | None = None,
        widget: WidgetPoster | None = None,
        coordinator: Coordinator | None = None,
        db_slots: int = DB_SLOTS,
    ) -> None:
        self.bot = bot
        self.uow_factory = uow_factory
        self.coalesce = coalesce
        self.on_absorbed = on_absorbed
        #: Units of work open at once in the sender (see :meth:`_uow`).
        self._db_slots = asyncio.Semaphore(db_slots)
        self.limits = limits
        self.resolve = resolve
        self.on_sent = on_sent
        self.on_failed = on_failed
        self.request_timeout = request_timeout
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.webhooks = webhooks
        self.posters: dict[Channel, Poster | None] = {Channel.EMAIL: mail, Channel.WEB: widget}
        self.coordinator = coordinator or LocalCoordinator()
        self.global_limiter = self.coordinator.limiter("global", limits.global_per_s, 1)
        self._chat_limiters: dict[int, Limiter] = {}
        #: Queues another worker is delivering (shared mode): not tried again before then.
        self._elsewhere: dict[Queue, float] = {}
        self._in_flight: dict[Queue, asyncio.Task[None]] = {}
        self._finishes = 0
        self._finished_at: dict[Queue, int] = {}
        #: A queue's next pending call, read in the transaction that recorded the call before
        #: it (so the next one needs no read of its own); taken by that queue's delivery task.
        self._read_ahead: dict[Queue, OutboundCall | None] = {}
        self.wakeup = asyncio.Event()
        self._stopping = False
        self.sent_count = 0
        self.retry_after_count = 0
        #: Edits not made because the message already showed what they asked for.
        self.unchanged_skipped = 0
        #: Calls whose work another call did (joined into it; see ``coalesce``).
        self.absorbed_count = 0
        #: Telegram errors by kind since start (for metrics): 429, bad_request, forbidden, ...
        self.errors: Counter[str] = Counter()

    def wake(self) -> None:
        self.wakeup.set()

    @contextlib.asynccontextmanager
    async def _uow(self, *, readonly: bool = False) -> AsyncIterator[AbstractUnitOfWork]:
        """A unit of work, once one of the sender's ``DB_SLOTS`` is free."""
        async with self._db_slots, self.uow_factory(readonly=readonly) as uow:
            yield uow

    def _limiter(self, chat_id: int) -> Limiter:
        limiter = self._chat_limiters.get(chat_id)
        if limiter is None:
            key = f"chat:{chat_id}"
            if chat_id > 0:
                limiter = self.coordinator.limiter(key, self.limits.private_per_s, 1)
            else:
                limiter = self.coordinator.limiter(key, self.limits.group_per_min, 60)
            if len(self._chat_limiters) > 10_000:
                self._chat_limiters.clear()
            self._chat_limiters[chat_id] = limiter
        return limiter

    async def run(self) -> None:
        """Deliver until cancelled; in-flight calls are awaited on the way out."""
        try:
            while True:
                self.wakeup.clear()
                started = time.monotonic()
                delay = await self._dispatch_due()
                await wait_event(self.wakeup, min(delay or 2.0, 2.0))
                # Wake-ups in a burst (one per processed update) share one read of the heads.
                rest = HEADS_INTERVAL - (time.monotonic() - started)
                if rest > 0:
                    await asyncio.sleep(rest)
        finally:
            self._stopping = True
            await self.drain()

    async def drain(self, grace: float = 3.0) -> None:
        """Let calls already on the wire finish (shutdown), so their results are recorded;
        then cancel the rest. A call still waiting for its chat's or group's budget was not
        sent and stays queued for the next start; one still on the wire after ``grace`` may
        have arrived and is sent again then (the bound README states for a killed process)."""
        tasks = [t for t in self._in_flight.values() if not t.done()]
        if not tasks:
            return
        _done, waiting = await asyncio.wait(tasks, timeout=grace)
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)

    async def flush(self, *, ignore_delays: bool = False, max_rounds: int = 1000) -> None:
        """Send everything that is due, until nothing is left (tests and shutdown paths).

        ``ignore_delays`` also sends calls that wait for a later time (album collection,
        back-off), as if that time had come.
        """
        for _ in range(max_rounds):
            later = datetime.now(UTC) + timedelta(days=3650) if ignore_delays else None
            await self._dispatch_due(later)
            if not self._in_flight:
                return
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        raise RuntimeError("outbox did not drain")

    async def _dispatch_due(self, now: datetime | None = None) -> float | None:
        # A delivery that finishes while the heads are being read leaves its chat's stale head
        # in this snapshot: sending it again would duplicate the message. Such chats wait for
        # the next round (the finish woke the loop, so that is at once).
        snapshot = self._finishes
        async with self._uow(readonly=True) as uow:
            heads = await uow.outbox.heads()
        now = now or datetime.now(UTC)
        next_in: float | None = None
        clock = time.monotonic()
        for call in heads:
            if (
                call.queue in self._in_flight
                or self._finished_at.get(call.queue, -1) > snapshot
                or self._elsewhere.get(call.queue, 0.0) > clock
            ):
                continue
            if call.not_before is not None and call.not_before > now:
                wait = (call.not_before - now).total_seconds()
                next_in = wait if next_in is None else min(next_in, wait)
                continue
            task = asyncio.create_task(self._deliver_chat(call))
            self._in_flight[call.queue] = task
            task.add_done_callback(partial(self._finished, call.queue))
        return next_in

    def _finished(self, queue: Queue, _task: object = None) -> None:
        self._finishes += 1
        self._finished_at[queue] = self._finishes
        if len(self._finished_at) > 10_000:
            self._finished_at = {queue: self._finishes}
        self._in_flight.pop(queue, None)
        self.wake()

    async def close(self) -> None:
        """Release the webhook poster's HTTP connections (after :meth:`run` ended)."""
        if self.webhooks is not None:
            await self.webhooks.close()

    async def _deliver_chat(self, call: OutboundCall) -> None:
        """Deliver ``call``, then the chat's next due calls, one at a time, until there is
        none (or it must wait, or another worker has the chat)."""
        self._read_ahead.pop(call.queue, None)  # left by a task that stopped early
        next_call: OutboundCall | None = call
        while next_call is not None and not self._stopping:
            if not await self._deliver_leased(next_call):
                return
            next_call = await self._next_due(next_call.queue)

    async def _next_due(self, queue: Queue) -> OutboundCall | None:
        if queue in self._read_ahead:
            call = self._read_ahead.pop(queue)
        else:
            async with self._uow(readonly=True) as uow:
                call = await uow.outbox.next_in(queue)
        if call is None or (call.not_before is not None and call.not_before > _now()):
            return None
        return call

    async def _deliver_leased(self, call: OutboundCall) -> bool:
        """Deliver ``call`` while holding its chat's lease (one worker per chat at a time);
        False when this worker did not get to it (the chat is held elsewhere, or the call was
        sent or postponed there)."""
        # The lease outlives a whole request even if no renewal gets through.
        ttl = max(30.0, 2.0 * self.request_timeout + 5.0)
        async with self.coordinator.lease(_lease_name(call.queue), ttl) as lease:
            if lease is None:
                self._note_elsewhere(call.queue)
                return False
            if self.coordinator.shared:
                fresh = await self._still_due(call)
                if fresh is None:
                    return False
                call = fresh
            return await self._deliver(call, lease)

    async def _still_due(self, call: OutboundCall) -> OutboundCall | None:
        """The call as stored now, if it is still to be sent now: another worker may have sent
        or postponed it (a 429's ``retry_after``) since our snapshot."""
        async with self._uow(readonly=True) as uow:
            fresh = await uow.outbox.get(call.id) if call.id is not None else None
        if fresh is None or fresh.status != OutboxStatus.PENDING:
            return None
        if fresh.not_before is not None and fresh.not_before > datetime.now(UTC):
            return None
        return fresh

    def _note_elsewhere(self, queue: Queue) -> None:
        now = time.monotonic()
        if len(self._elsewhere) > 10_000:
            self._elsewhere = {q: t for q, t in self._elsewhere.items() if t > now}
        self._elsewhere[queue] = now + 0.5

    async def _deliver(self, call: OutboundCall, lease: Lease | None = None) -> bool:
        """Make the call and record its outcome; False when another worker turned out to
        have the chat (nothing was recorded here)."""
        if call.channel is Channel.WEBHOOK:
            await self._deliver_webhook(call)
            return True
        if call.channel in self.posters:
            await self._deliver_posted(call)
            return True
        try:
            return await self._attempt(call, lease)
        except Exception as exc:  # a bug of ours, before the call went out: retry, then give up
            log.exception("delivering a call failed", call_id=call.id, method=call.method)
            await self._transient(call, f"internal error: {type(exc).__name__}: {exc}")
            return True

    async def _attempt(self, call: OutboundCall, lease: Lease | None = None) -> bool:
        assert call.id is not None
        try:
            async with self._uow(readonly=True) as uow:
                if await uow.outbox.superseded(call):
                    raise Skip("a newer call replaces this one")
                now = _now()
                params = await self.resolve(uow, call, now)
                look = appearance(call.method, params)
                if (
                    look is not None
                    and call.method in EDIT_METHODS
                    and not look.changes(await uow.shown.get(look.chat_id, look.message_id))
                ):
                    self.unchanged_skipped += 1
                    raise Skip("the message already shows this")
                joined = await self.coalesce(uow, call, params, now) if self.coalesce else None
            name = call.method
            if joined is not None:
                name, params = joined.method, joined.params
            method = METHODS[name].model_validate(params)
        except NotReady as exc:
            await self._retry(call, 1.0, f"not ready: {exc}", count=False)
            return True
        except Skip as exc:
            await self._fail(call, OutboxStatus.SKIPPED, str(exc), report=False)
            return True
        except (Unsendable, KeyError, ValueError) as exc:
            await self._fail(call, OutboxStatus.FAILED, f"unsendable: {exc}")
            return True

        async with self._limiter(call.chat_id), self.global_limiter:
            # After the wait for the budget, with several workers: make sure the chat is still
            # ours (renewed for a full TTL from here) and the call still unsent; then send.
            if (
                lease is not None
                and self.coordinator.shared
                and (not await lease.confirm() or await self._still_due(call) is None)
            ):
                self._note_elsewhere(call.queue)
                return False
            try:
                result = await self.bot(method, request_timeout=self.request_timeout)
            except TelegramRetryAfter as exc:
                self.retry_after_count += 1
                self.errors["429"] += 1
                log.warning("rate limited", chat_id=call.chat_id, retry_after=exc.retry_after)
                await self._retry(call, float(exc.retry_after), str(exc), count=False)
                return True
            except TelegramBadRequest as exc:
                if any(answer in exc.message for answer in UNCHANGED):
                    result = True  # already as asked: an outcome, not a failure
                elif call.method in COURTESIES:
                    await self._fail(call, OutboxStatus.SKIPPED, exc.message, report=False)
                    return True
                else:
                    self.errors["bad_request"] += 1
                    await self._fail(call, OutboxStatus.FAILED, exc.message)
                    return True
            except TelegramForbiddenError as exc:
                self.errors["forbidden"] += 1
                await self._fail(call, OutboxStatus.FAILED, exc.message)
                return True
            except (TelegramNetworkError, TelegramServerError, ClientDecodeError) as exc:
                self.errors[_transient_kind(exc)] += 1
                await self._transient(call, f"{type(exc).__name__}: {exc}")
                return True
            except TelegramAPIError as exc:  # 401/404/409/413 and friends: not going to work
                self.errors["other"] += 1
                await self._fail(call, OutboxStatus.FAILED, f"{type(exc).__name__}: {exc}")
                return True
        await self._succeeded(call, params, result, joined.absorbed if joined else [], look)
        return True

    async def _deliver_webhook(self, call: OutboundCall) -> None:
        assert call.id is not None
        try:
            async with self._uow(readonly=True) as uow:
                endpoint = await uow.webhooks.get(call.chat_id)
            if endpoint is None or not endpoint.active:
                await self._fail(call, OutboxStatus.SKIPPED, "endpoint removed", report=False)
                return
            if self.webhooks is None:
                await self._fail(call, OutboxStatus.FAILED, "webhooks are off", notify=False)
                return
            outcome = await self.webhooks.post(endpoint, call)
            if outcome.delivered:
                async with self._uow() as uow:
                    await uow.outbox.mark_sent(call.id, {"status": outcome.status}, _now())
                    await uow.commit()
            else:
                await self._not_delivered(call, outcome, notify=False)
        except Exception as exc:  # a bug of ours or a database error: try again later
            await self._retry_after_bug(call, exc)

    async def _deliver_posted(self, call: OutboundCall) -> None:
        try:
            poster = self.posters[call.channel]
            if poster is None:
                await self._fail(call, OutboxStatus.FAILED, f"the {call.channel} channel is off")
                return
            try:
                async with self._uow(readonly=True) as uow:
                    params = await self.resolve(uow, call, _now())
            except Unsendable as exc:
                await self._fail(call, OutboxStatus.FAILED, f"unsendable: {exc}")
                return
            outcome, result = await poster.send(call, params)
            if outcome.delivered:
                await self._succeeded(call, params, result)
            else:
                await self._not_delivered(call, outcome, notify=True)
        except Exception as exc:  # a bug of ours or a database error: try again later
            await self._retry_after_bug(call, exc)

    async def _not_delivered(self, call: OutboundCall, outcome: Outcome, *, notify: bool) -> None:
        """A webhook or a mail that did not go through: given up on, or tried again later."""
        if outcome.give_up is not None:
            await self._fail(call, outcome.give_up, outcome.error or "", notify=notify)
            return
        log.warning(
            "delivery failed, will retry",
            call_id=call.id,
            channel=str(call.channel),
            error=outcome.error,
            retry_in=outcome.retry_in,
        )
        await self._retry(call, outcome.retry_in or 0.0, outcome.error or "")

    async def _retry_after_bug(self, call: OutboundCall, exc: Exception) -> None:
        log.exception("delivering a call failed", call_id=call.id, channel=str(call.channel))
        with contextlib.suppress(Exception):
            delay = min(self.max_backoff, 0.5 * 2**call.attempts)
            await self._retry(call, delay, f"internal error: {type(exc).__name__}: {exc}")

    async def _succeeded(
        self,
        call: OutboundCall,
        params: dict[str, Any],
        result: Any,
        absorbed: list[OutboundCall] | None = None,
        look: Appearance | None = None,
    ) -> None:
        """Record a call Telegram accepted (with the calls it ``absorbed``; ``look``: what an
        edit makes its message show, worked out before it was made). Nothing here may raise:
        the call must never be made again because our own bookkeeping failed."""
        assert call.id is not None
        self.sent_count += 1
        now = datetime.now(UTC)
        absorbed = absorbed or []
        try:
            result = to_jsonable(result)
            async with self._uow() as uow:
                await uow.outbox.mark_sent(call.id, result, now)
                await self.on_sent(uow, call, params, result, now)
                for other in absorbed:
                    assert other.id is not None
                    await uow.outbox.mark_sent(other.id, {"joined_into": call.id}, now)
                    await self.on_absorbed(uow, other, params, result, now)
                if look is None and not absorbed:
                    look = appearance(call.method, params, result)
                if look is not None:
                    await uow.shown.record(look, now)
                following = await uow.outbox.next_in(call.queue)
                await uow.commit()
            self._read_ahead[call.queue] = following
            self.absorbed_count += len(absorbed)
            return
        except Exception:
            log.exception("recording a sent call failed", call_id=call.id, on_sent=call.on_sent)
        try:
            async with self._uow() as uow:
                for done in [call, *absorbed]:
                    assert done.id is not None
                    await uow.outbox.mark_sent(done.id, None, now)
                await uow.commit()
        except Exception:  # the database is gone: on restart this call is sent once more
            log.exception("marking a call sent failed", call_id=call.id)

    async def _transient(self, call: OutboundCall, error: str) -> None:
        if call.attempts + 1 >= self.max_attempts:
            status = OutboxStatus.UNKNOWN if "timeout" in error.lower() else OutboxStatus.FAILED
            await self._fail(call, status, error)
            return
        delay = min(self.max_backoff, 0.5 * 2**call.attempts) * random.uniform(0.5, 1.5)
        log.warning("send failed, will retry", call_id=call.id, error=error, retry_in=delay)
        await self._retry(call, delay, error)

    async def _retry(
        self, call: OutboundCall, delay: float, error: str, count: bool = True
    ) -> None:
        assert call.id is not None
        not_before = datetime.now(UTC) + timedelta(seconds=delay)
        async with self._uow() as uow:
            await uow.outbox.retry_later(call.id, not_before, error, count=count)
            await uow.commit()

    async def _fail(
        self,
        call: OutboundCall,
        status: OutboxStatus,
        error: str,
        *,
        report: bool = True,
        notify: bool = True,
    ) -> None:
        """Give up on a call; ``report`` logs it, ``notify`` also lets ``on_failed`` react."""
        assert call.id is not None
        if report:
            log.warning("send failed for good", call_id=call.id, method=call.method, error=error)
        async with self._uow() as uow:
            await uow.outbox.give_up(call.id, status, error)
            if not (report and notify):
                await uow.commit()
                return
            try:
                await self.on_failed(uow, call, error, _now())
            except Exception:
                log.exception("reporting a failed call failed", call_id=call.id)
                await uow.rollback()
                await uow.outbox.give_up(call.id, status, error)
            await uow.commit()


def _lease_name(queue: Queue) -> str:
    """The lease of one queue (Telegram chats keep the names they had before channels)."""
    channel, chat_id = queue
    if channel is Channel.TELEGRAM:
        return f"outbox:{chat_id}"
    return f"outbox:{channel}:{chat_id}"


def _now() -> datetime:
    return datetime.now(UTC)


def _transient_kind(exc: Exception) -> str:
    if isinstance(exc, TelegramServerError):
        return "server_error"
    if isinstance(exc, ClientDecodeError):
        return "bad_response"
    return "network"
