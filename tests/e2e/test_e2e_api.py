"""The REST API of the real ``helpdesk run`` process (against the emulator): a key made with
the command line reads tickets, replies once however often the request is repeated, and a
reply Telegram refuses with 429 still arrives, in order with the agents' replies."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import aiohttp
import pytest

from tests.e2e.conftest import ROOT, Running, without_incidents
from tests.support.cli import clean_env
from tests.support.net import free_port

pytestmark = pytest.mark.e2e


async def make_key(run: Running, name: str, database_url: str | None = None) -> str:
    env = clean_env(HELPDESK_DATA_DIR=str(run.data_dir), PYTHONPATH=str(ROOT))
    if database_url is not None:
        env["HELPDESK_DATABASE_URL"] = database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "apikey",
        "create",
        name,
        "--scopes",
        "tickets:read,tickets:write,messages:write,people:read,stats:read",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return str(json.loads(out)["key"])


async def test_api_of_the_running_bot(bot_factory: Any) -> None:
    port = free_port()
    run: Running = await bot_factory(HELPDESK_API_PORT=str(port))
    await without_incidents(run)
    emu = run.emulator
    key = await make_key(run, "crm")
    base = f"http://127.0.0.1:{port}/api/v1"
    auth = {"Authorization": f"Bearer {key}"}

    ann = emu.add_user("Ann", username="ann_k")
    emu.user_sends_text(ann, "My card was charged twice")
    await run.wait(lambda: run.ticket_topics(), "the ticket's topic")
    thread = run.ticket_topics()[0]["message_thread_id"]
    before = len(run.texts_to(ann))

    async with aiohttp.ClientSession(headers=auth) as http:
        async with http.get(base + "/customers", params={"username": "ann_k"}) as r:
            assert r.status == 200
            assert (await r.json())["items"][0]["telegram_id"] == ann["id"]
        async with http.get(base + "/tickets", params={"customer": str(ann["id"])}) as r:
            [ticket] = (await r.json())["items"]
        number = ticket["number"]

        # Sent three times with one Idempotency-Key (a CRM retrying): one reply.
        for _ in range(3):
            async with http.post(
                f"{base}/tickets/{number}/replies",
                json={"text": "Refund is on the way"},
                headers={"Idempotency-Key": "crm-1"},
            ) as r:
                assert r.status == 201
        await run.wait(lambda: "Refund is on the way" in run.texts_to(ann), "the reply")

        # Telegram answers 429 to the next reply: it waits, then arrives before the agent's.
        emu.inject_fault("429", chat_id=ann["id"], retry_after=2)
        async with http.post(
            f"{base}/tickets/{number}/replies", json={"text": "first (API)"}
        ) as r:
            assert r.status == 201
        emu.user_sends_text(run.admin, "second (topic)", chat_id=run.group_id, thread_id=thread)
        await run.wait(lambda: "second (topic)" in run.texts_to(ann), "the topic's reply")
        assert run.texts_to(ann)[before:] == [
            "Refund is on the way",
            "first (API)",
            "second (topic)",
        ]

        async with http.get(f"{base}/tickets/{number}") as r:
            etag = r.headers["ETag"]
        async with http.patch(
            f"{base}/tickets/{number}", json={"status": "resolved"}, headers={"If-Match": etag}
        ) as r:
            assert r.status == 200
            assert (await r.json())["status"] == "resolved"
        async with http.patch(
            f"{base}/tickets/{number}", json={"priority": "high"}, headers={"If-Match": etag}
        ) as r:
            assert r.status == 412
            assert r.content_type == "application/problem+json"
    topic = [m.get("text") or "" for m in emu.messages_in(run.group_id, thread)]
    assert any("via API: crm" in t for t in topic)
