"""Bot API methods that send messages: send*, copy*, forward*."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from bot.sandbox.emulator.api_files import FilesApi
from bot.sandbox.emulator.validation import ValidationMixin, _bool, _int, _json, _str
from bot.sandbox.emulator.world import (
    CONTENT_KEYS,
    MEDIA_GROUP_SIZE,
    MEDIA_KINDS,
    ChatState,
    _is_service,
    bad_request,
)


class MessagesApi(FilesApi, ValidationMixin):
    """Sending, copying and forwarding messages."""

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
