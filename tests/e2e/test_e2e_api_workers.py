"""The REST API with two webhook workers on PostgreSQL and Redis: both serve it on the one
port (SO_REUSEPORT), and a reply posted three times with one Idempotency-Key, whichever worker
takes each attempt, reaches the customer once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.conftest import Running, cluster_env, redis_or_skip, start_world, without_incidents
from tests.e2e.test_e2e_api import make_key
from tests.support.db import empty_database
from tests.support.net import free_port
from tests.support.workers import webhook_cluster

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(420)]


async def test_two_workers_serve_the_api_and_reply_once(tmp_path: Path) -> None:
    redis_url = redis_or_skip()
    async for db_url in empty_database("postgres", tmp_path):
        await run_two(tmp_path, db_url, redis_url)


async def run_two(tmp_path: Path, db_url: str, redis_url: str) -> None:
    emu, group, admin = await start_world(webhook=True)
    port = free_port()
    env = cluster_env(emu, group, admin, tmp_path, db_url, redis_url, HELPDESK_API_PORT=str(port))
    try:
        async with webhook_cluster(env, tmp_path, 2, stop_timeout=15) as (workers, _balancer):
            for worker in workers:
                await worker.wait_for_output("API up", timeout=30)
            run = Running(emu, workers[0], group, admin, tmp_path / "w0")
            await without_incidents(run)
            key = await make_key(run, "crm", database_url=db_url)
            ann = emu.add_user("Ann")
            emu.user_sends_text(ann, "My card was charged twice")
            # Both sides first: the topic and the customer's acknowledgement go out in either
            # order, and the reply is counted after them.
            await run.wait(
                lambda: run.ticket_topics() and run.texts_to(ann), "topic and acknowledgement", 60
            )
            before = len(run.texts_to(ann))
            base = f"http://127.0.0.1:{port}/api/v1"
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as http:

                async def post() -> int:
                    # A new connection each time: the kernel picks a worker for each.
                    async with (
                        aiohttp.ClientSession(
                            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "crm-9"},
                            connector=aiohttp.TCPConnector(force_close=True),
                        ) as fresh,
                        fresh.post(
                            f"{base}/tickets/1/replies", json={"text": "Once, from the CRM"}
                        ) as r,
                    ):
                        return r.status

                statuses = await asyncio.gather(post(), post(), post())
                assert set(statuses) <= {201, 409}, statuses
                assert 201 in statuses
                await run.wait(lambda: "Once, from the CRM" in run.texts_to(ann), "the reply", 30)
                await asyncio.sleep(2)  # time for a second copy, if there were one
                assert run.texts_to(ann)[before:] == ["Once, from the CRM"]
                async with http.get(f"{base}/tickets/1/messages") as r:
                    texts = [m["text"] for m in (await r.json())["items"]]
                assert texts.count("Once, from the CRM") == 1
    finally:
        await emu.stop()
