"""Several workers on one database and one Redis: leases, job claims, shared rate limits, and
the inbox processor and outbox sender running side by side without doing anything twice."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio.lock
from aiogram.types import Update
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.runtime.coordination import LocalCoordinator, RedisCoordinator
from bot.runtime.processor import Processor
from bot.runtime.sender import RateLimits, Sender
from models.delivery import OutboundCall
from storage.delivery import AlreadyProcessed

Workers = Callable[[], RedisCoordinator]


def where_stuck(tasks: list[asyncio.Task[Any]]) -> str:
    """Each task's chain of awaits, innermost last (``Task.print_stack`` shows only the top)."""
    lines = []
    for task in tasks:
        lines.append(f"{task.get_name()}:")
        awaited: Any = task.get_coro()
        while awaited is not None and hasattr(awaited, "cr_frame"):
            if (frame := awaited.cr_frame) is not None:
                code = frame.f_code
                lines.append(f"  {code.co_filename}:{frame.f_lineno} {code.co_name}")
            awaited = awaited.cr_await
        lines.append(f"  awaiting {awaited!r}")
    return "\n".join(lines)


async def stop(tasks: list[asyncio.Task[Any]]) -> None:
    """Cancel the workers' tasks; a task that does not stop is a bug (it would hang shutdown)."""
    for task in tasks:
        task.cancel()
    _done, stuck = await asyncio.wait(tasks, timeout=10)
    if stuck:
        # The workers' own stacks end in ``drain``; the calls they wait for show where it hangs.
        stacks = where_stuck([*stuck, *(t for t in asyncio.all_tasks() if t not in tasks)])
        message = f"{len(stuck)} task(s) ignored the cancellation:\n{stacks}"
        raise AssertionError(message)


async def until(done: Callable[[], bool], seconds: float = 60) -> None:
    """Wait (polling) until ``done()``; the workers run as tasks in this loop meanwhile."""
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


async def test_a_job_occurrence_is_claimed_by_exactly_one_worker(redis_workers: Workers) -> None:
    workers = [redis_workers() for _ in range(3)]
    claims = await asyncio.gather(
        *(w.claim_once("job:sla-scan:42", 10) for w in workers for _ in range(4))
    )
    assert claims.count(True) == 1
    assert await workers[0].claim_once("job:sla-scan:43", 10)  # the next occurrence is new


async def test_a_lease_is_exclusive_renewed_while_held_and_lapses_when_its_worker_dies(
    redis_workers: Workers,
) -> None:
    a, b = redis_workers(), redis_workers()
    async with a.lease("outbox:7", ttl=0.6) as held:
        assert held
        for _ in range(4):  # 1.2 s: twice the TTL, so only the renewal keeps it
            async with b.lease("outbox:7", ttl=0.6) as other:
                assert not other
            await asyncio.sleep(0.3)
    async with b.lease("outbox:7", ttl=0.6) as other:
        assert other  # released at the end of the block

    # A worker that died holding a lease (no renewal, no release): the lease lapses on its own.
    await a.redis.set(f"{a.prefix}:lease:inbox:chat:1", "dead-worker", px=400)
    async with b.lease("inbox:chat:1") as other:
        assert not other
    await asyncio.sleep(0.5)
    async with b.lease("inbox:chat:1") as other:
        assert other


async def test_the_rate_limit_is_shared_by_all_workers(redis_workers: Workers) -> None:
    workers = [redis_workers() for _ in range(2)]
    limiters = [w.limiter("chat:-100", 5, 1) for w in workers]
    for w in workers:  # connect first: a hit is stamped before its round trip
        async with w.limiter("warm-up", 100, 1):
            pass
    times: list[float] = []

    async def call(limiter: Any) -> None:
        async with limiter:
            times.append(time.monotonic())

    await asyncio.gather(*(call(limiters[i % 2]) for i in range(12)))
    times.sort()
    # No more than 5 calls in any one second, whichever worker made them (the margin is the
    # time between a hit's stamp and its answer).
    for first, sixth in zip(times, times[5:], strict=False):
        assert sixth - first >= 0.9
    assert times[-1] - times[0] >= 1.9


async def test_a_call_holds_its_place_until_it_has_finished(redis_workers: Workers) -> None:
    """One call a second across two workers: a call that is on the wire for 0.4 s keeps the
    next one (the other worker's) back until a second after it finished, as Telegram counts
    it on arrival."""
    a, b = redis_workers(), redis_workers()
    first, second = a.limiter("chat:7", 1, 1), b.limiter("chat:7", 1, 1)
    for w in (a, b):  # connect first
        async with w.limiter("warm-up", 100, 1):
            pass
    async with first:
        started = time.monotonic()
        await asyncio.sleep(0.4)
    finished = time.monotonic()
    async with second:
        entered = time.monotonic()
    assert entered - finished >= 0.9
    assert entered - started >= 1.3


