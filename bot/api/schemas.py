"""The API's request and response bodies: the models that validate requests are the ones the
OpenAPI document is generated from (:mod:`bot.api.openapi`).

Requests refuse unknown fields (``extra="forbid"``): a misspelt field is an error, not a change
silently not made.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from models import ActorKind, EventKind, MediaKind, MessageDirection, Priority, TicketStatus

#: Row ids (32-bit on PostgreSQL) and Telegram ids (64-bit): larger numbers are refused here,
#: not by the database.
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]
TelegramId = Annotated[int, Field(ge=-(2**63) + 1, le=2**63 - 1)]


def _iso_only(value: object) -> object:
    """Query strings are text; pydantic would read ``0.5`` as a Unix time. Only ISO 8601."""
    if isinstance(value, str) and not (len(value) >= 10 and value[4] == "-"):
        raise ValueError("expected an ISO 8601 date-time with a time zone")
    return value


IsoDatetime = Annotated[AwareDatetime, BeforeValidator(_iso_only)]


def _no_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL, and no person types one: refused, whatever the field."""
    texts = value if isinstance(value, list) else [value]
    if any(isinstance(t, str) and "\x00" in t for t in texts):
        raise ValueError("must not contain NUL characters")
    return value


_WHOLE = re.compile(r"-?[0-9]+")


def _takes_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    return any(_takes_int(arg) for arg in get_args(annotation))


class Request(BaseModel):
    """Query parameters (text, converted to their types; a number is whole digits: ``0.0`` is
    no id, though pydantic's lax mode would read it as 0)."""

    model_config = ConfigDict(extra="forbid")

    _text = field_validator("*")(_no_nul)

    @field_validator("*", mode="before")
    @classmethod
    def _whole_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if (
            isinstance(value, str)
            and field is not None
            and _takes_int(field.annotation)
            and not _WHOLE.fullmatch(value)
        ):
            raise ValueError("must be a whole number, written in digits")
        return value


