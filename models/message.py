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
    #: The ticket's card quotes this message (its agents' side is the card; see
    #: :func:`fits_on_card`): the agents' chat has no copy of its own.
    on_card: bool = False
    #: The customer chose formatting (bold, a link behind words...) that a plain quote loses.
    formatted: bool = False
    id: int | None = None


#: The longest first message a ticket's card quotes instead of a copy of its own, in UTF-16
#: units: with the card's own lines it stays within Telegram's 4,096.
CARD_QUOTE_LIMIT = 2500


def fits_on_card(text: str | None, media_kind: MediaKind, *, album: bool, formatted: bool) -> bool:
    """Whether a new ticket's card can carry its first message: a plain text (no album, no
    formatting that a quote would lose), short enough. It saves the agents' group one call."""
    if not text or media_kind is not MediaKind.TEXT or album or formatted:
        return False
    return len(text.encode("utf-16-le")) // 2 <= CARD_QUOTE_LIMIT


def quotable(message: TicketMessage) -> bool:
    """Whether a customer's message can be shown as a quote instead of a copy of its own (on
    a new ticket's card, or joined with the next ones when the agents' group is behind)."""
    return message.direction is MessageDirection.CUSTOMER and fits_on_card(
        message.text,
        message.media_kind,
        album=message.media_group_id is not None,
        formatted=message.formatted,
    )
