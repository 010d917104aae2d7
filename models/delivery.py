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


class InboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    PARKED = "parked"  # failed too often: kept for an admin to look at


#: Processing attempts before an update is parked.
INBOX_MAX_ATTEMPTS = 5
