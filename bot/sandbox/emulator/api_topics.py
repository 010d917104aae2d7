"""Bot API methods for forum topics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.sandbox.emulator.api_edits import EditsApi
from bot.sandbox.emulator.validation import _int, _str
from bot.sandbox.emulator.world import (
    FORUM_ICON_COLORS,
    ICON_COLOR_INVALID,
    TOPIC_NAME_INVALID,
    ChatState,
    Topic,
    bad_request,
)
from bot.sandbox.tg_html import utf16_len


class TopicsApi(EditsApi):
    """Forum topics: create, edit, close, reopen, delete."""

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
