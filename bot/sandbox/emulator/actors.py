"""Scripted people: ``user_sends_*``, ``user_presses`` and friends queue updates for the bot."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from bot.sandbox.emulator.api_files import FilesApi
from bot.sandbox.emulator.world import (
    CHANNEL_BOT,
    GROUP_ANONYMOUS_BOT,
    MEDIA_KINDS,
    CallbackState,
    _strip_nested,
)
from bot.sandbox.tg_html import utf16_len


class ActorsMixin(FilesApi):
    """People acting in Telegram: each queues the update the bot would get."""

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
