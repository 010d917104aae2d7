"""Messages of a ticket, as seen on both sides of the help desk."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from models.delivery import Channel
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
    #: :func:`quotable`): the agents' chat has no copy of its own.
    on_card: bool = False
    #: The customer chose formatting (bold, a link behind words...) that a plain quote loses.
    formatted: bool = False
    #: Where a customer's message came from (for email, ``customer_message_id`` is the
    #: stored mail's id).
    channel: Channel = Channel.TELEGRAM
    id: int | None = None


#: The longest customer text a quote stands in for (on a card, or joined), in UTF-16 units:
#: with the card's own lines it stays within Telegram's 4,096.
QUOTE_LIMIT = 2500


def quotable(message: TicketMessage) -> bool:
    """Whether a customer's message can be shown as a quote instead of a copy of its own (on
    a new ticket's card, or joined with the next ones when the agents' group is behind): a
    plain text (no album, no formatting a quote would lose), short enough."""
    text = message.text
    if message.direction is not MessageDirection.CUSTOMER or not text:
        return False
    if message.media_kind is not MediaKind.TEXT or message.media_group_id or message.formatted:
        return False
    return len(text.encode("utf-16-le")) // 2 <= QUOTE_LIMIT


def ticket_channel(messages: Iterable[TicketMessage]) -> Channel | None:
    """A ticket's channel: the channel of its first customer message (``messages`` in the order
    they were stored); None while the customer has written nothing (an outbound contact)."""
    for message in messages:
        if message.direction is MessageDirection.CUSTOMER:
            return message.channel
    return None