class Body(BaseModel):
    """JSON bodies: types as JSON has them (``false`` is no id, ``"1"`` no number)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    _text = field_validator("*")(_no_nul)


class Response(BaseModel):
    pass


# -- requests ----------------------------------------------------------------------------------


class TicketListQuery(Request):
    """Filters of ``GET /tickets`` (all optional, combined with AND)."""

    status: list[TicketStatus] | None = Field(
        default=None, description="One or more statuses (repeat the parameter or use commas)."
    )
    team: str | None = Field(default=None, max_length=64, description="Team name.")
    category: str | None = Field(default=None, max_length=64)
    customer: TelegramId | None = Field(
        default=None, description="The customer's Telegram user id."
    )
    assignee: DbId | None = Field(default=None, description="The agent's id (see /agents).")
    unassigned: bool = False
    priority: Priority | None = None
    not_sure: bool = Field(default=False, description="Only tickets triage was not sure of.")
    breached: bool = Field(default=False, description="Only tickets past an SLA deadline.")
    created_since: IsoDatetime | None = Field(
        default=None, description="ISO 8601 with a time zone, e.g. 2026-03-01T00:00:00Z."
    )
    updated_since: IsoDatetime | None = Field(
        default=None, description="ISO 8601 with a time zone, e.g. 2026-03-01T00:00:00Z."
    )
    cursor: DbId | None = Field(default=None, description="next_cursor of the previous page.")
    limit: int = Field(default=50, ge=1, le=200)


class SearchQuery(Request):
    q: str = Field(
        min_length=1,
        max_length=200,
        description='Words, "phrases", -exclusions, OR, prefix* (as /search).',
    )
    offset: int = Field(default=0, ge=0, le=10_000)
    limit: int = Field(default=20, ge=1, le=50)


class StatsQuery(Request):
    period: str = Field(
        default="today",
        max_length=32,
        description="today, yesterday, week, month, YYYY-MM-DD or 'YYYY-MM-DD YYYY-MM-DD'.",
    )
    team: str | None = Field(default=None, max_length=64)


class CustomerQuery(Request):
    telegram_id: TelegramId | None = None
    username: str | None = Field(default=None, max_length=64)


class TicketPatch(Body):
    """A change of a ticket; fields left out stay as they are. ``team`` and ``assignee_id``
    may be null (no team, nobody)."""

    status: TicketStatus | None = None
    priority: Priority | None = None
    team: str | None = Field(default=None, max_length=64)
    assignee_id: DbId | None = None
    category: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="A category key; stored as a correction for the classifier, like the card "
        "button.",
    )
    add_tags: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=20
    )
    remove_tags: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=20
    )


class NewTicketRequest(Body):
    """An outbound contact: the customer gets ``text`` from the desk as the first message."""

    customer_telegram_id: TelegramId = Field(
        description="A customer of the desk (someone who started the bot)."
    )
    text: str = Field(min_length=1, max_length=4096)
    subject: str | None = Field(default=None, min_length=1, max_length=256)
    priority: Priority | None = None
    team: str | None = Field(default=None, max_length=64)
    category: str | None = Field(default=None, min_length=1, max_length=64)


class MergeRequest(Body):
    into: int = Field(
        ge=1, le=2**62, description="Number of the ticket (of the same customer) to merge into."
    )


class ReplyRequest(Body):
    text: str = Field(min_length=1, max_length=4096, description="Plain text (no markup).")


class NoteRequest(Body):
    text: str = Field(min_length=1, max_length=4096)


# -- responses ---------------------------------------------------------------------------------


class TeamRef(Response):
    id: int
    name: str


class AgentRef(Response):
    id: int
    name: str
    username: str | None
    telegram_id: int


class CustomerRef(Response):
    id: int
    telegram_id: int | None = Field(
        description="None for a customer who writes by email or in the website chat widget."
    )
    email: str | None = Field(description="The address of a customer who writes by email.")
    channel: Literal["telegram", "email", "web"]
    name: str
    username: str | None


class SlaDeadline(Response):
    kind: Literal["first_response", "next_response", "resolution"]
    due: datetime


class RatingOut(Response):
    score: int = Field(ge=1, le=5)
    comment: str | None
    rated_at: datetime


class TicketOut(Response):
    number: int
    subject: str
    status: TicketStatus
    priority: Priority
    category: str | None
    team: TeamRef | None
    assignee: AgentRef | None
    customer: CustomerRef | None
    tags: list[str]
    needs_human: bool = Field(description="Triage was not sure of the category.")
    triage_confidence: float | None
    sla_breached: bool
    merged_into: int | None = Field(description="Number of the ticket this one was merged into.")
    sla_deadline: SlaDeadline | None = Field(
        description="The next deadline of an active ticket with a running SLA clock."
    )
    rating: RatingOut | None
    created_at: datetime
    updated_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None


class TicketPage(Response):
    items: list[TicketOut]
    next_cursor: int | None = Field(description="Pass as ?cursor= for the next page; null: done.")


class SearchHitOut(Response):
    ticket: TicketOut
    snippet: str = Field(description="The best match, its matching words between « and ».")


class SearchResults(Response):
    items: list[SearchHitOut]
    next_offset: int | None


class MessageOut(Response):
    id: int
    direction: MessageDirection
    sent_at: datetime
    text: str | None
    media_kind: MediaKind
    channel: Literal["telegram", "email", "web"] = Field(
        description="Where a customer's message came from, or where a reply went."
    )
    author_agent_id: int | None
    edited: bool
    file_url: str | None = Field(
        description="Where the API serves the message's file (photo, document, voice…)."
    )


class MessageList(Response):
    items: list[MessageOut]


class EventOut(Response):
    kind: EventKind
    actor_kind: ActorKind
    actor_id: int | None
    at: datetime
    old: str | None
    new: str | None


class EventList(Response):
    items: list[EventOut]


class CustomerOut(CustomerRef):
    language: str | None
    banned: bool
    created_at: datetime | None


class CustomerList(Response):
    items: list[CustomerOut]


class AgentOut(AgentRef):
    role: Literal["agent", "supervisor", "admin"]
    active: bool
    away: bool
    team_ids: list[int]


class AgentList(Response):
    items: list[AgentOut]


class Figures(Response):
    opened: int
    resolved: int
    backlog: int
    first_response_median_s: float | None
    first_response_p90_s: float | None
    resolution_median_s: float | None
    resolution_p90_s: float | None
    sla_met: int
    sla_missed: int
    sla_hit_rate: float | None
    csat_count: int
    csat_average: float | None
    triage_accuracy: float | None


class DayOut(Response):
    day: str
    opened: int
    resolved: int
    first_response_median_s: float | None


class ChannelOut(Response):
    tickets: int = Field(
        description="Tickets opened in the period whose first customer "
        "message came in on this channel."
    )
    messages: int = Field(description="Customer messages that came in on it in the period.")


class StatsOut(Response):
    first_day: str
    last_day: str
    overall: Figures
    teams: dict[str, Figures]
    agents: dict[str, Figures] = Field(description="By agent id.")
    days: list[DayOut]
    channels: dict[str, ChannelOut] = Field(
        description="By channel: telegram, email, web (only those with something)."
    )


class EventsQuery(Request):
    cursor: DbId | None = Field(default=None, description="next_cursor of the previous page.")
    limit: int = Field(default=50, ge=1, le=200)


class DeliveryOut(Response):
    id: DbId
    webhook_id: int
    event: str = Field(description="ticket.opened, ticket.message, ping, …")
    delivery: str = Field(description="X-Helpdesk-Delivery: the same on every retry.")
    status: Literal["pending", "sent", "failed", "unknown", "skipped"]
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


class DeliveryList(Response):
    items: list[DeliveryOut]
    next_cursor: int | None


class Redelivered(Response):
    id: DbId = Field(description="The new delivery's id.")


class WebhookEvents(Response):
    items: list[str] = Field(description="Event types outgoing webhooks can subscribe to.")


class Problem(Response):
    """An error, as ``application/problem+json`` (RFC 9457)."""

    type: str = Field(description="Stable per kind of error, e.g. urn:helpdesk:problem:stale.")
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Validation errors: each names its field."
    )
