"""Workers come and go (PostgreSQL + Redis, webhook mode behind a balancer): one is killed at
ten different moments of a burst and started again each time, and three workers started at
the same instant all come up, ten times over."""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from pathlib import Path

import pytest

from bot.services import training
from tests.e2e.conftest import (
    Running,
    cluster_env,
    redis_or_skip,
    start_world,
    without_incidents,
)
from tests.e2e.test_e2e_delivery import copies_in_topic, topic_of
from tests.support.db import empty_database
from tests.support.workers import webhook_cluster, webhook_workers

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(600)]

CUSTOMERS, MOMENTS = 6, 10


async def test_a_worker_killed_at_ten_moments_of_a_burst_keeps_every_topic_in_order(
    tmp_path: Path,
) -> None:
    redis = redis_or_skip()
    async for db_url in empty_database("postgres", tmp_path):
        await kill_at_ten_moments(tmp_path, db_url, redis)


async def kill_at_ten_moments(tmp_path: Path, db_url: str, redis: str) -> None:
    emu, group, admin = await start_world(webhook=True)
    env = cluster_env(emu, group, admin, tmp_path, db_url, redis, HELPDESK_LOG_LEVEL="INFO")
    try:
        async with webhook_cluster(env, tmp_path, 3, stop_timeout=15) as (workers, _balancer):
            run = Running(emu, workers[0], group, admin, tmp_path / "w0")
            await without_incidents(run)
            people = [emu.add_user(f"P{i}") for i in range(CUSTOMERS)]
            copies_at_kill: list[dict[str, Counter[str]]] = []
            for moment in range(MOMENTS):
                for person in people:
                    emu.user_sends_text(person, f"msg {moment} from {person['first_name']}")
                # Each kill lands at another point of the work those messages cause.
                await asyncio.sleep(0.15 * moment)
                victim = workers[moment % len(workers)]
                victim.kill()
                await victim.wait(timeout=10)
                copies_at_kill.append(
                    {
                        p["first_name"]: Counter(copies_in_topic(run, t))
                        for p in people
                        if (t := topic_of(run, p)) is not None
                    }
                )
                await victim.start()
                await victim.wait_for_output("webhook endpoint up", timeout=120)

            def missing() -> dict[str, list[str]]:
                gaps = {}
                for p in people:
                    want = {f"msg {i} from {p['first_name']}" for i in range(MOMENTS)}
                    thread = topic_of(run, p)
                    have = set(copies_in_topic(run, thread)) if thread is not None else set()
                    if want - have:
                        gaps[p["first_name"]] = sorted(want - have)
                return gaps

            try:
                await run.wait(lambda: not missing(), "every message in its topic", 240)
            except AssertionError:
                raise AssertionError(f"still missing: {missing()}") from None
            await asyncio.sleep(3)  # let anything that would be sent twice show up

            for person in people:
                name = person["first_name"]
                copies = copies_in_topic(run, topic_of(run, person))  # type: ignore[arg-type]
                assert list(dict.fromkeys(copies)) == [
                    f"msg {i} from {name}" for i in range(MOMENTS)
                ]
                # A second copy can only be a call a killed worker had on the wire (its outcome
                # unknown: Telegram has no idempotency key), so it predates one of the kills.
                for text, count in Counter(copies).items():
                    if count > 1:
                        assert count == 2, (name, text, count)
                        assert any(seen.get(name, Counter())[text] for seen in copies_at_kill)
            assert len(run.ticket_topics()) == CUSTOMERS
    finally:
        await emu.stop()


async def test_three_workers_started_at_the_same_instant_all_come_up_ten_times(
    tmp_path: Path,
) -> None:
    redis = redis_or_skip()
    models = tmp_path / "models"
    await asyncio.to_thread(training.load_or_train, models)  # each worker gets a copy
    for attempt in range(10):
        async for db_url in empty_database("postgres", tmp_path / f"db{attempt}"):
            emu, group, admin = await start_world(webhook=True)
            place = tmp_path / f"attempt{attempt}"
            env = cluster_env(emu, group, admin, place, db_url, redis, HELPDESK_LOG_LEVEL="INFO")
            balancer, workers = await webhook_workers(env, place, 3)
            for i in range(3):
                shutil.copytree(models, place / f"w{i}" / "models")
            try:
                await asyncio.gather(*(w.start() for w in workers))
                await asyncio.gather(
                    *(w.wait_for_output("webhook endpoint up", timeout=180) for w in workers)
                )
                codes = [await w.terminate(timeout=15) for w in workers]
            finally:
                for worker in workers:
                    if worker.running:
                        worker.kill()
                        await worker.wait(timeout=10)
                await balancer.stop()
                await emu.stop()
            assert codes == [0, 0, 0], [w.output[-2000:] for w in workers]
            for worker in workers:
                assert "Traceback" not in worker.output, worker.output[-3000:]
