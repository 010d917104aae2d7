"""Outbound calls to the messenger, as plain data (the outbox stores them, a sender makes them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any


class Lane(IntEnum):
    """Sending order inside one chat: urgent traffic first, cosmetic updates when there is room."""

    REPLY = 0  # messages people are waiting for: answers, copies, new-ticket cards
    UPDATE = 1  # edits of existing messages (ticket cards), coalesced


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanent error (blocked, chat not found, bad request)
    UNKNOWN = "unknown"  # gave up after a timeout: Telegram may or may not have it
    SKIPPED = "skipped"  # superseded before sending (e.g. a newer card edit)


@dataclass
class OutboundCall:
    """One Bot API call: ``method`` with JSON-serialisable ``params``.

    Values of the form ``{"$ref": name, ...}`` inside ``params`` are resolved when the call is
    made (e.g. the thread id of a ticket's topic that is created by an earlier call). ``on_sent``
    names what to record from the result (e.g. the message id of a copy), with ``ref_id`` as its
    argument.
    """

    chat_id: int
    method: str
    params: dict[str, Any]
    lane: Lane = Lane.REPLY
    ticket_id: int | None = None
    on_sent: str | None = None
    ref_id: int | None = None
    dedupe_key: str | None = None
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    not_before: datetime | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
    result: dict[str, Any] | None = field(default=None, repr=False)
    id: int | None = None


class NotReady(Exception):
    """A call depends on something not there yet (e.g. a topic still being created)."""


class Unsendable(Exception):
    """A call can never be made (e.g. it refers to a message that does not exist)."""


class Skip(Exception):
    """A call has nothing left to do (e.g. every part of an album was copied already)."""


class InboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    PARKED = "parked"  # failed too often: kept for an admin to look at


#: Processing attempts before an update is parked.
INBOX_MAX_ATTEMPTS = 5


#: Update kinds whose object names its chat (``update[kind]["chat"]["id"]``).
_CHAT_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
    "message_reaction",
    "message_reaction_count",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)


def update_chat_key(update: dict[str, object]) -> str:
    """Which conversation an update belongs to: updates with the same key are processed in
    order, one at a time; different keys may be processed side by side (by several workers).

    A button press belongs to the chat of the message it is on; what has no chat (inline
    queries, polls, payments) is keyed by the user who caused it, and anything else shares
    one ``other`` key.
    """
    for kind in _CHAT_KINDS:
        body = update.get(kind)
        if isinstance(body, dict):
            chat = body.get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return f"chat:{chat['id']}"
    for kind, body in update.items():
        if kind == "update_id" or not isinstance(body, dict):
            continue
        message = body.get("message")
        if isinstance(message, dict):
            chat = message.get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return f"chat:{chat['id']}"
        user = body.get("from") or body.get("user")
        if isinstance(user, dict) and isinstance(user.get("id"), int):
            return f"chat:{user['id']}"
    return "other"
