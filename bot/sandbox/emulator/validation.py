"""What Telegram refuses: the parameter readers and the checks every API method shares."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.sandbox.emulator.state import EmulatorState
from bot.sandbox.emulator.world import BLOCKED, ChatState, bad_request, forbidden
from bot.sandbox.tg_html import EntityParseError, parse_html, utf16_len


def _int(params: Mapping[str, Any], key: str, *, required: bool = False) -> int | None:
    value = params.get(key)
    if value is None or value == "":
        if required:
            raise bad_request(f"{key} is empty")
        return None
    if isinstance(value, bool):
        raise bad_request(f"invalid {key} specified")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {key} specified") from None


def _bool(params: Mapping[str, Any], key: str) -> bool:
    value = params.get(key)
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _json(params: Mapping[str, Any], key: str) -> Any:
    value = params.get(key)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {key} JSON object") from None
    return value


def _str(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


class ValidationMixin(EmulatorState):
    """What Telegram refuses before it acts: unknown chats, chats the bot may not write
    to, closed topics, missing replies, bad markup and entities, texts too long in UTF-16.
    """

    def _resolve_chat(self, params: Mapping[str, Any], key: str = "chat_id") -> ChatState:
        value = params.get(key)
        if value is None or value == "":
            raise bad_request(f"{key} is empty")
        if isinstance(value, str) and value.startswith("@"):
            for candidate in self._chats.values():
                if not candidate.is_private and candidate.chat.get("username") == value[1:]:
                    return candidate
            raise bad_request("chat not found")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        state = self._chats.get(chat_id)
        if state is None:
            raise bad_request("chat not found")
        return state

    def _check_can_write(self, state: ChatState) -> None:
        if state.is_private:
            user = self._users[state.id]
            if user.deactivated:
                raise forbidden("user is deactivated")
            if user.blocked:
                raise forbidden(BLOCKED)
            if not user.started:
                raise forbidden("bot can't initiate conversation with a user")
            return
        member = state.members.get(self.bot_id)
        if member is None or member["status"] == "left":
            raise forbidden("bot is not a member of the supergroup chat")
        if member["status"] == "kicked":
            raise forbidden("bot was kicked from the supergroup chat")

    def _resolve_thread(self, state: ChatState, params: Mapping[str, Any]) -> int | None:
        thread_id = _int(params, "message_thread_id")
        if thread_id is None:
            return None
        topic = state.topics.get(thread_id) if state.is_forum else None
        if topic is None:
            raise bad_request("message thread not found")
        if topic.closed and not self._bot_right(state, "can_manage_topics"):
            raise bad_request("TOPIC_CLOSED")
        return thread_id

    def _resolve_reply(
        self, state: ChatState, params: Mapping[str, Any], thread_id: int | None
    ) -> tuple[dict[str, Any] | None, int | None]:
        reply_parameters = _json(params, "reply_parameters") or {}
        reply_id = reply_parameters.get("message_id") or _int(params, "reply_to_message_id")
        if not reply_id:
            return None, thread_id
        allow = bool(reply_parameters.get("allow_sending_without_reply")) or _bool(
            params, "allow_sending_without_reply"
        )
        target_chat = reply_parameters.get("chat_id")
        reply = None
        if target_chat is None or str(target_chat) == str(state.id):
            reply = state.live(int(reply_id))
        if reply is None:
            if allow:
                return None, thread_id
            raise bad_request("message to be replied not found")
        if thread_id is None and reply.get("is_topic_message"):
            thread_id = reply.get("message_thread_id")
        return reply, thread_id

    def _markup(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        markup = _json(params, "reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise bad_request("BUTTON_TEXT_EMPTY")  # unverified
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
        return markup

    def _formatted(
        self,
        params: Mapping[str, Any],
        text_key: str,
        entities_key: str,
        parse_mode_key: str = "parse_mode",
    ) -> tuple[str | None, list[dict[str, Any]]]:
        text = _str(params, text_key)
        if text is None:
            return None, []
        explicit = _json(params, entities_key)
        if explicit:
            return text, list(explicit)
        mode = (_str(params, parse_mode_key) or "").lower()
        if mode == "html":
            try:
                return parse_html(text)
            except EntityParseError as error:
                raise bad_request(f"can't parse entities: {error}") from None
        # MarkdownV2/Markdown are stored as sent: the help desk uses HTML.
        return text, []

    def _text_content(self, params: Mapping[str, Any], *, edit: bool = False) -> dict[str, Any]:
        text, entities = self._formatted(params, "text", "entities")
        if text is None or not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > 4096:
            raise bad_request("MESSAGE_TOO_LONG" if edit else "message is too long")
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        preview = _json(params, "link_preview_options")
        if isinstance(preview, dict) and preview:
            content["link_preview_options"] = preview
        return content

    def _caption(self, params: Mapping[str, Any]) -> dict[str, Any]:
        caption, entities = self._formatted(params, "caption", "caption_entities")
        if not caption:
            return {}
        if utf16_len(caption) > 1024:
            raise bad_request("message caption is too long")
        content: dict[str, Any] = {"caption": caption}
        if entities:
            content["caption_entities"] = entities
        if _bool(params, "show_caption_above_media"):
            content["show_caption_above_media"] = True
        return content
