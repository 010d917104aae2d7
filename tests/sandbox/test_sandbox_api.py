"""The sandbox page's JSON API on an emulated world, with no bot: what people can do and see;
and how ``helpdesk sandbox`` prepares the bot's settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import aiosmtplib
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.mailbox import DESK_FROM, serve_smtp
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


class RecordingIntake:
    """The desk's mail intake as the pretend mailbox sees it: takes raw mails."""

    def __init__(self) -> None:
        self.taken: list[EmailMessage] = []

    async def take(self, raw: bytes) -> bool:
        mail = message_from_bytes(raw, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.taken.append(mail)
        return True


class TestMail:
    async def test_a_mail_written_in_the_page_reaches_the_desks_intake(
        self, client: TestClient[Any, Any], sandbox: Sandbox
    ) -> None:
        intake = RecordingIntake()
        sandbox.mailbox.attach(intake)
        before = sandbox.emulator.revision
        response = await client.post(
            "/sandbox/api/mail",
            json={"address": "ann@example.com", "subject": "Parcel", "text": "Where is it?"},
        )
        assert response.status == 200
        [taken] = intake.taken
        assert taken["From"] == "Ann Lee <ann@example.com>"
        assert taken["To"] == DESK_FROM
        assert taken["Subject"] == "Parcel"
        assert taken["Message-ID"].endswith("@example.com>")
        assert taken["In-Reply-To"] is None
        assert "Where is it?" in taken.get_body(("plain",)).get_content()
        world = await state(client, since=before, wait=0)
        assert world["revision"] > before  # the page hears of it
        [shown] = world["mail"]["mails"]
        assert (shown["address"], shown["incoming"]) == ("ann@example.com", False)
        assert shown["subject"] == "Parcel"

    async def test_the_desks_mails_arrive_over_smtp_and_an_answer_threads_to_them(
        self, client: TestClient[Any, Any], sandbox: Sandbox
    ) -> None:
        intake = RecordingIntake()
        sandbox.mailbox.attach(intake)
        server = await serve_smtp(sandbox.mailbox)
        try:
            port = server.sockets[0].getsockname()[1]
            desk_mail = EmailMessage()
            desk_mail["From"] = DESK_FROM
            desk_mail["To"] = "Ann Lee <ann@example.com>"
            desk_mail["Subject"] = "Re: [#1] Parcel"
            desk_mail["Message-ID"] = "<desk-1@example.com>"
            desk_mail["References"] = "<first@example.com>"
            desk_mail["Auto-Submitted"] = "auto-replied"
            desk_mail.set_content("Your request is registered as ticket #1.")
            await aiosmtplib.send(desk_mail, hostname="127.0.0.1", port=port)
        finally:
            server.close()
            await server.wait_closed()
        [received] = (await state(client))["mail"]["mails"]
        assert received["address"] == "ann@example.com"
        assert received["incoming"]
        assert received["auto"]
        assert received["text"] == "Your request is registered as ticket #1."

        answer = {"address": "ann@example.com", "subject": "Re: [#1] Parcel", "text": "Thanks"}
        response = await client.post(
            "/sandbox/api/mail", json={**answer, "answers": received["id"]}
        )
        assert response.status == 200
        [taken] = intake.taken
        assert taken["In-Reply-To"] == "<desk-1@example.com>"
        assert taken["References"] == "<first@example.com> <desk-1@example.com>"

    @pytest.mark.parametrize(
        ("body", "error"),
        [
            ({"address": "eve@example.com", "text": "hi"}, "not one of the pretend mailboxes"),
            ({"address": "ann@example.com", "subject": " ", "text": " "}, "the mail is empty"),
            ({"address": "ann@example.com", "text": "x" * 20_001}, "texts up to 20000"),
            (
                {"address": "ann@example.com", "text": "hi", "answers": 7},
                "no mail 7 from the desk",
            ),
            ({"address": "ann@example.com", "text": "hi", "answers": "x"}, "answers: expected"),
        ],
    )
    async def test_what_no_person_could_write_is_refused(
        self, client: TestClient[Any, Any], sandbox: Sandbox, body: dict[str, Any], error: str
    ) -> None:
        intake = RecordingIntake()
        sandbox.mailbox.attach(intake)
        response = await client.post("/sandbox/api/mail", json=body)
        assert response.status == 400
        assert error in (await response.json())["error"]
        assert intake.taken == []

    async def test_before_the_desk_is_up_a_mail_is_refused(
        self, client: TestClient[Any, Any]
    ) -> None:
        response = await client.post(
            "/sandbox/api/mail", json={"address": "ann@example.com", "text": "hi"}
        )
        assert response.status == 400
        assert "still starting" in (await response.json())["error"]


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
