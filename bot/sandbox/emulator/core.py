"""A Telegram Bot API emulator: the world the tests and ``helpdesk sandbox`` run the bot in.

``BotApiEmulator`` keeps a small, consistent world (users, chats, forum topics, messages,
files, pending updates) and answers Bot API methods over HTTP (``start()``) or in-process
(``handle()`` / ``process()``). Tests act as people through ``user_sends_*`` and friends, which
queue complete ``Update`` objects for the bot, and they can inject faults (429, 5xx, HTML
bodies, slow or dropped responses) that aiogram maps to its exceptions exactly as it does
for Telegram (see ``/work/shared/TELEGRAM.md`` §1.2).

Typical end-to-end use::

    async with BotApiEmulator() as emulator:
        alice = emulator.add_user("Alice")
        agents = emulator.add_supergroup("Agents")          # a forum, bot is admin
        ...start the bot with HELPDESK_TELEGRAM_API_URL=emulator.base_url...
        emulator.user_sends_text(alice, "/start")
        reply = await emulator.wait_for_message(alice["id"])

Run standalone with ``python -m bot.sandbox.emulator --port 8081 --token 123:ABC``.

Error descriptions follow Telegram's wording where it is known. Descriptions not verified
against Telegram are marked ``# unverified`` next to their constant.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Self

from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bot.sandbox.emulator.api_chats import ChatsApi
from bot.sandbox.emulator.api_edits import EditsApi
from bot.sandbox.emulator.api_files import FilesApi
from bot.sandbox.emulator.api_messages import MessagesApi
from bot.sandbox.emulator.api_topics import TopicsApi
from bot.sandbox.emulator.api_updates import UpdatesApi
from bot.sandbox.emulator.dispatch import DispatchMixin
from bot.sandbox.emulator.faults import FaultsMixin
from bot.sandbox.emulator.state import EmulatorState
from bot.sandbox.emulator.validation import ValidationMixin
from bot.sandbox.emulator.waits import WaitsMixin
from bot.sandbox.emulator.world import (
    CHANNEL_BOT,
    DEFAULT_TOKEN,
    GROUP_ANONYMOUS_BOT,
    MEDIA_KINDS,
    ApiError,
    CallbackState,
    Fault,
    UploadedFile,
    _strip_nested,
)
from bot.sandbox.tg_html import utf16_len

# Form-encoded values are all strings; these stay strings even when they look like JSON.
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "name",
        "title",
        "description",
        "short_description",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "emoji",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "icon_custom_emoji_id",
        "file_id",
        "action",
        "language_code",
        "business_connection_id",
        "message_effect_id",
        "performer",
        "inline_message_id",
        "ip_address",
        "custom_title",
        "address",
        "question",
        "payload",
        *MEDIA_KINDS,
        "thumbnail",
        "cover",
    }
)
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "entities",
        "caption_entities",
        "media",
        "allowed_updates",
        "commands",
        "scope",
        "reaction",
        "message_ids",
        "link_preview_options",
    }
)


def decode_form_value(key: str, value: Any) -> Any:
    """Turn one form field back into the JSON value the client meant.

    aiogram sends every field as a string: numbers as ``"42"``, booleans as ``"true"`` and
    objects as JSON text. Free-text fields stay strings whatever they look like.
    """
    if not isinstance(value, str) or key in _STRING_FIELDS:
        return value
    if key in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    stripped = value.strip()
    if stripped in ("true", "false", "null") or stripped[:1] in "-0123456789[{":
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


def decode_params(fields: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Decode form/query fields into typed params (see ``decode_form_value``)."""
    return {key: decode_form_value(key, value) for key, value in fields}


