"""Solved tickets as the "similar solved tickets" list sees them: what was asked, what solved it.

A ticket that moves from an active status to resolved (or closed) leaves one :class:`Solution`:
its text (the subject and the customer's messages) and the last text an agent sent the
customer. A ticket resolved again after a reopening replaces its solution; a ticket nobody
answered in words (or a merged one) leaves none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from models.enums import MessageDirection
from models.message import TicketMessage
from models.ticket import Ticket

#: Only the beginning of a long conversation is kept: the problem is stated there.
SOLUTION_TEXT_MAX = 2000


@dataclass(frozen=True)
class Solution:
    """A resolved ticket's question and the reply that solved it.

    ``id`` grows with every solution written (never reused), so a process that has read every
    solution up to some id only needs the ones after it.
    """

    ticket_id: int
    text: str
    reply: str
    resolved_at: datetime
    id: int | None = None


def ticket_text(subject: str, customer_texts: Iterable[str | None]) -> str:
    """What a ticket is about: its subject and its customer's texts, one per line.

    The subject is left out when the first text starts with it (it was cut from that text, as
    it is for every ticket opened by a text message), so nothing counts twice.
    """
    texts = [t.strip() for t in customer_texts if t and t.strip()]
    head = subject.removesuffix("…").strip()
    if head and not (texts and texts[0].startswith(head)):
        texts.insert(0, subject)
    return "\n".join(texts)[:SOLUTION_TEXT_MAX]


def final_reply(messages: Sequence[TicketMessage]) -> TicketMessage | None:
    """The last message with text an agent sent the customer (notes and media-only replies
    do not count)."""
    for message in reversed(messages):
        if message.direction is MessageDirection.AGENT and (message.text or "").strip():
            return message
    return None


def solution_of(ticket: Ticket, messages: Sequence[TicketMessage]) -> Solution | None:
    """The solution a resolved ticket leaves, or None (still active, merged, no text reply)."""
    if ticket.id is None or ticket.is_active or ticket.merged_into_id is not None:
        return None
    if ticket.resolved_at is None:
        return None
    reply = final_reply(messages)
    if reply is None:
        return None
    customer = (m.text for m in messages if m.direction is MessageDirection.CUSTOMER)
    text = ticket_text(ticket.subject, customer)
    if not text:
        return None
    return Solution(
        ticket_id=ticket.id,
        text=text,
        reply=(reply.text or "").strip(),
        resolved_at=ticket.resolved_at,
    )


@dataclass(frozen=True)
class SimilarSolved:
    """One entry of a ticket's "similar solved tickets" list."""

    ticket: Ticket
    solution: Solution
    score: float