async def test_a_cancelled_worker_stops_at_once_and_keeps_no_connection(
    redis_workers: Workers,
) -> None:
    """Shutdown cancels deliveries in the middle of their Redis calls (a lease, a rate window):
    each must end cancelled at once, and give its connection back. With redis-py's
    ``socket_timeout`` (``asyncio.wait_for`` around each write, which on Python 3.11 drops a
    cancellation that comes as the write finishes) such a task went on waiting for its budget and
    the shutdown hung; redis-py 8.0-8.2 also kept connections in use until its pool ran out."""
    worker = redis_workers()
    limiter = worker.limiter("chat:1", 1_000_000, 1)

    async def deliver(chat: str) -> None:
        while True:
            # A lease taken in Redis whose answer the cancellation cut off lapses on its own.
            async with worker.lease(chat, 5) as held, limiter:
                assert held is not None
            await asyncio.sleep(0)

    rng = random.Random(7)
    for round_ in range(150):
        tasks = [asyncio.create_task(deliver(f"chat:{round_}:{i}")) for i in range(6)]
        await asyncio.sleep(rng.random() * 0.01)
        for task in tasks:
            task.cancel()
        _done, stuck = await asyncio.wait(tasks, timeout=2)
        assert not stuck, where_stuck(list(stuck))
        failed = [task.exception() for task in tasks if not task.cancelled()]
        assert failed == []  # e.g. no pool ran dry
    pool = worker.redis.connection_pool
    assert len(pool._in_use_connections) == 0  # every connection given back


async def test_local_coordinator_leases_and_claims() -> None:
    local = LocalCoordinator()
    async with local.lease("x") as held:
        assert held
        async with local.lease("x") as again:
            assert not again
    assert await local.claim_once("job:a:1", 60)
    assert not await local.claim_once("job:a:1", 60)


def update(update_id: int, chat_id: int) -> tuple[int, str]:
    body = {"message_id": update_id, "date": 0, "chat": {"id": chat_id, "type": "private"}}
    return update_id, json.dumps({"update_id": update_id, "message": body})


class RecordingDispatcher:
    """Applies an update in the unit of work the processor hands over (its commit marks the
    update done) and records it only when that commit went through."""

    def __init__(self, applied: list[tuple[int, int]]) -> None:
        self.applied = applied

    async def feed_update(self, _bot: object, update: Update, *, uow: Any) -> None:
        await asyncio.sleep(random.uniform(0, 0.004))
        await uow.commit()
        assert update.message is not None
        self.applied.append((update.message.chat.id, update.update_id))


async def recording_workers(
    uow_factory: Any,
    redis_workers: Workers,
    rows: list[tuple[int, str]],
    applied: list[tuple[int, int]],
    count: int,
) -> list[Processor]:
    """Store ``rows`` in the inbox; ``count`` processors (workers) that record what they apply."""
    async with uow_factory() as uow:
        await uow.inbox.add_many(rows, datetime.now(UTC))
        await uow.commit()
    return [
        Processor(
            RecordingDispatcher(applied),  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            uow_factory,
            coordinator=redis_workers(),
        )
        for _ in range(count)
    ]


async def test_three_processors_apply_every_update_once_in_chat_order(
    uow_factory: Any, redis_workers: Workers
) -> None:
    rows = [update(uid, 1000 + uid % 6) for uid in range(1, 121)]
    applied: list[tuple[int, int]] = []
    processors = await recording_workers(uow_factory, redis_workers, rows, applied, 3)
    tasks = [asyncio.create_task(p.run()) for p in processors]
    try:
        await until(lambda: len(applied) >= len(rows))
        await asyncio.sleep(0.3)  # anything applied twice would show up by now
    finally:
        await stop(tasks)
    assert sorted(uid for _, uid in applied) == list(range(1, 121))  # each once
    for chat in range(1000, 1006):
        order = [uid for c, uid in applied if c == chat]
        assert order == sorted(order)
    async with uow_factory(readonly=True) as uow:
        assert await uow.inbox.pending() == []


async def test_an_update_is_marked_processed_by_one_transaction_only(uow_factory: Any) -> None:
    async with uow_factory() as uow:
        await uow.inbox.add_many([update(1, 5)], datetime.now(UTC))
        await uow.commit()
    async with uow_factory(inbox_update=1) as first:
        await first.commit()
    async with uow_factory(inbox_update=1) as second:
        with pytest.raises(AlreadyProcessed):
            await second.commit()


