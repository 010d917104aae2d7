"""The sandbox page's JSON API on an emulated world, with no bot: what people can do and see;
and how ``helpdesk sandbox`` prepares the bot's settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.runner import SANDBOX_TOKEN, build_world, sandbox_settings
from bot.sandbox.view import Persona
from bot.sandbox.web import Sandbox, make_app
from tests.support.cli import clean_env, helpdesk
from tests.support.images import tiny_png


@pytest.fixture
def sandbox() -> Sandbox:
    return build_world(BotApiEmulator(SANDBOX_TOKEN))


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(make_app(sandbox))) as client:
        yield client
    assert not sandbox.emulator.internal_errors


def person(sandbox: Sandbox, role: str) -> Persona:
    return next(p for p in sandbox.people if p.role == role)


async def state(client: TestClient[Any, Any], **query: Any) -> dict[str, Any]:
    response = await client.get("/sandbox/api/state", params=query)
    assert response.status == 200
    return dict(await response.json())


async def bot_says(sandbox: Sandbox, method: str, **params: Any) -> dict[str, Any]:
    answer = await sandbox.emulator.handle(method, params)
    assert answer["ok"], answer
    return dict(answer["result"]) if isinstance(answer["result"], dict) else answer


class TestTheWorld:
    async def test_lists_the_people_the_general_topic_and_every_private_chat(
        self, client: TestClient[Any, Any], sandbox: Sandbox
    ) -> None:
        world = await state(client)
        assert [p["role"] for p in world["people"]] == ["customer", "customer", "admin", "agent"]
        assert world["group"]["topics"] == [
            {"thread_id": None, "name": "General", "color": None, "closed": False}
        ]
        assert set(world["private"]) == {str(p.id) for p in sandbox.people}

    async def test_the_bots_html_arrives_as_text_with_entities_and_edits_are_marked(
        self, client: TestClient[Any, Any], sandbox: Sandbox
    ) -> None:
        topic = await bot_says(
            sandbox, "createForumTopic", chat_id=sandbox.group_id, name="#1 · billing"
        )
        thread = topic["message_thread_id"]
        markup = {"inline_keyboard": [[{"text": "Claim", "callback_data": "t1:cl:1:"}]]}
        card = await bot_says(
            sandbox,
            "sendMessage",
            chat_id=sandbox.group_id,
            message_thread_id=thread,
            text="<b>#1</b> &lt;script&gt;",
            parse_mode="HTML",
            reply_markup=markup,
        )
        await bot_says(
            sandbox,
            "editMessageText",
            chat_id=sandbox.group_id,
            message_id=card["message_id"],
            text="<b>#1</b> claimed",
            parse_mode="HTML",
            reply_markup=markup,
        )

        world = await state(client)
        assert [t["name"] for t in world["group"]["topics"]] == ["General", "#1 · billing"]
        shown = next(m for m in world["group"]["messages"] if m["id"] == card["message_id"])
        assert shown["text"] == "#1 claimed"
        assert shown["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
        assert shown["edited"] is True
        assert shown["thread_id"] == thread
        assert shown["buttons"] == [[{"text": "Claim", "data": "t1:cl:1:"}]]
        assert shown["from"]["bot"] is True


class TestLongPolling:
    async def test_answers_as_soon_as_something_changes(
        self, client: TestClient[Any, Any], sandbox: Sandbox
    ) -> None:
        revision = (await state(client))["revision"]
        loop = asyncio.get_running_loop()
        started = loop.time()
        ann = person(sandbox, "customer")
        loop.call_later(0.2, sandbox.emulator.user_sends_text, ann.user, "hello")

        world = await state(client, since=revision, wait=10)

        assert world["revision"] > revision
        assert loop.time() - started < 5
        assert world["private"][str(ann.id)]["messages"][0]["text"] == "hello"

    async def test_gives_up_after_the_wait_with_the_same_revision(
        self, client: TestClient[Any, Any]
    ) -> None:
        revision = (await state(client))["revision"]
        assert (await state(client, since=revision, wait=0.2))["revision"] == revision


class TestActing:
    async def test_a_customer_message_becomes_an_update_for_the_bot(
        self, client: TestClient[Any, Any], sandbox: Sandbox
    ) -> None:
        ann = person(sandbox, "customer")
        response = await client.post(
            "/sandbox/api/send", json={"user_id": ann.id, "chat_id": ann.id, "text": "/start"}
        )
        assert response.status == 200
        [update] = sandbox.emulator.pending_updates()
        assert update["message"]["text"] == "/start"
        assert update["message"]["from"]["id"] == ann.id
        assert update["message"]["entities"][0]["type"] == "bot_command"

    async def test_an_agent_writes_in_a_topic_replying_to_a_message(
        self, client: TestClient[Any, Any], sandbox: Sandbox
    ) -> None:
        topic = await bot_says(sandbox, "createForumTopic", chat_id=sandbox.group_id, name="#2")
        thread = topic["message_thread_id"]
        copy = await bot_says(
            sandbox, "sendMessage", chat_id=sandbox.group_id, message_thread_id=thread, text="hi"
        )
        bob = person(sandbox, "agent")
        response = await client.post(
            "/sandbox/api/send",
            json={
                "user_id": bob.id,
                "chat_id": sandbox.group_id,
                "thread_id": thread,
                "text": "// a note",
                "reply_to": copy["message_id"],
            },
        )
        assert response.status == 200
        [update] = sandbox.emulator.pending_updates()
        assert update["message"]["message_thread_id"] == thread
        assert update["message"]["reply_to_message"]["message_id"] == copy["message_id"]

    @pytest.mark.parametrize(
        ("who", "where", "text", "error"),
        [
            ("customer", "group", "hi", "not a member of the agents' group"),
            ("customer", "other", "hi", "cannot write in chat"),
            ("nobody", "own", "hi", "unknown person"),
            ("customer", "own", "   ", "empty"),
        ],
    )
    async def test_what_no_person_could_do_is_refused(
        self,
        client: TestClient[Any, Any],
        sandbox: Sandbox,
        who: str,
        where: str,
        text: str,
        error: str,
    ) -> None:
        ann = person(sandbox, "customer")
        user_id = ann.id if who == "customer" else 42
        chat_id = {"group": sandbox.group_id, "other": person(sandbox, "agent").id}.get(
            where, user_id
        )
        response = await client.post(
            "/sandbox/api/send", json={"user_id": user_id, "chat_id": chat_id, "text": text}
        )
        assert response.status == 400
        assert error in (await response.json())["error"]
        assert sandbox.emulator.pending_updates() == []

    async def test_pressing_a_button_queues_a_callback_query(
        self, client: TestClient[Any, Any], sandbox: Sandbox
    ) -> None:
        ann = person(sandbox, "customer")
        markup = {"inline_keyboard": [[{"text": "⭐⭐⭐⭐⭐", "callback_data": "r1:5"}]]}
        rating = await bot_says(
            sandbox, "sendMessage", chat_id=ann.id, text="Rate us", reply_markup=markup
        )
        press = {"user_id": ann.id, "chat_id": ann.id, "message_id": rating["message_id"]}

        missing = await client.post("/sandbox/api/press", json={**press, "data": "r1:9"})
        assert missing.status == 400
        pressed = await client.post("/sandbox/api/press", json={**press, "data": "r1:5"})
        assert pressed.status == 200

        [update] = sandbox.emulator.pending_updates()
        assert update["callback_query"]["data"] == "r1:5"
        query_id = update["callback_query"]["id"]
        await bot_says(sandbox, "answerCallbackQuery", callback_query_id=query_id, text="Thanks!")
        assert (await state(client))["notices"] == [
            {"id": query_id, "user_id": ann.id, "text": "Thanks!", "alert": False}
        ]


class TestFiles:
    async def upload(
        self,
        client: TestClient[Any, Any],
        persona: Persona,
        name: str,
        content: bytes,
        content_type: str,
    ) -> dict[str, Any]:
        form = aiohttp.FormData()
        form.add_field("user_id", str(persona.id))
        form.add_field("chat_id", str(persona.id))
        form.add_field("caption", "look")
        form.add_field("file", content, filename=name, content_type=content_type)
        response = await client.post("/sandbox/api/upload", data=form)
        assert response.status == 200, await response.text()
        return dict(await response.json())

    async def test_an_image_is_a_photo_shown_inline(
        self, client: TestClient[Any, Any], sandbox: Sandbox
    ) -> None:
        ann = person(sandbox, "customer")
        assert (await self.upload(client, ann, "a.png", tiny_png(), "image/png"))["kind"] == (
            "photo"
        )
        [message] = (await state(client))["private"][str(ann.id)]["messages"]
        assert message["text"] == "look"
        assert message["media"]["image"] is True
        served = await client.get(f"/sandbox/api/file/{message['media']['file_id']}")
        assert served.content_type == "image/png"
        assert await served.read() == tiny_png()

    async def test_another_file_is_a_document_served_only_as_a_download(
        self, client: TestClient[Any, Any], sandbox: Sandbox
    ) -> None:
        ann = person(sandbox, "customer")
        page = b"<script>alert(1)</script>"
        assert (await self.upload(client, ann, "x.html", page, "text/html"))["kind"] == (
            "document"
        )
        [message] = (await state(client))["private"][str(ann.id)]["messages"]
        assert message["media"]["name"] == "x.html"
        assert message["media"]["image"] is False
        served = await client.get(f"/sandbox/api/file/{message['media']['file_id']}")
        assert served.content_type == "application/octet-stream"
        assert served.headers["Content-Disposition"].startswith("attachment")
        assert (await client.get("/sandbox/api/file/nope")).status == 404


class TestStarting:
    def test_the_bot_gets_its_own_database_and_token_whatever_the_environment(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HELPDESK_DATABASE_URL", "postgresql+asyncpg://prod/desk")
        monkeypatch.setenv("HELPDESK_BOT_TOKEN", "123:a-real-token-from-botfather")
        monkeypatch.setenv("HELPDESK_DEFAULT_LANGUAGE", "ru")
        settings = sandbox_settings(tmp_path)
        assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/helpdesk.db"
        assert settings.bot_token is not None
        assert settings.bot_token.get_secret_value() == SANDBOX_TOKEN
        assert settings.default_language == "ru"  # other settings still apply

    def test_a_data_dir_with_a_database_from_an_earlier_run_is_refused(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "helpdesk.db").write_bytes(b"")
        result = helpdesk(
            "sandbox", "--no-browser", "--data-dir", str(tmp_path), env=clean_env(), cwd=tmp_path
        )
        assert result.returncode == 2
        assert "already holds a sandbox database" in result.stderr


class TestOnlyThisMachinesPage:
    async def test_a_post_from_another_origin_is_refused(
        self, client: TestClient[Any, Any], sandbox: Sandbox
    ) -> None:
        ann = person(sandbox, "customer")
        body = {"user_id": ann.id, "chat_id": ann.id, "text": "hi"}
        refused = await client.post(
            "/sandbox/api/send", json=body, headers={"Origin": "https://evil.example"}
        )
        assert refused.status == 403
        own = f"http://{client.server.host}:{client.server.port}"
        accepted = await client.post("/sandbox/api/send", json=body, headers={"Origin": own})
        assert accepted.status == 200
        assert len(sandbox.emulator.pending_updates()) == 1

    async def test_a_foreign_host_name_is_refused(self, client: TestClient[Any, Any]) -> None:
        response = await client.get("/sandbox/api/state", headers={"Host": "rebind.example:80"})
        assert response.status == 403