def _normalise_json_params(body: Mapping[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in body.items():
        if key in _JSON_FIELDS and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        params[key] = value
    return params


class BotApiEmulator(
    DispatchMixin,
    FaultsMixin,
    WaitsMixin,
    MessagesApi,
    TopicsApi,
    EditsApi,
    ChatsApi,
    UpdatesApi,
    FilesApi,
    ValidationMixin,
    EmulatorState,
):
    """A Telegram Bot API world with an optional HTTP front end."""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the API over HTTP; returns ``base_url``."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._http_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._http_file)
        app.router.add_get("/_emulator/state", self._http_state)
        app.router.add_post("/_emulator/{action}", self._http_control)
        # handler_cancellation: a client that gives up should end its long poll, as on Telegram.
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=0.5, handler_cancellation=True
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        self._runner = runner
        self._closing = False
        self._base_url = f"http://{bound_host}:{bound_port}"
        return self._base_url

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            msg = "the emulator is not serving HTTP; call start() first"
            raise RuntimeError(msg)
        return self._base_url

    def api_server(self) -> TelegramAPIServer:
        """A ``TelegramAPIServer`` pointing aiogram at this emulator."""
        return TelegramAPIServer.from_base(self.base_url)

    async def stop(self) -> None:
        self._closing = True
        self._wake_poller("closing")
        if self._pusher is not None:
            self._pusher.cancel()
            await asyncio.gather(self._pusher, return_exceptions=True)
            self._pusher = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._base_url = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def user_sends_text(
        self,
        user: dict[str, Any] | int,
        text: str,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: dict[str, Any] | int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Queue a text ``message`` update; ``/command`` gets its ``bot_command`` entity."""
        content: dict[str, Any] = {"text": text}
        found = entities if entities is not None else self._command_entities(text)
        if found:
            content["entities"] = found
        return self._user_message(user, content, chat_id, thread_id, reply_to)

    def user_sends_media(
        self,
        user: dict[str, Any] | int,
        kind: str,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: dict[str, Any] | int | None = None,
        content: bytes | None = None,
        media_group_id: str | None = None,
        **meta: Any,
    ) -> dict[str, Any]:
        """Queue a media ``message`` update of ``kind`` (one of ``MEDIA_KINDS``)."""
        if kind not in MEDIA_KINDS:
            msg = f"unknown media kind {kind!r}; expected one of {MEDIA_KINDS}"
            raise ValueError(msg)
        record = self._new_file(kind, content, meta)
        body = self._media_content(kind, record)
        if caption:
            if kind in ("sticker", "video_note"):
                msg = f"{kind} messages carry no caption"
                raise ValueError(msg)
            body["caption"] = caption
            entities = self._command_entities(caption)
            if entities:
                body["caption_entities"] = entities
        if media_group_id:
            body["media_group_id"] = media_group_id
        return self._user_message(user, body, chat_id, thread_id, reply_to)

    def user_sends_photo(self, user: dict[str, Any] | int, **kwargs: Any) -> dict[str, Any]:
        return self.user_sends_media(user, "photo", **kwargs)

    def user_sends_video(self, user: dict[str, Any] | int, **kwargs: Any) -> dict[str, Any]:
        return self.user_sends_media(user, "video", **kwargs)

    def user_sends_document(self, user: dict[str, Any] | int, **kwargs: Any) -> dict[str, Any]:
        return self.user_sends_media(user, "document", **kwargs)

    def user_sends_audio(self, user: dict[str, Any] | int, **kwargs: Any) -> dict[str, Any]:
        return self.user_sends_media(user, "audio", **kwargs)

    def user_sends_voice(self, user: dict[str, Any] | int, **kwargs: Any) -> dict[str, Any]:
        return self.user_sends_media(user, "voice", **kwargs)

    def user_sends_video_note(self, user: dict[str, Any] | int, **kwargs: Any) -> dict[str, Any]:
        return self.user_sends_media(user, "video_note", **kwargs)

    def user_sends_sticker(self, user: dict[str, Any] | int, **kwargs: Any) -> dict[str, Any]:
        return self.user_sends_media(user, "sticker", **kwargs)

    def user_sends_animation(self, user: dict[str, Any] | int, **kwargs: Any) -> dict[str, Any]:
        return self.user_sends_media(user, "animation", **kwargs)

    def user_sends_location(
        self,
        user: dict[str, Any] | int,
        latitude: float = 52.52,
        longitude: float = 13.405,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: dict[str, Any] | int | None = None,
    ) -> dict[str, Any]:
        content = {"location": {"latitude": latitude, "longitude": longitude}}
        return self._user_message(user, content, chat_id, thread_id, reply_to)

    def user_sends_contact(
        self,
        user: dict[str, Any] | int,
        phone_number: str = "+491701234567",
        first_name: str = "Contact",
        last_name: str | None = None,
        *,
        contact_user_id: int | None = None,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: dict[str, Any] | int | None = None,
    ) -> dict[str, Any]:
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name}
        if last_name:
            contact["last_name"] = last_name
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self._user_message(user, {"contact": contact}, chat_id, thread_id, reply_to)

    def user_sends_album(
        self,
        user: dict[str, Any] | int,
        items: Sequence[str | tuple[str, str | None] | Mapping[str, Any]],
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Queue one ``message`` update per item, all sharing a ``media_group_id``.

        Items are ``"photo"``, ``("photo", "caption")`` or ``{"type": "video", "caption": ...}``.
        """
        group_id = str(next(self._media_groups))
        sent = []
        for item in items:
            extra: dict[str, Any]
            if isinstance(item, str):
                kind, extra = item, {}
            elif isinstance(item, tuple):
                kind, extra = item[0], {"caption": item[1]}
            else:
                extra = dict(item)
                kind = str(extra.pop("type"))
            if kind not in ("photo", "video", "document", "audio"):
                msg = f"albums hold photo, video, document or audio, not {kind!r}"
                raise ValueError(msg)
            sent.append(
                self.user_sends_media(
                    user,
                    kind,
                    chat_id=chat_id,
                    thread_id=thread_id,
                    media_group_id=group_id,
                    **extra,
                )
            )
        return sent

    def user_edits(
        self,
        user: dict[str, Any] | int,
        chat_id: int,
        message_id: int,
        new_text_or_caption: str,
    ) -> dict[str, Any]:
        """The author edits a message; queues an ``edited_message`` update."""
        person = self._user(user)
        state = self._chat_state(chat_id)
        message = state.live(message_id)
        if message is None or message.get("from", {}).get("id") != person["id"]:
            msg = f"user {person['id']} has no message {message_id} in chat {chat_id} to edit"
            raise ValueError(msg)
        self._remember_version(state.id, message)
        key, entities_key = (
            ("text", "entities") if "text" in message else ("caption", "caption_entities")
        )
        message[key] = new_text_or_caption
        entities = self._command_entities(new_text_or_caption)
        if entities:
            message[entities_key] = entities
        else:
            message.pop(entities_key, None)
        message["edit_date"] = self._now()
        self._emit("edited_message", copy.deepcopy(message))
        return copy.deepcopy(message)

    def user_service_message(
        self,
        user: dict[str, Any] | int,
        chat_id: int,
        content: dict[str, Any],
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """Something ``user`` did in Telegram's interface that leaves a service message, e.g.
        ``{"forum_topic_closed": {}}``, or :meth:`pin_content` for a pin; queued as an update."""
        state = self._chat_state(chat_id)
        message = self._service_message(state, copy.deepcopy(content), thread_id)
        message["from"] = copy.deepcopy(self._user(user))
        self._emit("message", copy.deepcopy(message))
        return copy.deepcopy(message)

    def pin_content(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """The content of the service message a pin of ``message_id`` leaves."""
        pinned = self._chat_state(chat_id).live(message_id)
        if pinned is None:
            msg = f"no message {message_id} in chat {chat_id}"
            raise ValueError(msg)
        return {"pinned_message": _strip_nested(pinned)}

    def post_as_chat(
        self,
        chat_id: int,
        text: str,
        *,
        thread_id: int | None = None,
        channel: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A post in a chat's name: an anonymous admin's (the group itself) or, with
        ``channel``, a linked channel's. Telegram puts a placeholder bot into ``from`` and the
        chat into ``sender_chat``."""
        state = self._chat_state(chat_id)
        placeholder = CHANNEL_BOT if channel else GROUP_ANONYMOUS_BOT
        content = {"text": text, "sender_chat": copy.deepcopy(channel or state.chat)}
        message = self._store_message(state, placeholder, content, thread_id, None)
        self._emit("message", copy.deepcopy(message))
        return copy.deepcopy(message)

    def user_presses(
        self,
        user: dict[str, Any] | int,
        chat_id: int,
        message_id: int,
        callback_data: str,
        *,
        check_button: bool = True,
    ) -> dict[str, Any]:
        """Press an inline button of a bot message; queues a ``callback_query`` update.

        With ``check_button`` the message must show a button with this ``callback_data``.
        Whether the bot answered is in ``callback_answer(query["id"])``.
        """
        person = self._user(user)
        state = self._chat_state(chat_id)
        message = state.live(message_id)
        if message is None:
            msg = f"no message {message_id} in chat {chat_id}"
            raise ValueError(msg)
        if check_button:
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            datas = [b.get("callback_data") for row in rows for b in row]
            if callback_data not in datas:
                msg = f"message {message_id} has no button with callback_data {callback_data!r}"
                raise ValueError(f"{msg}; buttons: {datas}")
        query_id = str(next(self._query_ids))
        query: dict[str, Any] = {
            "id": query_id,
            "from": copy.deepcopy(person),
            "message": copy.deepcopy(message),
            "chat_instance": self._chat_instance(chat_id),
            "data": callback_data,
        }
        self.callbacks[query_id] = CallbackState(query=query)
        self._emit("callback_query", copy.deepcopy(query))
        return copy.deepcopy(query)

    def user_reacts(
        self, user: dict[str, Any] | int, chat_id: int, message_id: int, emoji: str = "👍"
    ) -> dict[str, Any]:
        """Queue a ``message_reaction`` update (only delivered when allowed_updates asks)."""
        person = self._user(user)
        state = self._chat_state(chat_id)
        if state.live(message_id) is None:
            msg = f"no message {message_id} in chat {chat_id}"
            raise ValueError(msg)
        reaction = {
            "chat": copy.deepcopy(state.chat),
            "message_id": message_id,
            "user": copy.deepcopy(person),
            "date": self._now(),
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": emoji}],
        }
        return self._emit("message_reaction", reaction)

    def _chat_instance(self, chat_id: int) -> str:
        digest = hashlib.sha256(f"{self.bot_id}:{chat_id}".encode()).hexdigest()
        return str(int(digest[:15], 16))

    @staticmethod
    def _command_entities(text: str) -> list[dict[str, Any]]:
        if not text.startswith("/") or len(text) < 2:
            return []
        command = text.split(maxsplit=1)[0]
        return [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]

    def _user_message(
        self,
        user: dict[str, Any] | int,
        content: dict[str, Any],
        chat_id: int | None,
        thread_id: int | None,
        reply_to: dict[str, Any] | int | None,
    ) -> dict[str, Any]:
        person = self._user(user)
        state = self._chat_state(person["id"] if chat_id is None else chat_id)
        if state.is_private:
            if state.id != person["id"]:
                msg = f"user {person['id']} cannot write in the private chat of {state.id}"
                raise ValueError(msg)
            user_state = self._users[person["id"]]
            if user_state.blocked:
                # Writing to a blocked bot restarts it in Telegram clients.
                self.unblock_bot(person)
            user_state.started = True
        elif person["id"] not in state.members:
            state.members[person["id"]] = {"status": "member", "user": copy.deepcopy(person)}
        reply = None
        if reply_to is not None:
            reply_id = reply_to["message_id"] if isinstance(reply_to, Mapping) else int(reply_to)
            reply = state.live(reply_id)
            if reply is None:
                msg = f"no message {reply_id} to reply to in chat {state.id}"
                raise ValueError(msg)
            if thread_id is None and reply.get("is_topic_message"):
                thread_id = reply.get("message_thread_id")
        if thread_id is not None and (not state.is_forum or thread_id not in state.topics):
            msg = f"chat {state.id} has no forum topic {thread_id}"
            raise ValueError(msg)
        message = self._store_message(state, person, content, thread_id, reply)
        self._emit("message", copy.deepcopy(message))
        return copy.deepcopy(message)

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params = decode_params(request.query.items())
        if request.method != "POST" or not request.body_exists:
            return params
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(_normalise_json_params(body))
            return params
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
            else:
                params[key] = decode_form_value(key, value)
        return params

    async def _http_api(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        method = request.match_info["method"]
        params = await self._read_params(request)
        outcome = await self.process(method, params, token=token, transport="http")
        if outcome.delay:
            await asyncio.sleep(outcome.delay)
        if outcome.drop:
            if request.transport is not None:
                request.transport.close()
            # The connection is gone: this response is never written.
            return web.Response(status=500)
        return web.Response(
            status=outcome.status,
            text=outcome.body(),
            content_type=outcome.content_type,
        )

    async def _http_file(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if self.token is not None and token != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        content = self.file_by_path(request.match_info["path"])
        if content is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(body=content, content_type="application/octet-stream")

    _CONTROL_ACTIONS = frozenset(
        {
            "add_user",
            "add_supergroup",
            "add_member",
            "user_sends_text",
            "user_sends_media",
            "user_sends_location",
            "user_sends_contact",
            "user_sends_album",
            "user_edits",
            "user_presses",
            "user_reacts",
            "block_bot",
            "unblock_bot",
            "inject_fault",
            "clear_faults",
            "set_rate_limits",
            "clear_rate_limits",
        }
    )

    async def _http_control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in self._CONTROL_ACTIONS:
            return web.json_response({"ok": False, "description": f"unknown {action}"}, status=404)
        kwargs = await request.json() if request.body_exists else {}
        try:
            result = getattr(self, action)(**kwargs)
        except (KeyError, TypeError, ValueError) as error:
            return web.json_response({"ok": False, "description": str(error)}, status=400)
        if isinstance(result, Fault):
            result = {"kind": result.kind, "method": result.method, "times": result.times}
        return web.json_response({"ok": True, "result": result})

    async def _http_state(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot())

    def snapshot(self) -> dict[str, Any]:
        """The world as JSON: users, chats with topics and messages, pending updates, calls."""
        return {
            "bot": self.bot_user,
            "users": [
                {**s.user, "blocked": s.blocked, "started": s.started}
                for s in self._users.values()
            ],
            "chats": [
                {
                    "chat": s.chat,
                    "topics": self.topics(s.id),
                    "messages": self.messages_in(s.id, include_service=True),
                    "pinned": s.pinned,
                }
                for s in self._chats.values()
            ],
            "pending_updates": self._updates,
            "calls": [c.describe() for c in self.calls[-200:]],
        }


async def _serve_forever(args: argparse.Namespace) -> None:
    emulator = BotApiEmulator(args.token, bot_username=args.bot_username)
    if args.demo:
        customer = emulator.add_user("Alice", "alice")
        group = emulator.add_supergroup("Agents")
        sys.stdout.write(f"demo: customer id {customer['id']}, agents chat id {group['id']}\n")
    url = await emulator.start(args.host, args.port)
    sys.stdout.write(
        f"Bot API emulator on {url} (token {args.token}); state at {url}/_emulator/state\n"
    )
    sys.stdout.flush()
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Telegram Bot API emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--bot-username", default="helpdesk_test_bot")
    parser.add_argument("--demo", action="store_true", help="create a customer and agents group")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(args))


if __name__ == "__main__":
    main()