class RecordingBot:
    """Stands in for Telegram: records what each worker sent."""

    def __init__(self, sent: list[tuple[int, str]]) -> None:
        self.sent = sent

    async def __call__(self, method: Any, request_timeout: int | None = None) -> bool:
        await asyncio.sleep(random.uniform(0, 0.004))
        self.sent.append((method.chat_id, method.text))
        return True


async def test_three_senders_send_every_call_once_in_chat_order(
    uow_factory: Any, redis_workers: Workers
) -> None:
    chats = [101, 102, 103, -100500]
    async with uow_factory() as uow:
        for i in range(20):
            for chat in chats:
                params = {"chat_id": chat, "text": f"m{i}"}
                await uow.outbox.add(OutboundCall(chat, "sendMessage", params), datetime.now(UTC))
        await uow.commit()
    sent: list[tuple[int, str]] = []
    limits = RateLimits(private_per_s=1000, group_per_min=60_000, global_per_s=1000)
    senders = [
        Sender(RecordingBot(sent), uow_factory, limits, coordinator=redis_workers())  # type: ignore[arg-type]
        for _ in range(3)
    ]
    tasks = [asyncio.create_task(s.run()) for s in senders]
    try:
        await until(lambda: len(sent) >= 80)
        await asyncio.sleep(0.5)
    finally:
        await stop(tasks)
    assert len(sent) == 80
    for chat in chats:
        assert [text for c, text in sent if c == chat] == [f"m{i}" for i in range(20)]
    assert sum(s.sent_count for s in senders) == 80


def short_leases(worker: RedisCoordinator) -> Any:
    def lease(key: str, ttl: float = 30.0) -> Any:
        return RedisCoordinator.lease(worker, key, 0.6)

    return lease


class SlowFirstBot(RecordingBot):
    """The first request takes long (a big upload, a slow network): longer than the lease's
    TTL, so only the renewals keep the chat."""

    def __init__(self, name: str, sent: list[tuple[int, str]], first_delay: float) -> None:
        super().__init__(sent)
        self.name, self.first_delay = name, first_delay
        self.entered = asyncio.Event()

    async def __call__(self, method: Any, request_timeout: int | None = None) -> bool:
        self.entered.set()
        if self.first_delay:
            delay, self.first_delay = self.first_delay, 0.0
            await asyncio.sleep(delay)
        self.sent.append((method.chat_id, f"{self.name}:{method.text}"))
        return True


