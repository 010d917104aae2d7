"""Messages of a ticket, as seen on both sides of the help desk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.enums import MediaKind, MessageDirection


@dataclass
class TicketMessage:
    """One message of a ticket, with its Telegram ids on the customer side and the agents' side.

    Routing between the two sides only ever uses these stored ids, never the message text.
    """

    ticket_id: int
    direction: MessageDirection
    sent_at: datetime
    text: str | None = None
    media_kind: MediaKind = MediaKind.TEXT
    file_id: str | None = None
    media_group_id: str | None = None
    customer_chat_id: int | None = None
    customer_message_id: int | None = None
    agent_chat_id: int | None = None
    agent_message_id: int | None = None
    agent_thread_id: int | None = None
    author_agent_id: int | None = None
    reply_to_id: int | None = None
    edited: bool = False
    id: int | None = None
