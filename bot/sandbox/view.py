"""What the sandbox page shows: the emulator's world reduced to plain JSON for a chat client.

Text stays text plus Telegram's entities (UTF-16 offsets, as JavaScript strings count): the page
builds DOM nodes from them and never parses HTML it was sent.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.sandbox.emulator import MEDIA_KINDS, BotApiEmulator

Role = Literal["customer", "agent", "admin"]

_SERVICE_TEXT = {
    "forum_topic_created": "created the topic",
    "forum_topic_closed": "closed the topic",
    "forum_topic_reopened": "reopened the topic",
    "forum_topic_edited": "edited the topic",
    "pinned_message": "pinned a message",
    "new_chat_members": "added members",
    "left_chat_member": "removed a member",
    "new_chat_title": "changed the group name",
}


@dataclass(frozen=True)
class Persona:
    """Someone the person at the browser can play."""

    user: dict[str, Any]
    role: Role

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def name(self) -> str:
        return display_name(self.user)


def display_name(user: Mapping[str, Any]) -> str:
    return " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p) or "?"


def file_mime(emulator: BotApiEmulator, file_id: str) -> str:
    """The content type to serve a stored file with (``application/octet-stream`` if unknown)."""
    record = emulator.files[file_id]
    if record.kind == "photo":
        return "image/png" if record.content.startswith(b"\x89PNG") else "image/jpeg"
    if record.kind == "sticker":
        return "image/webp"
    guessed = record.meta.get("mime_type") or mimetypes.guess_type(record.file_path)[0]
    return str(guessed or "application/octet-stream")


def media_view(emulator: BotApiEmulator, message: Mapping[str, Any]) -> dict[str, Any] | None:
    for kind in MEDIA_KINDS:
        body = message.get(kind)
        if not body:
            continue
        item = body[-1] if isinstance(body, list) else body  # photos: the largest size last
        file_id = str(item["file_id"])
        known = file_id in emulator.files
        mime = file_mime(emulator, file_id) if known else "application/octet-stream"
        return {
            "kind": kind,
            "file_id": file_id if known else None,
            "name": item.get("file_name") or kind,
            "size": item.get("file_size"),
            "image": known and mime.startswith("image/"),
        }
    for kind in ("location", "contact", "venue", "dice"):
        if kind in message:
            return {"kind": kind, "file_id": None, "name": kind, "size": None, "image": False}
    return None


def buttons_view(markup: Mapping[str, Any] | None) -> list[list[dict[str, str]]]:
    rows = []
    for row in (markup or {}).get("inline_keyboard", []):
        out = []
        for button in row:
            shown = {"text": str(button.get("text", ""))}
            if "callback_data" in button:
                shown["data"] = str(button["callback_data"])
            elif "url" in button:
                shown["url"] = str(button["url"])
            out.append(shown)
        rows.append(out)
    return rows


def service_text(message: Mapping[str, Any]) -> str | None:
    for key, text in _SERVICE_TEXT.items():
        if key in message:
            created = message.get(key)
            if key == "forum_topic_created" and isinstance(created, Mapping):
                return f"{text} “{created.get('name', '')}”"
            return text
    return None


def message_view(
    emulator: BotApiEmulator, message: Mapping[str, Any], pinned: Iterable[int] = ()
) -> dict[str, Any]:
    """One message as the page draws it."""
    sender = message.get("from") or {}
    reply = message.get("reply_to_message")
    quoted = None
    if reply and service_text(reply) is None:
        quoted = {
            "id": reply["message_id"],
            "from": display_name(reply.get("from") or {}),
            "text": (reply.get("text") or reply.get("caption") or _media_label(reply))[:120],
        }
    has_text = "text" in message
    return {
        "id": message["message_id"],
        "thread_id": message.get("message_thread_id"),
        "from": {
            "id": sender.get("id"),
            "name": display_name(sender),
            "bot": bool(sender.get("is_bot")),
        },
        "date": message.get("date"),
        "text": message.get("text" if has_text else "caption") or "",
        "entities": message.get("entities" if has_text else "caption_entities") or [],
        "media": media_view(emulator, message),
        "buttons": buttons_view(message.get("reply_markup")),
        "edited": "edit_date" in message,
        "reply_to": quoted,
        "service": service_text(message),
        "pinned": message["message_id"] in set(pinned),
    }


def _media_label(message: Mapping[str, Any]) -> str:
    media = next((kind for kind in MEDIA_KINDS if kind in message), None)
    return f"[{media}]" if media else ""


def chat_view(emulator: BotApiEmulator, chat_id: int) -> list[dict[str, Any]]:
    pinned = emulator.pinned(chat_id)
    return [
        message_view(emulator, m, pinned)
        for m in emulator.messages_in(chat_id, include_service=True)
    ]


def topics_view(emulator: BotApiEmulator, group_id: int) -> list[dict[str, Any]]:
    """The General topic (thread ``None``) first, then the forum topics, newest first."""
    topics = [
        {
            "thread_id": t["message_thread_id"],
            "name": t["name"],
            "color": t["icon_color"],
            "closed": t["is_closed"],
        }
        for t in emulator.topics(group_id)
    ]
    general = {"thread_id": None, "name": "General", "color": None, "closed": False}
    return [general, *reversed(topics)]


def notices_view(emulator: BotApiEmulator) -> list[dict[str, Any]]:
    """Answers to button presses that carry a text (Telegram shows them as a toast or alert)."""
    notices = []
    for query_id, state in emulator.callbacks.items():
        if state.answered and state.answer and state.answer.get("text"):
            notices.append(
                {
                    "id": query_id,
                    "user_id": state.query["from"]["id"],
                    "text": str(state.answer["text"]),
                    "alert": bool(state.answer.get("show_alert")),
                }
            )
    return notices


def reply_keyboard_view(emulator: BotApiEmulator, chat_id: int) -> list[list[str]]:
    keyboard = emulator.reply_keyboard(chat_id) or {}
    return [
        [str(b["text"]) if isinstance(b, Mapping) else str(b) for b in row]
        for row in keyboard.get("keyboard", [])
    ]


def world_view(
    emulator: BotApiEmulator, group: Mapping[str, Any], people: Iterable[Persona]
) -> dict[str, Any]:
    """Everything the page needs, at ``emulator.revision``."""
    people = list(people)
    group_id = int(group["id"])
    return {
        "revision": emulator.revision,
        "bot": {
            "id": emulator.bot_id,
            "name": display_name(emulator.bot_user),
            "username": emulator.bot_user.get("username"),
        },
        "people": [{"id": p.id, "name": p.name, "role": p.role} for p in people],
        "private": {
            str(p.id): {
                "messages": chat_view(emulator, p.id),
                "keyboard": reply_keyboard_view(emulator, p.id),
            }
            for p in people
        },
        "group": {
            "id": group_id,
            "title": group.get("title", ""),
            "topics": topics_view(emulator, group_id),
            "messages": chat_view(emulator, group_id),
        },
        "notices": notices_view(emulator),
    }