async def test_a_redis_blip_during_a_renewal_does_not_let_another_worker_resend(
    uow_factory: Any, redis_workers: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = redis.asyncio.lock.Lock.reacquire
    calls = {"n": 0, "blips": 0}
    sent: list[tuple[int, str]] = []
    slow = SlowFirstBot("A", sent, first_delay=2.5)

    async def flaky(self: Any) -> bool:
        calls["n"] += 1
        if slow.entered.is_set() and not calls["blips"]:
            # One Redis hiccup (a timeout, a failover) while A's request is on the wire.
            calls["blips"] += 1
            raise RedisConnectionError("Connection reset by peer")
        return bool(await real(self))

    monkeypatch.setattr(redis.asyncio.lock.Lock, "reacquire", flaky)
    a, b = redis_workers(), redis_workers()
    for worker in (a, b):  # a short TTL, so the renewals matter within the test
        worker.lease = short_leases(worker)  # type: ignore[method-assign]
    async with uow_factory() as uow:
        for text in ("X", "Y"):
            params = {"chat_id": 101, "text": text}
            await uow.outbox.add(OutboundCall(101, "sendMessage", params), datetime.now(UTC))
        await uow.commit()
    limits = RateLimits(private_per_s=1000, group_per_min=60_000, global_per_s=1000)
    first = Sender(slow, uow_factory, limits, coordinator=a)  # type: ignore[arg-type]
    second = Sender(SlowFirstBot("B", sent, 0), uow_factory, limits, coordinator=b)  # type: ignore[arg-type]
    tasks = [asyncio.create_task(first.run())]
    try:
        await asyncio.wait_for(slow.entered.wait(), 10)
        tasks.append(asyncio.create_task(second.run()))
        await until(lambda: len(sent) >= 2, 10)
        await asyncio.sleep(1.0)
    finally:
        await stop(tasks)
    assert calls["blips"] == 1  # the blip happened while the request was on the wire
    assert [text.split(":")[1] for _, text in sent] == ["X", "Y"]


async def test_a_failing_update_waits_its_back_off_on_every_worker(
    uow_factory: Any, redis_workers: Workers, db_url: str
) -> None:
    if db_url.startswith("sqlite"):
        # Several workers run on PostgreSQL. On one SQLite file, three processors cancelled in
        # the middle of a write (as this test stops them) can leave the write lock held until
        # the busy timeout, which only slows the test's shutdown down.
        pytest.skip("several workers need PostgreSQL; this back-off is checked there")
    async with uow_factory() as uow:
        await uow.inbox.add_many([update(1, 7)], datetime.now(UTC))
        await uow.commit()
    attempts: list[float] = []

    class Failing:
        async def feed_update(self, *_args: Any, **_data: Any) -> None:
            attempts.append(time.monotonic())
            raise RuntimeError("the database blinked")

    processors = [
        Processor(Failing(), None, uow_factory, retry_delay=0.4, coordinator=redis_workers())  # type: ignore[arg-type]
        for _ in range(3)
    ]
    tasks = [asyncio.create_task(p.run()) for p in processors]
    try:
        await until(lambda: len(attempts) >= 3, 15)
    finally:
        await stop(tasks)
    # Back-off 0.4 s, then 0.8 s, however many workers there are: no worker tries the update
    # again before its back-off has passed (a slow machine may only make the gaps longer).
    gaps = [round(later - earlier, 2) for earlier, later in itertools.pairwise(attempts)]
    assert len(attempts) >= 3, gaps
    assert gaps[0] >= 0.35, gaps
    assert gaps[1] >= 0.75, gaps
    async with uow_factory(readonly=True) as uow:
        assert [i.update_id for i in await uow.inbox.pending()] == [1]  # not parked


async def test_one_process_applies_updates_in_the_order_they_came(uow_factory: Any) -> None:
    rows = [update(1, 10), update(2, 20), update(3, 10), update(4, 30), update(5, 20)]
    async with uow_factory() as uow:
        await uow.inbox.add_many(rows, datetime.now(UTC))
        await uow.commit()
    applied: list[tuple[int, int]] = []
    processor = Processor(RecordingDispatcher(applied), None, uow_factory)  # type: ignore[arg-type]
    async with uow_factory(readonly=True) as uow:
        await processor.process_batch(await uow.inbox.pending())
    assert [uid for _, uid in applied] == [1, 2, 3, 4, 5]


async def test_a_chat_with_a_backlog_does_not_hold_up_the_others(
    uow_factory: Any, redis_workers: Workers
) -> None:
    rows = [update(uid, 1) for uid in range(1, 401)] + [update(401, 2)]
    applied: list[tuple[int, int]] = []
    processors = await recording_workers(uow_factory, redis_workers, rows, applied, 2)
    tasks = [asyncio.create_task(processors[0].run())]
    await until(lambda: len(applied) >= 5)  # the first worker is busy with chat 1
    tasks.append(asyncio.create_task(processors[1].run()))
    try:
        await until(lambda: any(chat == 2 for chat, _ in applied), 30)
        done_in_chat_1 = sum(1 for chat, _ in applied if chat == 1)
    finally:
        await stop(tasks)
    assert any(chat == 2 for chat, _ in applied)
    assert done_in_chat_1 < 300  # chat 2 did not wait for chat 1's backlog


async def test_each_agents_group_has_its_own_budget_shared_by_all_workers(
    uow_factory: Any, redis_workers: Workers
) -> None:
    """A desk split across groups (team groups): three workers together never send more than
    a group's budget into it, and one group's full budget does not hold up another group."""
    groups = [-1001000000001, -1001000000002]
    async with uow_factory() as uow:
        for i in range(8):
            for chat in groups:
                params = {"chat_id": chat, "text": f"m{i}"}
                await uow.outbox.add(OutboundCall(chat, "sendMessage", params), datetime.now(UTC))
        await uow.commit()
    sent: list[tuple[int, str]] = []
    limits = RateLimits(private_per_s=1000, group_per_min=5, global_per_s=1000)
    senders = [
        Sender(RecordingBot(sent), uow_factory, limits, coordinator=redis_workers())  # type: ignore[arg-type]
        for _ in range(3)
    ]
    tasks = [asyncio.create_task(s.run()) for s in senders]
    try:
        await until(lambda: len(sent) >= 10, seconds=20)
        await asyncio.sleep(1.0)  # more would be sent now if a worker ignored the budget
    finally:
        await stop(tasks)
        # Deliveries still waiting for the budget outlive a stop's grace (a process exits
        # then); here the loop goes on, so they are cancelled before the clients close.
        waiting = [t for s in senders for t in s._in_flight.values()]
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
    for chat in groups:
        assert [text for c, text in sent if c == chat] == [f"m{i}" for i in range(5)]
