"""The website chat widget over real HTTP: the in-process desk (against the Bot API emulator)
with the widget's endpoints on a free port, on each database backend.

A visitor's message opens a ticket in the agents' group like a Telegram customer's; the
agent's reply in the topic reaches the visitor's conversation through the outbox, in order,
once; a token reads its own conversation only; bad input is refused and stores nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.api.widget import WidgetDeps, make_widget_app
from bot.runtime.coordination import LocalCoordinator
from bot.runtime.widget_poster import WidgetHub, WidgetPoster
from models import MessageDirection
from models.delivery import Channel
from models.widget import TEXT_MAX, token_hash, widget_call
from tests.support.desk import Desk, GeneralTriage, make_desk

SITE = "https://shop.example"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class WidgetClient:
    desk: Desk
    base: str
    http: aiohttp.ClientSession

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        origin: str | None = SITE,
        params: dict[str, Any] | None = None,
    ) -> tuple[int, Any, Any]:
        headers = {"Origin": origin} if origin else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with self.http.request(
            method, self.base + path, json=json, headers=headers, params=params
        ) as response:
            body = await response.json(content_type=None) if response.content_length else None
            return response.status, body, response.headers

    async def visitor(self, **contact: Any) -> str:
        status, body, _ = await self.call("POST", "/visitors", json=contact)
        assert status == 201, body
        return str(body["token"])

    async def write(self, token: str, text: str, **extra: Any) -> Any:
        status, body, _ = await self.call(
            "POST", "/messages", token=token, json={"text": text, **extra}
        )
        assert status in (200, 201), body
        return body

    async def read(self, token: str, after: int = 0, wait: int = 0) -> Any:
        status, body, _ = await self.call(
            "GET", "/messages", token=token, params={"after": after, "wait": wait}
        )
        assert status == 200, body
        return body


def hub_of(desk: Desk) -> Any:
    poster = desk.sender.posters[Channel.WEB]
    assert isinstance(poster, WidgetPoster)
    return poster.hub


async def serve_widget(
    desk: Desk, rate_per_min: int = 1000, hub: WidgetHub | None = None
) -> tuple[web.AppRunner, str]:
    """The widget's endpoints of ``desk`` on a free port; ``hub``: another worker's (one the
    desk's sender never wakes), else the sender's own."""
    deps = WidgetDeps(
        desk.uow_factory,
        desk.presenter,
        GeneralTriage(),
        desk.dp["desk_config"],
        [SITE],
        hub or hub_of(desk),
        rate_per_min=rate_per_min,
        quota=LocalCoordinator(),
        wake=desk.sender.wake,
    )
    app = web.Application()
    app.add_subapp("/widget/", make_widget_app(deps))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/widget/v1"


@pytest.fixture
async def widget(tmp_path: Path, db_url: str) -> AsyncIterator[WidgetClient]:
    desk = await make_desk(tmp_path, database_url=db_url)
    runner, base = await serve_widget(desk)
    async with aiohttp.ClientSession() as http:
        yield WidgetClient(desk, base, http)
    await runner.cleanup()
    await desk.close()


async def ticket_of(desk: Desk, number: int) -> Any:
    ticket = await desk.ticket(number)
    assert ticket is not None
    return ticket


async def agent_writes(desk: Desk, ticket: Any, text: str) -> None:
    desk.emulator.user_sends_text(
        desk.admin, text, chat_id=desk.group_id, thread_id=ticket.agent_thread_id
    )
    await desk.step()


class TestVisitorWrites:
    async def test_a_first_message_opens_a_ticket_in_its_topic_and_is_acknowledged(
        self, widget: WidgetClient
    ) -> None:
        desk = widget.desk
        token = await widget.visitor(name="Ann", email="ann@example.com", language="en")
        posted = await widget.write(token, "My <b>order</b> never arrived")
        assert posted["ticket"] == 1
        assert posted["message"]["seq"] == 1
        await desk.step()

        ticket = await ticket_of(desk, 1)
        assert ticket.agent_thread_id is not None
        async with desk.uow_factory() as uow:
            customer = await uow.customers.get(ticket.customer_id)
            messages = await uow.messages.for_ticket(ticket.id)
        assert customer is not None
        assert customer.visitor
        assert customer.first_name == "Ann"
        assert [(m.direction, m.text, m.channel) for m in messages] == [
            (MessageDirection.CUSTOMER, "My <b>order</b> never arrived", Channel.WEB)
        ]
        card = desk.emulator.message(desk.group_id, ticket.card_message_id)
        assert "website chat" in card["text"]
        # The visitor's words reach the agents as written, never as markup.
        assert "My <b>order</b> never arrived" in card["text"]

        conversation = await widget.read(token)
        assert [(m["seq"], m["sender"]) for m in conversation["messages"]] == [
            (1, "visitor"),
            (2, "desk"),
        ]
        assert "ticket #1" in conversation["messages"][1]["text"]
        assert conversation["messages"][1]["ticket"] == 1
        assert conversation["cursor"] == 2

    async def test_a_later_message_joins_the_same_ticket(self, widget: WidgetClient) -> None:
        token = await widget.visitor()
        await widget.write(token, "The app crashes on start")
        await widget.desk.step()
        posted = await widget.write(token, "It is version 2.3")
        await widget.desk.step()
        assert posted["ticket"] == 1
        ticket = await ticket_of(widget.desk, 1)
        topic = widget.desk.topic_messages(ticket.agent_thread_id)
        assert any(m.get("text") == "It is version 2.3" for m in topic)
        assert await widget.desk.ticket(2) is None

    async def test_a_send_retried_with_its_client_id_is_stored_once(
        self, widget: WidgetClient
    ) -> None:
        token = await widget.visitor()
        first = await widget.write(token, "Where is my parcel?", client_id="abc123")
        again = await widget.write(token, "Where is my parcel?", client_id="abc123")
        assert again["duplicate"] is True
        assert again["message"]["seq"] == first["message"]["seq"]
        assert again["ticket"] == first["ticket"] == 1
        await widget.desk.step()
        async with widget.desk.uow_factory() as uow:
            messages = await uow.messages.for_ticket((await ticket_of(widget.desk, 1)).id)
        assert len(messages) == 1
        visitor_rows = [
            m for m in (await widget.read(token))["messages"] if m["sender"] == "visitor"
        ]
        assert len(visitor_rows) == 1


class TestAgentReplies:
    async def test_the_agents_reply_reaches_the_widget_in_order_once(
        self, widget: WidgetClient
    ) -> None:
        desk = widget.desk
        token = await widget.visitor()
        await widget.write(token, "Refund please")
        await desk.step()
        ticket = await ticket_of(desk, 1)
        replies = [f"Reply {i}" for i in range(1, 6)]
        for text in replies:
            await agent_writes(desk, ticket, text)
        conversation = await widget.read(token)
        texts = [m["text"] for m in conversation["messages"] if m["sender"] == "desk"]
        assert texts[1:] == replies
        seqs = [m["seq"] for m in conversation["messages"]]
        assert seqs == list(range(1, len(seqs) + 1))

    async def test_a_reader_waiting_for_news_gets_the_reply_as_it_is_stored(
        self, widget: WidgetClient
    ) -> None:
        desk = widget.desk
        token = await widget.visitor()
        await widget.write(token, "Is anyone there?")
        await desk.step()
        cursor = (await widget.read(token))["cursor"]
        ticket = await ticket_of(desk, 1)

        waiting = asyncio.create_task(widget.read(token, after=cursor, wait=20))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # nothing new yet: the request is held
        started = asyncio.get_running_loop().time()
        await agent_writes(desk, ticket, "Yes, I am here")
        news = await asyncio.wait_for(waiting, 10)
        assert asyncio.get_running_loop().time() - started < 5
        assert [m["text"] for m in news["messages"]] == ["Yes, I am here"]

    async def test_a_reader_on_another_worker_finds_the_reply_by_looking_again(
        self, tmp_path: Path, sqlite_url: str
    ) -> None:
        """The text is stored by a worker whose hub this reader does not listen to: the held
        request looks at the database again within ``recheck``."""
        desk = await make_desk(tmp_path, database_url=sqlite_url)
        runner, base = await serve_widget(desk, hub=WidgetHub(recheck=0.5))
        try:
            async with aiohttp.ClientSession() as http:
                client = WidgetClient(desk, base, http)
                token = await client.visitor()
                await client.write(token, "Hello?")
                await desk.step()
                cursor = (await client.read(token))["cursor"]
                waiting = asyncio.create_task(client.read(token, after=cursor, wait=20))
                await asyncio.sleep(0.2)
                await agent_writes(desk, await ticket_of(desk, 1), "Hello from another worker")
                news = await asyncio.wait_for(waiting, 5)
                assert [m["text"] for m in news["messages"]] == ["Hello from another worker"]
        finally:
            await runner.cleanup()
            await desk.close()

    async def test_a_visitor_coming_back_reads_only_what_came_while_away(
        self, widget: WidgetClient
    ) -> None:
        desk = widget.desk
        token = await widget.visitor()
        await widget.write(token, "Hello")
        await desk.step()
        seen = await widget.read(token)
        ticket = await ticket_of(desk, 1)
        await agent_writes(desk, ticket, "Answer while you were away")
        await agent_writes(desk, ticket, "And one more")

        back = await widget.read(token, after=seen["cursor"])
        assert [m["text"] for m in back["messages"]] == [
            "Answer while you were away",
            "And one more",
        ]
        assert (await widget.read(token, after=back["cursor"]))["messages"] == []
        # A reload (cursor 0) shows the whole conversation again, each message once.
        everything = await widget.read(token)
        assert len(everything["messages"]) == len(seen["messages"]) + 2

    async def test_a_reader_following_concurrent_writes_misses_none_and_sees_none_twice(
        self, widget: WidgetClient
    ) -> None:
        """Messages posted at once (their transactions overlap on PostgreSQL) while a reader
        follows by cursor: every row is read, once, in seq order."""
        desk = widget.desk
        token = await widget.visitor()
        await widget.write(token, "first")
        await desk.step()
        seen: list[int] = []
        done = asyncio.Event()

        async def follow() -> None:
            cursor = 0
            while not (done.is_set() and cursor == await last()):
                page = await widget.read(token, after=cursor, wait=1)
                seen.extend(m["seq"] for m in page["messages"])
                cursor = page["cursor"]

        async def last() -> int:
            return int((await widget.read(token))["cursor"])

        reader = asyncio.create_task(follow())
        posts = [widget.write(token, f"part {i}", client_id=f"c{i}") for i in range(12)]
        results = await asyncio.gather(*posts, desk.step())
        await desk.step()
        done.set()
        await asyncio.wait_for(reader, 30)
        posted = {r["message"]["seq"] for r in results[:12]}
        assert len(posted) == 12
        assert posted <= set(seen)
        assert seen == list(range(1, len(seen) + 1))
        assert len(seen) == await last()

    async def test_a_file_from_the_agent_is_named_with_its_caption(
        self, widget: WidgetClient
    ) -> None:
        desk = widget.desk
        token = await widget.visitor()
        await widget.write(token, "Which form do I need?")
        await desk.step()
        ticket = await ticket_of(desk, 1)
        desk.emulator.user_sends_photo(
            desk.admin,
            caption="This one",
            chat_id=desk.group_id,
            thread_id=ticket.agent_thread_id,
        )
        await desk.step()
        last = (await widget.read(token))["messages"][-1]
        assert (last["sender"], last["text"]) == ("desk", "This one\n\n📎 photo")

    async def test_resolved_without_buttons_and_writing_again_reopens(
        self, widget: WidgetClient
    ) -> None:
        desk = widget.desk
        token = await widget.visitor(language="ru")
        await widget.write(token, "Не приходит письмо")
        await desk.step()
        ticket = await ticket_of(desk, 1)
        await agent_writes(desk, ticket, "/resolve")
        texts = [m["text"] for m in (await widget.read(token))["messages"]]
        assert texts[1].startswith("Ваше обращение зарегистрировано как заявка #1")
        assert texts[-1].startswith("Заявка #1 решена")
        assert "напишите сюда снова" in texts[-1]

        posted = await widget.write(token, "Всё ещё не приходит")
        await desk.step()
        assert posted["ticket"] == 1
        assert (await ticket_of(desk, 1)).is_active
        assert await desk.ticket(2) is None

    async def test_a_call_stored_twice_is_in_the_conversation_once(
        self, widget: WidgetClient
    ) -> None:
        """A crash between storing a text and marking its call sent sends the call again."""
        desk = widget.desk
        token = await widget.visitor()
        await widget.write(token, "Hello")
        await desk.step()
        before = await widget.read(token)
        async with desk.uow_factory() as uow:
            visitor = await uow.widget.by_token_hash(token_hash(token))
            assert visitor is not None
            await uow.outbox.add(widget_call(visitor.customer_id, "Stored once", None), now())
            await uow.commit()
        async with desk.uow_factory() as uow:
            call = await uow.outbox.next_in((Channel.WEB, visitor.customer_id))
        assert call is not None
        poster = desk.sender.posters[Channel.WEB]
        assert poster is not None
        for _ in range(2):
            outcome, _result = await poster.send(call, call.params)
            assert outcome.delivered
        after = await widget.read(token, after=before["cursor"])
        assert [m["text"] for m in after["messages"]] == ["Stored once"]


class TestRefusals:
    async def test_without_a_token_or_with_an_unknown_one_nothing_is_read(
        self, widget: WidgetClient
    ) -> None:
        for token in (None, "hdw_not-a-token", "something else"):
            status, body, _ = await widget.call("GET", "/messages", token=token)
            assert status == 401
            assert body["type"] == "urn:helpdesk:problem:unknown-visitor"

    async def test_another_visitors_token_cannot_read_the_conversation_or_ticket(
        self, widget: WidgetClient
    ) -> None:
        desk = widget.desk
        ann = await widget.visitor(name="Ann")
        await widget.write(ann, "My secret order 4711")
        await desk.step()
        await agent_writes(desk, await ticket_of(desk, 1), "Your order 4711 ships today")
        mallory = await widget.visitor(name="Mallory")

        theirs = await widget.read(mallory)
        assert theirs["messages"] == []
        status, body, _ = await widget.call("GET", "/tickets/1", token=mallory)
        assert status == 404
        assert body["type"] == "urn:helpdesk:problem:not-found"
        status, body, _ = await widget.call("GET", "/tickets/1", token=ann)
        assert (status, body["number"]) == (200, 1)

    async def test_a_too_long_or_empty_text_is_refused_and_nothing_is_stored(
        self, widget: WidgetClient
    ) -> None:
        token = await widget.visitor()
        for text, words in (("x" * (TEXT_MAX + 1), "at most 4000"), ("   ", "empty")):
            status, body, _ = await widget.call(
                "POST", "/messages", token=token, json={"text": text}
            )
            assert status == 422
            assert words in body["detail"]
        status, body, _ = await widget.call(
            "POST", "/messages", token=token, json={"text": "hi", "colour": "red"}
        )
        assert status == 422
        assert "colour" in body["detail"]
        assert (await widget.read(token))["messages"] == []
        assert await widget.desk.ticket(1) is None

    async def test_a_bad_contact_is_refused_with_the_reason(self, widget: WidgetClient) -> None:
        status, body, _ = await widget.call("POST", "/visitors", json={"email": "not-an-address"})
        assert status == 422
        assert "not an email address" in body["detail"]
        status, body, _ = await widget.call("POST", "/visitors", json={"name": "n" * 200})
        assert status == 422
        assert "at most 128" in body["detail"]

    async def test_too_many_messages_a_minute_are_refused_with_retry_after(
        self, tmp_path: Path, sqlite_url: str
    ) -> None:
        desk = await make_desk(tmp_path, database_url=sqlite_url)
        runner, base = await serve_widget(desk, rate_per_min=3)
        try:
            async with aiohttp.ClientSession() as http:
                client = WidgetClient(desk, base, http)
                token = await client.visitor()
                for i in range(3):
                    await client.write(token, f"message {i}")
                status, body, headers = await client.call(
                    "POST", "/messages", token=token, json={"text": "one too many"}
                )
                assert status == 429
                assert int(headers["Retry-After"]) > 0
                assert "at most 3 messages a minute" in body["detail"]
                texts = [m["text"] for m in (await client.read(token))["messages"]]
                assert "one too many" not in texts
        finally:
            await runner.cleanup()
            await desk.close()

    async def test_only_the_configured_sites_may_call_from_a_browser(
        self, widget: WidgetClient
    ) -> None:
        status, _body, headers = await widget.call(
            "POST", "/visitors", json={}, origin="https://evil.example"
        )
        assert status == 403
        assert "Access-Control-Allow-Origin" not in headers
        status, _, headers = await widget.call("OPTIONS", "/messages", origin=SITE)
        assert status == 204
        assert headers["Access-Control-Allow-Origin"] == SITE
        assert "Authorization" in headers["Access-Control-Allow-Headers"]
        token = await widget.visitor()
        _status, _body, headers = await widget.call("GET", "/messages", token=token)
        assert headers["Access-Control-Allow-Origin"] == SITE

    async def test_the_widget_files_are_served(self, widget: WidgetClient) -> None:
        root = widget.base.removesuffix("/v1")
        for name, kind in (("widget.js", "javascript"), ("widget.css", "css")):
            async with widget.http.get(f"{root}/{name}") as response:
                assert response.status == 200
                assert kind in response.content_type
