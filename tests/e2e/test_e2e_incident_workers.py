"""Two webhook workers (PostgreSQL + Redis) behind a balancer, with Telegram's limits: a surge
whose messages land on both workers becomes one incident, not one per worker, and one reply in
its topic reaches every customer once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Running, cluster_env, redis_or_skip, start_world
from tests.e2e.test_e2e_incidents import incident_topics, surge_into_incident
from tests.support.db import empty_database
from tests.support.outage import OUTAGE
from tests.support.workers import webhook_cluster

pytestmark = pytest.mark.e2e

TELEGRAM_LIMITS = {
    "HELPDESK_RATE_PRIVATE_PER_S": "1",
    "HELPDESK_RATE_GROUP_PER_MIN": "20",
    "HELPDESK_RATE_GLOBAL_PER_S": "30",
}


@pytest.mark.postgres
@pytest.mark.timeout(420)
async def test_a_surge_across_two_workers_is_one_incident(tmp_path: Path) -> None:
    redis_url = redis_or_skip()
    async for db_url in empty_database("postgres", tmp_path):
        await surge_on_two_workers(tmp_path, db_url, redis_url)


async def surge_on_two_workers(tmp_path: Path, db_url: str, redis_url: str) -> None:
    emu, group, admin = await start_world(webhook=True)
    env = cluster_env(emu, group, admin, tmp_path, db_url, redis_url, **TELEGRAM_LIMITS)
    try:
        async with webhook_cluster(env, tmp_path, 2) as (workers, balancer):
            run = Running(emu, workers[0], group, admin, tmp_path / "w0")
            emu.set_rate_limits(1, 20, 30)
            texts = [f"{text} ({n})" for n, text in enumerate(OUTAGE * 3)]
            # The card counts every ticket: the early ones whose topics went out are linked too.
            people, thread = await surge_into_incident(run, texts, seconds=120)
            reply = "We know: the app is down, a fix is on its way"
            emu.user_sends_text(admin, reply, chat_id=group["id"], thread_id=thread)
            await run.wait(
                lambda: all(reply in run.texts_to(p) for p in people),
                "the reply reached everyone",
                seconds=120,
            )
            assert len(incident_topics(run)) == 1
            assert all(balancer.answered[u] > len(texts) // 4 for u in balancer.upstreams)
            assert all(run.texts_to(p).count(reply) == 1 for p in people)
            # The workers share every window, to the finish of each call.
            assert emu.served_429 == 0
    finally:
        await emu.stop()
