"""Bot API methods about chats: members, pins, commands, reactions, callback answers."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from bot.sandbox.emulator.validation import ValidationMixin, _int, _json, _str
from bot.sandbox.emulator.world import QUERY_TOO_OLD, _strip_nested, bad_request

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


class ChatsApi(ValidationMixin):
    """Chats and members, pins, commands, chat actions, reactions and callback answers."""

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
