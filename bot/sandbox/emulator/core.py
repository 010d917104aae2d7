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
import functools
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Self

import aiohttp
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bot.sandbox.emulator.api_files import FilesApi
from bot.sandbox.emulator.dispatch import DispatchMixin
from bot.sandbox.emulator.faults import FaultsMixin
from bot.sandbox.emulator.state import ApiMethod, EmulatorState
from bot.sandbox.emulator.validation import ValidationMixin, _bool, _int, _json, _str
from bot.sandbox.emulator.waits import WaitsMixin
from bot.sandbox.emulator.world import (
    _SEND_METHODS,
    CHANNEL_BOT,
    CONTENT_KEYS,
    DEFAULT_TOKEN,
    FORUM_ICON_COLORS,
    GROUP_ANONYMOUS_BOT,
    ICON_COLOR_INVALID,
    MEDIA_GROUP_SIZE,
    MEDIA_KINDS,
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    TOPIC_NAME_INVALID,
    ApiError,
    CallbackState,
    ChatState,
    Fault,
    Topic,
    UploadedFile,
    _is_service,
    _strip_nested,
    bad_request,
)
from bot.sandbox.tg_html import utf16_len

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# The emoji a bot may react with (Bot API, ReactionTypeEmoji); anything else is REACTION_INVALID.
# fmt: off
REACTION_EMOJI = frozenset({
    "❤", "👍", "👎", "🔥", "🥰", "👏", "😁", "🤔", "🤯", "😱", "🤬", "😢", "🎉", "🤩", "🤮", "💩",
    "🙏", "👌", "🕊", "🤡", "🥱", "🥴", "😍", "🐳", "❤\u200d🔥", "🌚", "🌭", "💯", "🤣", "⚡",
    "🍌", "🏆", "💔", "🤨", "😐", "🍓", "🍾", "💋", "🖕", "😈", "😴", "😭", "🤓", "👻",
    "👨\u200d💻", "👀", "🎃", "🙈", "😇", "😨", "🤝", "✍", "🤗", "🫡", "🎅", "🎄", "☃", "💅",
    "🤪", "🗿", "🆒", "💘", "🙉", "🦄", "😘", "💊", "🙊", "😎", "👾", "🤷\u200d♂", "🤷",
    "🤷\u200d♀", "😡",
})
# fmt: on

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
    DispatchMixin, FaultsMixin, WaitsMixin, FilesApi, ValidationMixin, EmulatorState
):
    """A Telegram Bot API world with an optional HTTP front end."""

    def _api_methods(self) -> dict[str, ApiMethod]:
        return {
            **super()._api_methods(),
            "getme": self._get_me,
            "logout": self._ok,
            "close": self._ok,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "copymessage": self._copy_message,
            "copymessages": self._copy_messages,
            "forwardmessage": self._forward_message,
            "forwardmessages": self._forward_messages,
            **{
                name: functools.partial(self._send_media, kind=kind)
                for name, kind in _SEND_METHODS.items()
            },
            "sendlocation": self._send_location,
            "sendcontact": self._send_contact,
            "sendmediagroup": self._send_media_group,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "deletemessages": self._delete_messages,
            "answercallbackquery": self._answer_callback_query,
            "pinchatmessage": self._pin_chat_message,
            "unpinchatmessage": self._unpin_chat_message,
            "unpinallchatmessages": self._unpin_all_chat_messages,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_chat_administrators,
            "setmycommands": self._set_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getmycommands": self._get_my_commands,
            "sendchataction": self._send_chat_action,
            "setmessagereaction": self._set_message_reaction,
            "createforumtopic": self._create_forum_topic,
            "editforumtopic": self._edit_forum_topic,
            "closeforumtopic": self._close_forum_topic,
            "reopenforumtopic": self._reopen_forum_topic,
            "deleteforumtopic": self._delete_forum_topic,
        }

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

    def _prepare_send(
        self, params: Mapping[str, Any]
    ) -> tuple[ChatState, int | None, dict[str, Any] | None]:
        state = self._resolve_chat(params)
        self._check_can_write(state)
        thread_id = self._resolve_thread(state, params)
        reply, thread_id = self._resolve_reply(state, params, thread_id)
        return state, thread_id, reply

    def _bot_message(
        self, params: Mapping[str, Any], content: dict[str, Any], *, markup: bool = True
    ) -> dict[str, Any]:
        reply_markup = self._markup(params) if markup else None
        state, thread_id, reply = self._prepare_send(params)
        message = self._store_message(
            state, self.bot_user, content, thread_id, reply, reply_markup
        )
        return copy.deepcopy(message)

    def _editable(self, params: Mapping[str, Any]) -> tuple[ChatState, dict[str, Any]]:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the emulator")
        state = self._resolve_chat(params)
        self._check_can_write(state)
        message_id = _int(params, "message_id", required=True)
        assert message_id is not None
        message = state.live(message_id)
        if message is None:
            raise bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_id or _is_service(message):
            raise bad_request("message can't be edited")
        return state, message

    def _apply_edit(
        self,
        state: ChatState,
        message: dict[str, Any],
        changes: dict[str, Any | None],
    ) -> dict[str, Any]:
        current = {key: message.get(key) for key in changes}
        if current == changes:
            raise bad_request(NOT_MODIFIED)
        self._remember_version(state.id, message)
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = copy.deepcopy(value)
        if "reply_markup" in changes:
            if changes["reply_markup"] is None:
                self._sent_markup.pop((state.id, message["message_id"]), None)
            else:
                self._sent_markup[(state.id, message["message_id"])] = changes["reply_markup"]
        message["edit_date"] = self._now()
        return copy.deepcopy(message)

    def _inline_markup(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        markup = self._markup(params)
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")  # unverified
        return markup or None

    def _topic(self, params: Mapping[str, Any]) -> tuple[ChatState, Topic]:
        state = self._resolve_chat(params)
        self._check_can_write(state)
        if not state.is_forum:
            raise bad_request("the chat is not a forum")
        thread_id = _int(params, "message_thread_id", required=True)
        assert thread_id is not None
        topic = state.topics.get(thread_id)
        if topic is None:
            raise bad_request("TOPIC_ID_INVALID")
        if topic.creator_id != self.bot_id and not self._bot_right(state, "can_manage_topics"):
            raise bad_request("not enough rights to manage topics")  # unverified
        return state, topic

    def _ok(self, params: dict[str, Any]) -> bool:
        return True

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int(params, "offset")
        # telegram-bot-api clamps a given limit into 1..100; only a missing one means 100.
        limit = _int(params, "limit")
        limit = 100 if limit is None else min(100, max(1, limit))
        timeout = max(0, _int(params, "timeout") or 0)
        allowed = _json(params, "allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else None
        if offset:
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            else:
                self._updates = self._updates[offset:]
        # Telegram answers an older, still waiting getUpdates with 409 when a new one arrives.
        self._wake_poller("conflict")
        if not self._updates and timeout > 0 and not self._closing:
            waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._poll_waiter = waiter
            try:
                reason = await asyncio.wait_for(waiter, timeout)
            except TimeoutError:
                reason = "timeout"
            finally:
                if self._poll_waiter is waiter:
                    self._poll_waiter = None
            if reason == "conflict":
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
        batch = self._updates[:limit]
        for update in batch:
            self._delivery_counts[update["update_id"]] = (
                self._delivery_counts.get(update["update_id"], 0) + 1
            )
        return copy.deepcopy(batch)

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = _str(params, "url")
        if _bool(params, "drop_pending_updates"):
            self._updates.clear()
        allowed = _json(params, "allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else None
        if not url:
            self.webhook = None
            return True
        if not url.startswith("https://") and not (
            self.allow_http_webhooks and url.startswith("http://")
        ):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {
            "url": url,
            "max_connections": _int(params, "max_connections") or 40,
            "secret_token": _str(params, "secret_token"),
            "ip_address": _str(params, "ip_address"),
        }
        self._wake_poller("conflict")
        self._start_pusher()
        return True

    def _start_pusher(self) -> None:
        if self._pusher is None or self._pusher.done():
            self._push_wakeup = asyncio.Event()
            self._pusher = asyncio.get_running_loop().create_task(self._push_updates())

    async def _push_updates(self) -> None:
        """Deliver queued updates to the webhook one at a time, in order, as Telegram does:
        an update stays queued until the bot answers 2xx; failures are retried."""
        assert self._push_wakeup is not None
        async with aiohttp.ClientSession() as http:
            while self.webhook is not None and not self._closing:
                if not self._updates:
                    self._push_wakeup.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._push_wakeup.wait(), 0.5)
                    continue
                update = self._updates[0]
                hook = self.webhook
                headers = {}
                if hook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
                outcome: int | str
                try:
                    async with http.post(
                        hook["url"],
                        json=update,
                        headers=headers,
                        timeout=aiohttp.ClientTimeout(total=10),
                    ) as response:
                        outcome = response.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    outcome = type(exc).__name__
                self.webhook_attempts.append((update["update_id"], outcome))
                if isinstance(outcome, int) and 200 <= outcome < 300:
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                    uid = update["update_id"]
                    self._delivery_counts[uid] = self._delivery_counts.get(uid, 0) + 1
                else:
                    await asyncio.sleep(0.2)

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if _bool(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook.get("ip_address"):
                info["ip_address"] = self.webhook["ip_address"]
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._bot_message(params, self._text_content(params))

    def _send_media(self, params: dict[str, Any], *, kind: str) -> dict[str, Any]:
        meta: dict[str, Any] = {
            key: params[key]
            for key in ("width", "height", "duration", "length", "title", "performer", "emoji")
            if key in params and params[key] not in (None, "")
        }
        state = self._resolve_chat(params)
        self._check_can_write(state)
        record = self._input_file(kind, params.get(kind), params, meta)
        content = self._media_content(kind, record)
        if kind not in ("sticker", "video_note"):
            content.update(self._caption(params))
        if _bool(params, "has_spoiler"):
            content["has_media_spoiler"] = True
        return self._bot_message(params, content)

    def _send_location(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            latitude = float(params["latitude"])
            longitude = float(params["longitude"])
        except (KeyError, TypeError, ValueError):
            raise bad_request("wrong latitude or longitude specified") from None  # unverified
        return self._bot_message(
            params, {"location": {"latitude": latitude, "longitude": longitude}}
        )

    def _send_contact(self, params: dict[str, Any]) -> dict[str, Any]:
        phone = _str(params, "phone_number")
        first_name = _str(params, "first_name")
        if not phone:
            raise bad_request("phone_number is empty")  # unverified
        if not first_name:
            raise bad_request("first_name is empty")  # unverified
        contact: dict[str, Any] = {"phone_number": phone, "first_name": first_name}
        for key in ("last_name", "vcard"):
            if params.get(key):
                contact[key] = _str(params, key)
        return self._bot_message(params, {"contact": contact})

    def _send_media_group(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        media = _json(params, "media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise bad_request(MEDIA_GROUP_SIZE)
        state, thread_id, reply = self._prepare_send(params)
        contents = []
        for item in media:
            kind = item.get("type")
            if kind not in ("photo", "video", "document", "audio"):
                raise bad_request(
                    f"unsupported media type {kind!r} in a media group"
                )  # unverified
            record = self._input_file(kind, item.get("media"), params, {})
            content = self._media_content(kind, record)
            content.update(self._caption(item))
            contents.append(content)
        group_id = str(next(self._media_groups))
        sent = []
        for content in contents:
            content["media_group_id"] = group_id
            message = self._store_message(state, self.bot_user, content, thread_id, reply)
            sent.append(copy.deepcopy(message))
        return sent

    def _copy_source(self, params: Mapping[str, Any], message_id: int) -> dict[str, Any] | None:
        source_chat = self._resolve_chat(params, "from_chat_id")
        return source_chat.live(message_id)

    def _copied_content(
        self, source: Mapping[str, Any], params: Mapping[str, Any], *, remove_caption: bool
    ) -> dict[str, Any]:
        content = {k: copy.deepcopy(source[k]) for k in CONTENT_KEYS if k in source}
        has_media = any(kind in source for kind in MEDIA_KINDS)
        if has_media and params.get("caption") is not None:
            for key in ("caption", "caption_entities"):
                content.pop(key, None)
            content.update(self._caption(params))
        if remove_caption:
            content.pop("caption", None)
            content.pop("caption_entities", None)
        return content

    def _copy_message(self, params: dict[str, Any]) -> dict[str, int]:
        message_id = _int(params, "message_id", required=True)
        assert message_id is not None
        source = self._copy_source(params, message_id)
        if source is None:
            raise bad_request("message to copy not found")
        if _is_service(source):
            raise bad_request("message can't be copied")
        content = self._copied_content(source, params, remove_caption=False)
        message = self._bot_message(params, content)
        return {"message_id": message["message_id"]}

    def _copy_messages(self, params: dict[str, Any]) -> list[dict[str, int]]:
        return self._copy_many(params, forward=False)

    def _copy_many(self, params: dict[str, Any], *, forward: bool) -> list[dict[str, int]]:
        ids = _json(params, "message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must contain 1-100 identifiers")  # unverified
        state, thread_id, _ = self._prepare_send(params)
        source_chat = self._resolve_chat(params, "from_chat_id")
        remove_caption = _bool(params, "remove_caption")
        groups: dict[str, str] = {}
        result = []
        for message_id in sorted(int(i) for i in ids):
            source = source_chat.live(message_id)
            if source is None or _is_service(source):
                continue  # Bot API: messages that can't be found or copied are skipped.
            if forward:
                content = self._forwarded_content(source)
            else:
                content = self._copied_content(source, params, remove_caption=remove_caption)
            if "media_group_id" in source:
                group = source["media_group_id"]
                content["media_group_id"] = groups.setdefault(group, str(next(self._media_groups)))
            message = self._store_message(state, self.bot_user, content, thread_id, None)
            result.append({"message_id": message["message_id"]})
        return result

    def _forwarded_content(self, source: Mapping[str, Any]) -> dict[str, Any]:
        content = {k: copy.deepcopy(source[k]) for k in CONTENT_KEYS if k in source}
        content["forward_origin"] = copy.deepcopy(
            source.get("forward_origin")
            or {"type": "user", "date": source["date"], "sender_user": source["from"]}
        )
        return content

    def _forward_message(self, params: dict[str, Any]) -> dict[str, Any]:
        message_id = _int(params, "message_id", required=True)
        assert message_id is not None
        source = self._copy_source(params, message_id)
        if source is None:
            raise bad_request("message to forward not found")
        if _is_service(source):
            raise bad_request("message can't be forwarded")
        return self._bot_message(params, self._forwarded_content(source), markup=False)

    def _forward_messages(self, params: dict[str, Any]) -> list[dict[str, int]]:
        return self._copy_many(params, forward=True)

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        markup = self._inline_markup(params)
        state, message = self._editable(params)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        content = self._text_content(params, edit=True)
        changes = {
            "text": content["text"],
            "entities": content.get("entities"),
            "reply_markup": markup,
        }
        return self._apply_edit(state, message, changes)

    def _edit_message_caption(self, params: dict[str, Any]) -> dict[str, Any]:
        markup = self._inline_markup(params)
        state, message = self._editable(params)
        if not any(kind in message for kind in MEDIA_KINDS):
            raise bad_request("there is no caption in the message to edit")
        caption = self._caption(params)
        changes = {
            "caption": caption.get("caption"),
            "caption_entities": caption.get("caption_entities"),
            "reply_markup": markup,
        }
        return self._apply_edit(state, message, changes)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        markup = self._inline_markup(params)
        state, message = self._editable(params)
        return self._apply_edit(state, message, {"reply_markup": markup})

    def _delete_message(self, params: dict[str, Any]) -> bool:
        state = self._resolve_chat(params)
        message_id = _int(params, "message_id", required=True)
        assert message_id is not None
        message = state.live(message_id)
        if message is None:
            raise bad_request("message to delete not found")
        if "forum_topic_created" in message:
            raise bad_request("message can't be deleted")
        self._delete(state, message_id)
        return True

    def _delete(self, state: ChatState, message_id: int) -> None:
        state.deleted.add(message_id)
        if message_id in state.pinned:
            state.pinned.remove(message_id)

    def _delete_messages(self, params: dict[str, Any]) -> bool:
        state = self._resolve_chat(params)
        ids = _json(params, "message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must contain 1-100 identifiers")  # unverified
        for message_id in ids:
            message = state.live(int(message_id))
            if message is not None and "forum_topic_created" not in message:
                self._delete(state, int(message_id))
        return True

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = _str(params, "callback_query_id")
        text = _str(params, "text") or ""
        if len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        state = self.callbacks.get(query_id or "")
        if state is None or state.answered:
            raise bad_request(QUERY_TOO_OLD)
        state.answered = True
        state.answer = dict(params)
        return True

    def _create_forum_topic(self, params: dict[str, Any]) -> dict[str, Any]:
        state = self._resolve_chat(params)
        self._check_can_write(state)
        if not state.is_forum:
            raise bad_request("the chat is not a forum")
        if not self._bot_right(state, "can_manage_topics"):
            raise bad_request("not enough rights to create a topic")
        name = (_str(params, "name") or "").strip()
        if not 1 <= utf16_len(name) <= 128:  # Telegram counts UTF-16 code units
            raise bad_request(TOPIC_NAME_INVALID)
        icon_color = _int(params, "icon_color")
        if icon_color is None:
            icon_color = FORUM_ICON_COLORS[0]
        elif icon_color not in FORUM_ICON_COLORS:
            raise bad_request(ICON_COLOR_INVALID)
        emoji = _str(params, "icon_custom_emoji_id")
        created: dict[str, Any] = {"name": name, "icon_color": icon_color}
        if emoji:
            created["icon_custom_emoji_id"] = emoji
        # The thread id of a topic is the id of its forum_topic_created service message.
        thread_id = state.next_message_id
        self._service_message(state, {"forum_topic_created": created}, thread_id)
        topic = Topic(thread_id, name, icon_color, emoji or None, creator_id=self.bot_id)
        state.topics[thread_id] = topic
        return topic.as_object()

    def _edit_forum_topic(self, params: dict[str, Any]) -> bool:
        state, topic = self._topic(params)
        edited: dict[str, Any] = {}
        name = _str(params, "name")
        if name:
            if utf16_len(name) > 128:
                raise bad_request(TOPIC_NAME_INVALID)
            if name != topic.name:
                edited["name"] = name
        if "icon_custom_emoji_id" in params:
            emoji = _str(params, "icon_custom_emoji_id") or ""
            if emoji != (topic.icon_custom_emoji_id or ""):
                edited["icon_custom_emoji_id"] = emoji
        if not edited:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.name = edited.get("name", topic.name)
        if "icon_custom_emoji_id" in edited:
            topic.icon_custom_emoji_id = edited["icon_custom_emoji_id"] or None
        self._service_message(state, {"forum_topic_edited": edited}, topic.message_thread_id)
        return True

    def _close_forum_topic(self, params: dict[str, Any]) -> bool:
        return self._set_topic_closed(params, closed=True)

    def _reopen_forum_topic(self, params: dict[str, Any]) -> bool:
        return self._set_topic_closed(params, closed=False)

    def _set_topic_closed(self, params: dict[str, Any], *, closed: bool) -> bool:
        state, topic = self._topic(params)
        if topic.closed == closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = closed
        key = "forum_topic_closed" if closed else "forum_topic_reopened"
        self._service_message(state, {key: {}}, topic.message_thread_id)
        return True

    def _delete_forum_topic(self, params: dict[str, Any]) -> bool:
        state, topic = self._topic(params)
        if not self._bot_right(state, "can_delete_messages"):
            raise bad_request("not enough rights to delete the topic")  # unverified
        del state.topics[topic.message_thread_id]
        for message_id, message in state.messages.items():
            if message.get("message_thread_id") == topic.message_thread_id:
                self._delete(state, message_id)
        return True

    def _pin_chat_message(self, params: dict[str, Any]) -> bool:
        state = self._resolve_chat(params)
        self._check_can_write(state)
        if not state.is_private and not self._bot_right(state, "can_pin_messages"):
            raise bad_request("not enough rights to manage pinned messages in the chat")
        message_id = _int(params, "message_id", required=True)
        assert message_id is not None
        message = state.live(message_id)
        if message is None:
            raise bad_request("message to pin not found")
        if message_id in state.pinned:
            state.pinned.remove(message_id)
        state.pinned.append(message_id)
        thread_id = message.get("message_thread_id") if message.get("is_topic_message") else None
        self._service_message(state, {"pinned_message": _strip_nested(message)}, thread_id)
        return True

    def _unpin_chat_message(self, params: dict[str, Any]) -> bool:
        state = self._resolve_chat(params)
        self._check_can_write(state)
        message_id = _int(params, "message_id")
        if message_id is None:
            if state.pinned:
                state.pinned.pop()
            return True
        if message_id not in state.pinned:
            raise bad_request("message to unpin not found")
        state.pinned.remove(message_id)
        return True

    def _unpin_all_chat_messages(self, params: dict[str, Any]) -> bool:
        state = self._resolve_chat(params)
        self._check_can_write(state)
        state.pinned.clear()
        return True

    def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        state = self._resolve_chat(params)
        info: dict[str, Any] = {
            **copy.deepcopy(state.chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if state.pinned:
            pinned = state.live(state.pinned[-1])
            if pinned is not None:
                info["pinned_message"] = _strip_nested(pinned)
        return info

    def _get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        state = self._resolve_chat(params)
        user_id = _int(params, "user_id", required=True)
        assert user_id is not None
        member = state.members.get(user_id)
        if member is not None:
            return copy.deepcopy(member)
        if user_id != self.bot_id and user_id not in self._users:
            raise bad_request("user not found")
        return {"status": "left", "user": copy.deepcopy(self._user(user_id))}

    def _get_chat_administrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        state = self._resolve_chat(params)
        if state.is_private:
            raise bad_request("there are no administrators in the private chat")
        return [
            copy.deepcopy(m)
            for m in state.members.values()
            if m["status"] in ("creator", "administrator")
        ]

    def _commands_key(self, params: Mapping[str, Any]) -> tuple[str, str]:
        scope = _json(params, "scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), _str(params, "language_code") or ""

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = _json(params, "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 commands")  # unverified
        for command in commands:
            name = str(command.get("command", ""))
            if not (
                1 <= len(name) <= 32 and all(c.islower() or c.isdigit() or c == "_" for c in name)
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")  # unverified
        self.commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        state = self._resolve_chat(params)
        self._check_can_write(state)
        thread_id = self._resolve_thread(state, params)
        action = _str(params, "action")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append({"chat_id": state.id, "thread_id": thread_id, "action": action})
        return True

    def _set_message_reaction(self, params: dict[str, Any]) -> bool:
        state = self._resolve_chat(params)
        self._check_can_write(state)
        message_id = _int(params, "message_id", required=True)
        assert message_id is not None
        if state.live(message_id) is None:
            raise bad_request("MESSAGE_ID_INVALID")
        reaction = _json(params, "reaction") or []
        if not isinstance(reaction, list):
            raise bad_request('field "reaction" must be an Array')
        if len(reaction) > 1:  # a bot sets at most one reaction, like a non-premium user
            raise bad_request("REACTIONS_TOO_MANY")
        for item in reaction:
            if (
                not isinstance(item, dict)
                or item.get("type") != "emoji"
                or item.get("emoji") not in REACTION_EMOJI
            ):
                raise bad_request("REACTION_INVALID")
        self.reactions[(state.id, message_id)] = list(reaction)
        return True

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
