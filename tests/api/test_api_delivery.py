"""The API's promises about delivery: one reply per Idempotency-Key, however often it is sent;
a reply Telegram refuses with 429 arrives later, in order with the agents' replies; and the
per-key rate limit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from openapi_core.exceptions import OpenAPIError
from sqlalchemy import text

from bot.api.app import ApiDeps
from bot.api.app import serve as serve_on
from bot.runtime.coordination import RedisCoordinator
from bot.services.api import prune_idempotency
from tests.api.conftest import ApiClient, Exchange, check_contract, serve_api
from tests.support.desk import make_desk, open_ticket
from tests.support.net import free_port

PROBLEM = "urn:helpdesk:problem:"


async def test_a_reply_sent_three_times_with_one_key_reaches_the_customer_once(
    api: ApiClient,
) -> None:
    ann, _ = await open_ticket(api.desk)
    before = len(api.desk.texts_to(ann))
    headers = {"Idempotency-Key": "crm-reply-0001"}
    answers = [
        await api.call("POST", "/tickets/1/replies", json={"text": "Once"}, headers=headers)
        for _ in range(3)
    ]
    assert [a[0] for a in answers] == [201, 201, 201]
    assert answers[0][1] == answers[1][1] == answers[2][1]  # the first response, replayed
    assert answers[1][2]["Idempotent-Replayed"] == "true"
    await api.desk.step()
    assert api.desk.texts_to(ann)[before:] == ["Once"]
    _, messages, _ = await api.get("/tickets/1/messages")
    assert [m["text"] for m in messages["items"]].count("Once") == 1

    # The same key with another body is refused; another key sends again.
    status, body, _ = await api.call(
        "POST", "/tickets/1/replies", json={"text": "Twice?"}, headers=headers
    )
    assert (status, body["type"]) == (422, PROBLEM + "idempotency-key-reused")
    status, _, _ = await api.call(
        "POST",
        "/tickets/1/replies",
        json={"text": "Once"},
        headers={"Idempotency-Key": "crm-reply-0002"},
    )
    assert status == 201
    await api.desk.step()
    assert api.desk.texts_to(ann)[before:] == ["Once", "Once"]


async def test_concurrent_repeats_send_once(api: ApiClient) -> None:
    ann, _ = await open_ticket(api.desk)
    before = len(api.desk.texts_to(ann))
    headers = {"Idempotency-Key": "burst"}
    answers = await asyncio.gather(
        *(
            api.call("POST", "/tickets/1/notes", json={"text": "n"}, headers=headers)
            for _ in range(5)
        )
    )
    assert {a[0] for a in answers} <= {201, 409}
    _, messages, _ = await api.get("/tickets/1/messages")
    assert [m["direction"] for m in messages["items"]].count("note") == 1
    assert len(api.desk.texts_to(ann)) == before


async def test_a_failed_request_does_not_use_up_its_key(api: ApiClient) -> None:
    status, _, _ = await api.call(
        "POST", "/tickets/1/replies", json={"text": "x"}, headers={"Idempotency-Key": "k"}
    )
    assert status == 404  # no ticket yet: nothing done, nothing remembered
    await open_ticket(api.desk)
    status, _, _ = await api.call(
        "POST", "/tickets/1/replies", json={"text": "x"}, headers={"Idempotency-Key": "k"}
    )
    assert status == 201


async def test_a_reply_refused_with_429_arrives_later_in_order(api: ApiClient) -> None:
    desk = api.desk
    ann, ticket = await open_ticket(desk)
    before = len(desk.texts_to(ann))
    desk.emulator.inject_fault("429", chat_id=ann["id"], retry_after=1)
    status, _, _ = await api.call("POST", "/tickets/1/replies", json={"text": "first (API)"})
    assert status == 201
    desk.emulator.user_sends_text(
        desk.admin, "second (topic)", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
    )
    await desk.step(ignore_delays=False)  # Telegram said 429: the reply waits its turn
    assert desk.texts_to(ann)[before:] == []
    await desk.sender.flush(ignore_delays=True)  # later
    assert desk.texts_to(ann)[before:] == ["first (API)", "second (topic)"]


async def test_rate_limit_per_key(tmp_path: Path) -> None:
    desk = await make_desk(tmp_path)
    runner, base = await serve_api(desk, rate_per_min=3)
    try:
        async with aiohttp.ClientSession() as http:
            client = ApiClient(desk, base, http, "")
            client.key = await client.new_key("busy")
            other = await client.new_key("calm")
            statuses = [(await client.get("/agents"))[0] for _ in range(3)]
            assert statuses == [200, 200, 200]
            status, body, headers = await client.get("/agents")
            assert status == 429
            assert body["type"] == PROBLEM + "rate-limited"
            assert 1 <= int(headers["Retry-After"]) <= 60
            assert (await client.get("/agents", key=other))[0] == 200  # per key
        check_contract(client.seen)
    finally:
        await runner.cleanup()
        await desk.close()


async def test_a_keys_limit_holds_across_workers(
    tmp_path: Path, redis_workers: Callable[[], RedisCoordinator]
) -> None:
    """Two API workers sharing Redis: a key's 3 requests a minute are the desk's, not 3 on
    each worker (with a counter per worker the fourth request would pass)."""
    desk = await make_desk(tmp_path)
    first, first_base = await serve_api(desk, rate_per_min=3, quota=redis_workers())
    second, second_base = await serve_api(desk, rate_per_min=3, quota=redis_workers())
    try:
        async with aiohttp.ClientSession() as http:
            one = ApiClient(desk, first_base, http, "")
            one.key = await one.new_key("busy")
            two = ApiClient(desk, second_base, http, one.key)
            statuses = [
                (await one.get("/agents"))[0],
                (await two.get("/agents"))[0],
                (await one.get("/agents"))[0],
                (await two.get("/agents"))[0],
                (await one.get("/agents"))[0],
            ]
            assert statuses == [200, 200, 200, 429, 429]
            status, body, headers = await two.get("/agents")
            assert (status, body["type"]) == (429, PROBLEM + "rate-limited")
            assert 1 <= int(headers["Retry-After"]) <= 60
    finally:
        await first.cleanup()
        await second.cleanup()
        await desk.close()


def test_the_contract_check_catches_a_response_the_document_does_not_describe() -> None:
    wrong = Exchange(
        "GET",
        "http://127.0.0.1:1/api/v1/tickets/1",
        {},
        200,
        b'{"number": "one"}',
        {"Content-Type": "application/json"},
        "application/json",
    )
    with pytest.raises(OpenAPIError):
        check_contract([wrong])


async def test_a_key_older_than_a_day_is_forgotten(api: ApiClient) -> None:
    ann, _ = await open_ticket(api.desk)
    headers = {"Idempotency-Key": "daily"}
    await api.call("POST", "/tickets/1/replies", json={"text": "again"}, headers=headers)
    async with api.desk.engine.begin() as connection:
        await connection.execute(
            text("UPDATE api_idempotency SET created_at = :at"),
            {"at": (datetime.now(UTC) - timedelta(hours=25)).replace(tzinfo=None)},
        )
    status, _, replayed = await api.call(
        "POST", "/tickets/1/replies", json={"text": "again"}, headers=headers
    )
    assert status == 201
    assert "Idempotent-Replayed" not in replayed
    await api.desk.step()
    assert api.desk.texts_to(ann).count("again") == 2
    assert await prune_idempotency(api.desk.uow_factory, datetime.now(UTC)) == 0
    later = datetime.now(UTC) + timedelta(hours=25)
    assert await prune_idempotency(api.desk.uow_factory, later) == 1


async def test_workers_on_one_host_share_the_port(api: ApiClient) -> None:
    port = free_port()
    deps = ApiDeps(api.desk.uow_factory, api.desk.presenter)
    first = await serve_on(deps, "127.0.0.1", port)
    second = await serve_on(deps, "127.0.0.1", port)  # another worker: no "address in use"
    try:
        async with api.http.get(
            f"http://127.0.0.1:{port}/api/v1/agents",
            headers={"Authorization": f"Bearer {api.key}"},
        ) as response:
            assert response.status == 200
    finally:
        await first.cleanup()
        await second.cleanup()
