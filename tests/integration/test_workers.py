"""Several workers on one database and one Redis: leases, job claims, shared rate limits, and
the inbox processor and outbox sender running side by side without doing anything twice."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.runtime.coordination import LocalCoordinator, RedisCoordinator
from bot.runtime.processor import Processor
from bot.runtime.sender import RateLimits, Sender
from models.delivery import OutboundCall
from storage.delivery import AlreadyProcessed

Workers = Callable[[], RedisCoordinator]


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
    """Applies an update the way the real middleware does (mark it done in the commit) and
    records it only when that commit went through."""

    def __init__(self, uow_factory: Any, applied: list[tuple[int, int]]) -> None:
        self.uow_factory = uow_factory
        self.applied = applied

    async def feed_raw_update(self, _bot: object, payload: dict[str, Any], **data: Any) -> None:
        async with self.uow_factory() as uow:
            uow.inbox_update_id = data["inbox_update_id"]
            await asyncio.sleep(random.uniform(0, 0.004))
            await uow.commit()
        data["inbox_state"]["done"] = True
        self.applied.append((payload["message"]["chat"]["id"], payload["update_id"]))


async def test_three_processors_apply_every_update_once_in_chat_order(
    uow_factory: Any, redis_workers: Workers
) -> None:
    rows = [update(uid, 1000 + uid % 6) for uid in range(1, 121)]
    async with uow_factory() as uow:
        await uow.inbox.add_many(rows, datetime.now(UTC))
        await uow.commit()
    applied: list[tuple[int, int]] = []
    processors = [
        Processor(
            RecordingDispatcher(uow_factory, applied),  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            uow_factory,
            coordinator=redis_workers(),
        )
        for _ in range(3)
    ]
    tasks = [asyncio.create_task(p.run()) for p in processors]
    try:
        await until(lambda: len(applied) >= len(rows))
        await asyncio.sleep(0.3)  # anything applied twice would show up by now
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
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
    async with uow_factory() as first:
        first.inbox_update_id = 1
        await first.commit()
    async with uow_factory() as second:
        second.inbox_update_id = 1
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
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert len(sent) == 80
    for chat in chats:
        assert [text for c, text in sent if c == chat] == [f"m{i}" for i in range(20)]
    assert sum(s.sent_count for s in senders) == 80
