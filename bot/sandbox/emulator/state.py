"""The world's state (``EmulatorState``): people, chats, messages, pending updates, ids."""

from __future__ import annotations

import asyncio
import copy
import itertools
import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from aiogram.types import Update
from aiohttp import web

from bot.sandbox.emulator.world import (
    DEFAULT_EXCLUDED_UPDATES,
    DEFAULT_TOKEN,
    CallbackState,
    ChatState,
    Fault,
    FileRecord,
    RateLimits,
    RecordedCall,
    _strip_nested,
    _UserState,
)

#: A Bot API method: takes the call's params, returns its result (or a coroutine).
ApiMethod = Callable[[dict[str, Any]], Any]


class EmulatorState:
    """The world and what every part of the emulator shares: who exists, which chats
    and messages, which updates wait; the ids and the changes a person could see.

    The other parts are mixins on top of it (one per module); ``BotApiEmulator`` puts them
    together and names the Bot API methods in ``_api_methods()``.
    """

    def __init__(
        self,
        token: str | None = DEFAULT_TOKEN,
        *,
        bot_username: str = "helpdesk_test_bot",
        bot_first_name: str = "Help Desk",
        bot_id: int | None = None,
        validate_updates: bool = True,
        first_update_id: int = 1000,
    ) -> None:
        """Create an empty world.

        ``token=None`` accepts any token in URLs. The bot id defaults to the token's numeric
        prefix, which is what aiogram's ``Bot.id`` reports too. ``validate_updates`` parses
        every emitted update with aiogram so that a malformed one fails the test at once.
        """
        if bot_id is None:
            prefix = (token or DEFAULT_TOKEN).split(":", 1)[0]
            bot_id = int(prefix) if prefix.isdigit() else 123456789
        self.token = token
        self.validate_updates = validate_updates
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.calls: list[RecordedCall] = []
        self.internal_errors: list[str] = []
        self.emitted_updates: list[dict[str, Any]] = []
        self.discarded_updates: list[dict[str, Any]] = []
        self.served_429 = 0
        self.webhook: dict[str, Any] | None = None
        #: Accept http:// webhook URLs (a local bot in tests); Telegram insists on https.
        self.allow_http_webhooks = False
        #: Webhook requests made: (update_id, HTTP status or an error name).
        self.webhook_attempts: list[tuple[int, int | str]] = []
        self._pusher: asyncio.Task[None] | None = None
        self._push_wakeup: asyncio.Event | None = None
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.chat_actions: list[dict[str, Any]] = []
        self.reactions: dict[tuple[int, int], list[dict[str, Any]]] = {}
        self.callbacks: dict[str, CallbackState] = {}
        self.files: dict[str, FileRecord] = {}

        self._users: dict[int, _UserState] = {}
        self._chats: dict[int, ChatState] = {}
        self._history: dict[tuple[int, int], list[dict[str, Any]]] = {}
        self._sent_markup: dict[tuple[int, int], dict[str, Any]] = {}
        self._photo_groups: dict[str, list[str]] = {}
        self._files_by_path: dict[str, FileRecord] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = first_update_id
        self._delivery_counts: dict[int, int] = {}
        self._allowed_updates: frozenset[str] | None = None
        self._poll_waiter: asyncio.Future[str] | None = None
        self._closing = False
        #: Grows with every change a person could see (messages, edits, topics, answers).
        self.revision = 0
        self._change_waiters: list[asyncio.Future[None]] = []

        self._faults: list[Fault] = []
        self._random_faults: dict[str, Any] | None = None
        self._rng = random.Random(0)
        self._rate_limits: RateLimits | None = None
        self._rate_log: deque[tuple[float, int | None]] = deque()

        self._user_ids = itertools.count(5_000_000_001)
        self._group_ids = itertools.count(1_000_000_001)
        self._file_counter = itertools.count(1)
        self._media_groups = itertools.count(13_500_000_000_000_001)
        self._query_ids = itertools.count(4_382_000_000_000_001)

        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

        self._methods: dict[str, ApiMethod] = self._api_methods()

    def add_user(
        self,
        first_name: str,
        username: str | None = None,
        language_code: str | None = "en",
        last_name: str | None = None,
        *,
        user_id: int | None = None,
        is_premium: bool = False,
        started: bool = True,
    ) -> dict[str, Any]:
        """Create a person and their private chat with the bot; returns the ``User`` object.

        ``started=False`` models someone who never pressed Start: the bot gets 403
        "bot can't initiate conversation with a user" until they write to it.
        """
        uid = user_id if user_id is not None else next(self._user_ids)
        user: dict[str, Any] = {"id": uid, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        if is_premium:
            user["is_premium"] = True
        self._users[uid] = _UserState(user=user, started=started)
        chat: dict[str, Any] = {"id": uid, "type": "private", "first_name": first_name}
        if last_name:
            chat["last_name"] = last_name
        if username:
            chat["username"] = username
        state = ChatState(chat=chat)
        state.members[uid] = {"status": "member", "user": copy.deepcopy(user)}
        state.members[self.bot_id] = {"status": "member", "user": copy.deepcopy(self.bot_user)}
        self._chats[uid] = state
        return copy.deepcopy(user)

    def add_supergroup(
        self,
        title: str,
        is_forum: bool = True,
        bot_can_manage_topics: bool = True,
        *,
        chat_id: int | None = None,
        username: str | None = None,
        bot_is_admin: bool = True,
        owner: dict[str, Any] | int | None = None,
    ) -> dict[str, Any]:
        """Create a supergroup (a forum by default) with the bot in it; returns the ``Chat``."""
        cid = chat_id if chat_id is not None else -(10**12 + next(self._group_ids))
        chat: dict[str, Any] = {"id": cid, "type": "supergroup", "title": title}
        if username:
            chat["username"] = username
        if is_forum:
            chat["is_forum"] = True
        # Message 1 of a real supergroup predates the bot; thread id 1 is the General topic.
        state = ChatState(chat=chat, next_message_id=2)
        if bot_is_admin:
            state.members[self.bot_id] = self._admin_member(
                self.bot_user, can_manage_topics=bot_can_manage_topics
            )
        else:
            state.members[self.bot_id] = {"status": "member", "user": copy.deepcopy(self.bot_user)}
        if owner is not None:
            owner_user = self._user(owner)
            state.members[owner_user["id"]] = {
                "status": "creator",
                "user": copy.deepcopy(owner_user),
                "is_anonymous": False,
            }
        self._chats[cid] = state
        return copy.deepcopy(chat)

    def add_member(
        self, chat_id: int, user: dict[str, Any] | int, status: str = "member", **rights: bool
    ) -> None:
        """Put ``user`` into a group as "member", "administrator" (``rights``) or "creator"."""
        state = self._chat_state(chat_id)
        person = self._user(user)
        if status == "administrator":
            state.members[person["id"]] = self._admin_member(person, **rights)
        elif status == "creator":
            state.members[person["id"]] = {
                "status": "creator",
                "user": copy.deepcopy(person),
                "is_anonymous": False,
            }
        else:
            state.members[person["id"]] = {"status": status, "user": copy.deepcopy(person)}

    def set_bot_rights(self, chat_id: int, **rights: bool) -> None:
        """Change the bot's admin rights in a group (makes it an administrator)."""
        state = self._chat_state(chat_id)
        current = state.members.get(self.bot_id, {})
        merged = {k: v for k, v in current.items() if k.startswith("can_")} | rights
        state.members[self.bot_id] = self._admin_member(self.bot_user, **merged)

    def kick_bot(self, chat_id: int) -> None:
        """Remove the bot from a group: further calls there get 403."""
        state = self._chat_state(chat_id)
        state.members[self.bot_id] = {
            "status": "kicked",
            "user": copy.deepcopy(self.bot_user),
            "until_date": 0,
        }

    def block_bot(self, user: dict[str, Any] | int) -> dict[str, Any] | None:
        """The user blocks the bot; Telegram tells the bot with a ``my_chat_member`` update.

        Returns that update, or None if the bot was already blocked.
        """
        state = self._users[self._user(user)["id"]]
        if state.blocked:
            return None
        state.blocked = True
        return self._emit_my_chat_member(state.user, "member", "kicked")

    def unblock_bot(self, user: dict[str, Any] | int) -> dict[str, Any] | None:
        """The user unblocks (restarts) the bot; emits ``my_chat_member`` back to member."""
        state = self._users[self._user(user)["id"]]
        state.started = True
        if not state.blocked:
            return None
        state.blocked = False
        return self._emit_my_chat_member(state.user, "kicked", "member")

    def deactivate_user(self, user: dict[str, Any] | int) -> None:
        """The account is deleted: the bot gets 403 "user is deactivated"."""
        self._users[self._user(user)["id"]].deactivated = True

    @property
    def bot_id(self) -> int:
        return int(self.bot_user["id"])

    def touch(self) -> None:
        """Something the sandbox page shows besides Telegram changed (its pretend mailbox): a
        new revision, so the page's long polls answer."""
        self._changed()

    def _changed(self) -> None:
        self.revision += 1
        waiters, self._change_waiters = self._change_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _now(self) -> int:
        return int(time.time())

    def _user(self, user: dict[str, Any] | int) -> dict[str, Any]:
        uid = user["id"] if isinstance(user, Mapping) else int(user)
        if uid == self.bot_id:
            return self.bot_user
        if uid not in self._users:
            msg = f"unknown user {uid}; create it with add_user()"
            raise KeyError(msg)
        return self._users[uid].user

    def _chat_state(self, chat_id: int) -> ChatState:
        if chat_id not in self._chats:
            msg = f"unknown chat {chat_id}"
            raise KeyError(msg)
        return self._chats[chat_id]

    def _admin_member(self, user: Mapping[str, Any], **rights: bool) -> dict[str, Any]:
        member: dict[str, Any] = {
            "status": "administrator",
            "user": copy.deepcopy(dict(user)),
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": True,
            "can_edit_stories": True,
            "can_delete_stories": True,
            "can_send_welcome_messages": True,
            "can_pin_messages": True,
            "can_manage_topics": True,
        }
        member.update(rights)
        return member

    def _bot_right(self, state: ChatState, right: str) -> bool:
        member = state.members.get(self.bot_id, {})
        return member.get("status") == "creator" or (
            member.get("status") == "administrator" and bool(member.get(right))
        )

    def _remember_version(self, chat_id: int, message: dict[str, Any]) -> None:
        self._history.setdefault((chat_id, message["message_id"]), []).append(
            copy.deepcopy(message)
        )

    def _emit(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        if self.validate_updates:
            Update.model_validate(update)
        self.emitted_updates.append(update)
        self._changed()
        if not self._allowed(kind):
            self.discarded_updates.append(update)
            return update
        self._updates.append(update)
        self._wake_poller("update")
        if self._push_wakeup is not None:
            self._push_wakeup.set()
        return update

    def inject_raw_update(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queue ``body`` as an update exactly as given (an ``update_id`` is added), without
        the validation every other update gets: what a self-hosted Bot API server of another
        version may send, and what the bot must survive."""
        update = {"update_id": self._next_update_id, **body}
        self._next_update_id += 1
        self.emitted_updates.append(update)
        self._updates.append(update)
        self._changed()
        self._wake_poller("update")
        if self._push_wakeup is not None:
            self._push_wakeup.set()
        return update

    def _allowed(self, kind: str) -> bool:
        if self._allowed_updates is None:
            return kind not in DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    def _wake_poller(self, reason: str) -> None:
        waiter = self._poll_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(reason)

    def _emit_my_chat_member(
        self, user: dict[str, Any], old_status: str, new_status: str
    ) -> dict[str, Any]:
        def member(status: str) -> dict[str, Any]:
            body: dict[str, Any] = {"status": status, "user": copy.deepcopy(self.bot_user)}
            if status == "kicked":
                body["until_date"] = 0
            return body

        update = {
            "chat": copy.deepcopy(self._chats[user["id"]].chat),
            "from": copy.deepcopy(user),
            "date": self._now(),
            "old_chat_member": member(old_status),
            "new_chat_member": member(new_status),
        }
        return self._emit("my_chat_member", update)

    def _store_message(
        self,
        state: ChatState,
        sender: Mapping[str, Any],
        content: Mapping[str, Any],
        thread_id: int | None,
        reply: dict[str, Any] | None,
        reply_markup: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        message_id = state.next_message_id
        state.next_message_id += 1
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": copy.deepcopy(dict(sender)),
            "date": self._now(),
            "chat": copy.deepcopy(state.chat),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
            if reply is None:
                # In a topic Telegram points reply_to_message at the topic's creation message.
                reply = state.messages.get(thread_id)
        if reply is not None:
            message["reply_to_message"] = _strip_nested(reply)
        message.update(copy.deepcopy(dict(content)))
        if reply_markup is not None:
            self._sent_markup[(state.id, message_id)] = copy.deepcopy(reply_markup)
            if "inline_keyboard" in reply_markup:
                message["reply_markup"] = copy.deepcopy(reply_markup)
            elif "keyboard" in reply_markup:
                state.reply_keyboard = copy.deepcopy(reply_markup)
            elif reply_markup.get("remove_keyboard"):
                state.reply_keyboard = None
        state.messages[message_id] = message
        return message

    def _service_message(
        self, state: ChatState, content: dict[str, Any], thread_id: int | None
    ) -> dict[str, Any]:
        message_id = state.next_message_id
        state.next_message_id += 1
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": copy.deepcopy(self.bot_user),
            "date": self._now(),
            "chat": copy.deepcopy(state.chat),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        message.update(content)
        state.messages[message_id] = message
        return message

    def _api_methods(self) -> dict[str, ApiMethod]:
        """The Bot API methods by lowercase name: ``BotApiEmulator`` names them all."""
        return {}
