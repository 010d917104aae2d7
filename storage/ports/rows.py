"""Rows that are no domain object: what some queries hand back as they are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from models import (
    Agent,
    Customer,
    Team,
    Ticket,
    TicketEvent,
)
from models.ticket import Rating


@dataclass(frozen=True)
class InboxItem:
    update_id: int
    payload: dict[str, object]
    attempts: int


@dataclass(frozen=True)
class StoredResponse:
    """What a POST answered, kept for the repeats of its ``Idempotency-Key``.

    ``status`` is None while the first request is still at work (or died before answering).
    """

    fingerprint: str
    status: int | None
    body: str | None
    created_at: datetime


@dataclass(frozen=True)
class TicketCard:
    """A ticket and what it refers to (None: it refers to nothing there)."""

    ticket: Ticket
    customer: Customer | None
    team: Team | None
    #: The assigned agent as their row has them (their teams are not read: no card shows them).
    assignee: Agent | None
    rating: Rating | None
    merged_into_number: int | None


@dataclass(frozen=True)
class Cards:
    """Tickets in the order asked for, and the status changes of the active ones."""

    cards: list[TicketCard] = field(default_factory=list)
    #: By ticket id, oldest first; every active ticket has an entry (maybe empty).
    status_changes: dict[int, list[TicketEvent]] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """One event queued for one endpoint (an outbox row), as the API lists them."""

    id: int
    webhook_id: int
    event: str
    delivery: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    ticket_id: int | None
