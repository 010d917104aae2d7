"""Outgoing webhooks: endpoints, the event payloads they receive and how they are signed.

Pure: the unit of work turns what a transaction changed into payloads with these functions, and
the sender signs them. The format is documented in the README ("Webhooks").
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from models.delivery import Channel, Lane, OutboundCall
from models.enums import ActorKind
from models.errors import InvalidInput
from models.events import Actor
from models.message import TicketMessage
from models.people import Agent, Customer, Team
from models.ticket import Rating, Ticket

OPENED = "ticket.opened"
ASSIGNED = "ticket.assigned"
STATUS_CHANGED = "ticket.status_changed"
MESSAGE = "ticket.message"
NOTE = "ticket.note"  # internal notes: only for endpoints that subscribe to them by name
RATED = "ticket.rated"
PING = "ping"  # sent by ``/webhook test``, whatever the subscription

EVENT_TYPES = (OPENED, ASSIGNED, STATUS_CHANGED, MESSAGE, NOTE, RATED)
#: What an endpoint gets when ``/webhook add`` names no events: everything but internal notes.
DEFAULT_EVENTS = tuple(e for e in EVENT_TYPES if e != NOTE)

#: Outbox method of a webhook delivery (on the webhook channel: one queue per endpoint).
WEBHOOK_METHOD = "webhook"

URL_MAX = 2048
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass
class Webhook:
    """An endpoint that receives the events it subscribed to, signed with its ``secret``."""

    url: str
    secret: str
    events: tuple[str, ...]
    created_at: datetime
    created_by: int | None = None
    active: bool = True
    id: int | None = None

    def wants(self, event_type: str) -> bool:
        return self.active and event_type in self.events


def parse_url(text: str) -> str:
    """An endpoint URL: https, or plain http to this machine (for testing)."""
    url = text.strip()
    if len(url) > URL_MAX:
        raise InvalidInput("url", url[:100], f"is longer than {URL_MAX} characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _port = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        raise InvalidInput("url", url, "is not a valid URL") from None
    if not host:
        raise InvalidInput("url", url, "needs a host, e.g. https://crm.example.com/hooks/helpdesk")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and host in LOCAL_HOSTS:
        return url
    raise InvalidInput("url", url, "must start with https:// (plain http only for localhost)")


def parse_events(text: str | None) -> tuple[str, ...]:
    """Event types from a comma-separated list; none given means :data:`DEFAULT_EVENTS`."""
    names = [n.strip().lower() for n in (text or "").replace(";", ",").split(",")]
    names = [n for n in names if n]
    if not names:
        return DEFAULT_EVENTS
    unknown = [n for n in names if n not in EVENT_TYPES]
    if unknown:
        raise InvalidInput(
            "events", ", ".join(unknown), "unknown; known are " + ", ".join(EVENT_TYPES)
        )
    return tuple(e for e in EVENT_TYPES if e in names)  # canonical order, no repeats


def new_secret() -> str:
    return secrets.token_hex(32)


def new_delivery_id() -> str:
    return str(uuid.uuid4())


def iso(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a ``Z``, e.g. ``2026-03-02T10:00:00.000Z``."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- payloads ------------------------------------------------------------------------------------


def agent_view(agent: Agent | None) -> dict[str, Any] | None:
    if agent is None:
        return None
    return {
        "id": agent.id,
        "telegram_id": agent.telegram_id,
        "name": agent.name,
        "username": agent.username,
    }


def customer_view(customer: Customer | None) -> dict[str, Any] | None:
    if customer is None:
        return None
    return {
        "id": customer.id,
        # An email customer's or a visitor's number is a stand-in, no Telegram id: not shown.
        "telegram_id": customer.telegram_id if customer.channel is Channel.TELEGRAM else None,
        "email": customer.email,
        "channel": str(customer.channel),
        "name": customer.display_name,
        "username": customer.username,
        "language": customer.language,
    }


def actor_view(actor: Actor, agents: dict[int, Agent]) -> dict[str, Any]:
    """Who did it: ``{"kind": "customer"|"agent"|"system", "id": ..., "agent": {...}?}``."""
    view: dict[str, Any] = {"kind": str(actor.kind), "id": actor.id}
    if actor.kind is ActorKind.AGENT:
        view["agent"] = agent_view(agents.get(actor.id or 0))
    return view


def ticket_view(
    ticket: Ticket,
    *,
    customer: Customer | None,
    team: Team | None,
    assignee: Agent | None,
    channel: Channel | None = None,
) -> dict[str, Any]:
    """``channel``: the ticket's (its first customer message's; None before the customer
    wrote, for an outbound contact)."""
    return {
        "id": ticket.id,
        "number": ticket.number,
        "subject": ticket.subject,
        "status": str(ticket.status),
        "priority": str(ticket.priority),
        "category": ticket.category,
        "team": team.name if team is not None else None,
        "assignee": agent_view(assignee),
        "customer": customer_view(customer),
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at) if ticket.updated_at else None,
        "sla_breached": ticket.sla_breached,
        "channel": None if channel is None else str(channel),
    }


def message_view(message: TicketMessage, author: Agent | None) -> dict[str, Any]:
    return {
        "id": message.id,
        "direction": str(message.direction),
        "text": message.text,
        "media_kind": str(message.media_kind),
        "channel": str(message.channel),
        "sent_at": iso(message.sent_at),
        "author": agent_view(author),
    }


def rating_view(rating: Rating) -> dict[str, Any]:
    return {"score": rating.score, "comment": rating.comment, "rated_at": iso(rating.rated_at)}


def envelope(
    event_type: str,
    delivery_id: str,
    occurred_at: datetime,
    ticket: dict[str, Any] | None,
    data: dict[str, Any],
) -> dict[str, Any]:
    """The JSON body every delivery has: the same keys for every event type."""
    return {
        "id": delivery_id,
        "type": event_type,
        "occurred_at": iso(occurred_at),
        "ticket": ticket,
        "data": data,
    }


def delivery_call(
    webhook: Webhook,
    event_type: str,
    occurred_at: datetime,
    ticket: dict[str, Any] | None,
    data: dict[str, Any],
) -> OutboundCall:
    """The outbox row that delivers one event to one endpoint (its own FIFO queue)."""
    assert webhook.id is not None
    delivery_id = new_delivery_id()
    return OutboundCall(
        chat_id=webhook.id,
        channel=Channel.WEBHOOK,
        method=WEBHOOK_METHOD,
        params={
            "webhook": webhook.id,
            "event": event_type,
            "delivery": delivery_id,
            "body": envelope(event_type, delivery_id, occurred_at, ticket, data),
        },
        lane=Lane.REPLY,
    )


def ping_call(webhook: Webhook, now: datetime) -> OutboundCall:
    return delivery_call(
        webhook,
        PING,
        now,
        None,
        {"webhook_id": webhook.id, "events": list(webhook.events)},
    )


@dataclass(frozen=True)
class DeliveryStats:
    """What ``/webhook list`` shows about an endpoint's deliveries."""

    pending: int = 0
    sent: int = 0
    failed: int = 0
    last_error: str | None = None
