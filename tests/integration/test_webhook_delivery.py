"""The sender posts webhook deliveries to a local receiver: signed, in order, retried, once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.runtime.sender import Sender
from bot.runtime.webhook_poster import WebhookPolicy, WebhookPoster, retry_after
from models import webhooks as wh
from models.delivery import Channel, OutboundCall, OutboxStatus
from storage import AbstractUnitOfWork
from storage import uow_factory as make_uow_factory
from tests.support.db import engine_with_schema
from tests.support.desk import make_desk
from tests.support.receiver import receiver

SECRET = "test-secret-0123456789"
FAST = WebhookPolicy(timeout=2.0, base_backoff=0.2, max_backoff=1.0)
UowFactory = Callable[..., AbstractUnitOfWork]


@pytest.fixture
async def factory(tmp_path: Path) -> AsyncIterator[UowFactory]:
    engine = await engine_with_schema(f"sqlite+aiosqlite:///{tmp_path / 'hooks.db'}")
    yield make_uow_factory(engine)
    await engine.dispose()


async def add_endpoint(factory: UowFactory, url: str, secret: str = SECRET) -> wh.Webhook:
    async with factory() as uow:
        hook = await uow.webhooks.add(
            wh.Webhook(url=url, secret=secret, events=wh.EVENT_TYPES, created_at=_now())
        )
        await uow.commit()
    return hook


async def queue_events(factory: UowFactory, hook: wh.Webhook, count: int) -> list[str]:
    """``count`` deliveries to ``hook``; returns their delivery ids in queue order."""
    async with factory() as uow:
        calls = [wh.delivery_call(hook, wh.PING, _now(), None, {"n": n}) for n in range(count)]
        for call in calls:
            await uow.outbox.add(call, _now())
        await uow.commit()
    return [c.params["delivery"] for c in calls]


async def run_until(sender: Sender, done: Callable[[], bool], limit: float = 15.0) -> None:
    task = asyncio.create_task(sender.run())
    try:
        deadline = time.monotonic() + limit
        while not done():
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await sender.close()


def _now() -> datetime:
    return datetime.now(UTC)


async def status_of(factory: UowFactory, delivery_ids: list[str]) -> list[tuple[str, int]]:
    async with factory() as uow:
        out = []
        for call_id in range(1, 100):
            call = await uow.outbox.get(call_id)
            if call is not None and call.params.get("delivery") in delivery_ids:
                out.append((str(call.status), call.attempts))
    return out


class TestDelivery:
    async def test_failures_are_retried_and_each_event_arrives_once_in_order(
        self, factory: UowFactory
    ) -> None:
        script: list[Any] = [500, (429, {"Retry-After": "1"}), "drop"]
        async with receiver(SECRET, script) as rec:
            hook = await add_endpoint(factory, rec.url)
            ids = await queue_events(factory, hook, 3)
            sender = Sender(None, factory, webhooks=WebhookPoster(FAST))  # type: ignore[arg-type]
            await run_until(sender, lambda: len(rec.accepted()) == 3)
        assert all(h.signature_ok for h in rec.hits)
        assert [h.delivery for h in rec.accepted()] == ids  # in queue order, once each
        assert [h.body["id"] for h in rec.accepted()] == ids
        assert [h.body["data"]["n"] for h in rec.accepted()] == [0, 1, 2]
        # The first delivery was attempted four times, always with the same id.
        assert [h.delivery for h in rec.hits[:4]] == [ids[0]] * 4
        assert [h.answer for h in rec.hits[:4]] == ["500", "429", "drop", "200"]
        gaps = [b.at - a.at for a, b in zip(rec.hits, rec.hits[1:4], strict=False)]
        assert gaps[0] >= 0.5 * FAST.base_backoff  # back-off after the 500
        assert gaps[1] >= 0.95  # Retry-After: 1
        assert await status_of(factory, ids) == [("sent", 3), ("sent", 0), ("sent", 0)]

    @pytest.mark.parametrize("status", [400, 410])
    async def test_a_client_error_fails_the_delivery_for_good(
        self, factory: UowFactory, status: int
    ) -> None:
        async with receiver(SECRET, [status]) as rec:
            hook = await add_endpoint(factory, rec.url)
            ids = await queue_events(factory, hook, 2)
            sender = Sender(None, factory, webhooks=WebhookPoster(FAST))  # type: ignore[arg-type]
            await run_until(sender, lambda: len(rec.hits) == 2)
        assert [h.answer for h in rec.hits] == [str(status), "200"]  # the next one still goes
        assert await status_of(factory, ids) == [("failed", 1), ("sent", 0)]
        async with factory() as uow:
            failed = await uow.outbox.failed()  # what /failed lists
            stats = await uow.outbox.stats(_now())  # what /health counts
            per_endpoint = await uow.webhooks.delivery_stats([hook.id or 0])
        assert failed[0].method == "webhook"
        assert f"HTTP {status} from {rec.url}" in (failed[0].last_error or "")
        assert stats["failed"] == 1
        assert per_endpoint[hook.id or 0].failed == 1
        assert per_endpoint[hook.id or 0].sent == 1

    async def test_timeouts_are_retried_then_given_up_as_unknown(
        self, factory: UowFactory
    ) -> None:
        policy = WebhookPolicy(timeout=0.3, base_backoff=0.05, max_attempts=2)
        async with receiver(SECRET, [("sleep", 1.0), ("sleep", 1.0)]) as rec:
            hook = await add_endpoint(factory, rec.url)
            ids = await queue_events(factory, hook, 1)
            sender = Sender(None, factory, webhooks=WebhookPoster(policy))  # type: ignore[arg-type]

            async def given_up() -> bool:
                return await status_of(factory, ids) == [("unknown", 2)]

            task = asyncio.create_task(sender.run())
            try:
                for _ in range(300):
                    if await given_up():
                        break
                    await asyncio.sleep(0.02)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                await sender.close()
        assert await given_up()
        assert [h.delivery for h in rec.hits] == ids * 2  # the receiver dedupes by this id

    async def test_a_removed_endpoint_gets_nothing_more(self, factory: UowFactory) -> None:
        async with receiver(SECRET) as rec:
            hook = await add_endpoint(factory, rec.url)
            ids = await queue_events(factory, hook, 1)
            async with factory() as uow:
                await uow.webhooks.deactivate(hook.id or 0)
                await uow.commit()
            sender = Sender(None, factory, webhooks=WebhookPoster(FAST))  # type: ignore[arg-type]
            await sender.flush()
            await sender.close()
        assert rec.hits == []
        assert await status_of(factory, ids) == [("skipped", 1)]


async def test_a_slow_endpoint_delays_neither_telegram_nor_other_endpoints(
    tmp_path: Path,
) -> None:
    desk = await make_desk(tmp_path)
    try:
        async with receiver(SECRET, ["wait"]) as slow, receiver(SECRET) as fast:
            slow_hook = await add_endpoint(desk.uow_factory, slow.url)
            fast_hook = await add_endpoint(desk.uow_factory, fast.url)
            ann = desk.emulator.add_user("Ann")
            desk.emulator.user_sends_text(ann, "my card was declined")
            desk.emulator.user_sends_text(ann, "please help")
            # Process the updates without sending: the sender runs on its own below.
            desk.sender.flush = _no_flush  # type: ignore[method-assign]
            await desk.step()
            started = time.monotonic()
            task = asyncio.create_task(desk.sender.run())
            try:
                while not (len(desk.texts_to(ann)) >= 1 and len(fast.accepted()) >= 3):
                    assert time.monotonic() - started < 30, "Telegram or fast endpoint stuck"
                    await asyncio.sleep(0.02)
                # The slow endpoint still holds its first delivery; the rest waits behind it.
                assert [h.answer for h in slow.hits] == ["200"]
                assert not slow.release.is_set()
                assert "ticket #1" in desk.texts_to(ann)[0]
                assert [h.event for h in fast.accepted()] == [
                    wh.OPENED,
                    wh.MESSAGE,
                    wh.MESSAGE,
                ]
                slow.release.set()
                while len(slow.accepted()) < 3:
                    assert time.monotonic() - started < 30, "slow endpoint never finished"
                    await asyncio.sleep(0.02)
            finally:
                slow.release.set()  # never leave a request hanging, even when a check failed
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        assert [h.delivery for h in slow.accepted()] == [h.body["id"] for h in slow.accepted()]
        assert [h.event for h in slow.accepted()] == [wh.OPENED, wh.MESSAGE, wh.MESSAGE]
        assert slow_hook.id != fast_hook.id
    finally:
        await desk.close()


async def _no_flush(**_: Any) -> None:
    return None


class TestRetryAfter:
    def test_seconds_and_http_dates(self) -> None:
        now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
        assert retry_after("7", now) == 7.0
        assert retry_after("Mon, 02 Mar 2026 10:00:30 GMT", now) == 30.0
        assert retry_after("Mon, 02 Mar 2026 09:00:00 GMT", now) == 0.0
        assert retry_after("soon", now) is None
        assert retry_after(None, now) is None

    def test_backoff_doubles_with_jitter_and_is_capped(self) -> None:
        policy = WebhookPolicy(base_backoff=2.0, max_backoff=60.0)
        for attempts, base in [(0, 2.0), (1, 4.0), (3, 16.0), (10, 60.0)]:
            delays = [policy.backoff(attempts) for _ in range(50)]
            assert all(0.5 * base <= d <= 1.5 * base for d in delays)
            assert len(set(delays)) > 1

    def test_give_up_when_the_wait_would_pass_the_deadline(self) -> None:
        poster = WebhookPoster(WebhookPolicy(max_age=timedelta(hours=1)))
        old = OutboundCall(
            chat_id=1,
            channel=Channel.WEBHOOK,
            method=wh.WEBHOOK_METHOD,
            params={},
            created_at=_now() - timedelta(minutes=59),
        )
        assert poster._transient(old, "HTTP 503", 30.0).retry_in == 30.0
        outcome = poster._transient(old, "HTTP 503", 120.0)
        assert outcome.give_up is OutboxStatus.FAILED
        assert outcome.retry_in is None
