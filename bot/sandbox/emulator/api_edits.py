"""Bot API methods that edit or delete messages."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from bot.sandbox.emulator.validation import ValidationMixin, _int, _json
from bot.sandbox.emulator.world import (
    MEDIA_KINDS,
    NOT_MODIFIED,
    ChatState,
    _is_service,
    bad_request,
)


class EditsApi(ValidationMixin):
    """Editing and deleting the bot's messages."""

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
