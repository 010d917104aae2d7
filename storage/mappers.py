"""Record <-> domain conversion: the only place where the two worlds meet."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from models import (
    Actor,
    ActorKind,
    Agent,
    AssignStrategy,
    CannedAnswer,
    Category,
    Customer,
    EventKind,
    MediaKind,
    MessageDirection,
    Priority,
    Role,
    Team,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketStatus,
)
from models.delivery import Channel
from models.ticket import Rating
from models.training import LabelledExample
from storage.orm import (
    AgentRecord,
    Base,
    CannedAnswerRecord,
    CategoryRecord,
    CustomerRecord,
    LabelledExampleRecord,
    RatingRecord,
    TeamRecord,
    TicketEventRecord,
    TicketMessageRecord,
    TicketRecord,
)

T = TypeVar("T")

# Fields whose stored string becomes an enum in the domain.
_ENUM_FIELDS: dict[str, Any] = {
    "strategy": AssignStrategy,
    "status": TicketStatus,
    "priority": Priority,
    "role": Role,
    "direction": MessageDirection,
    "media_kind": MediaKind,
    "channel": Channel,
}


def _shared_fields(cls: type, record_cls: type[Base]) -> list[str]:
    # Once per pair of classes, not for every row read (a page of 50 tickets spent a third of
    # its mapping time here).
    found = _SHARED.get((cls, record_cls))
    if found is None:
        columns = set(record_cls.__table__.columns.keys())  # type: ignore[attr-defined]
        found = _SHARED[(cls, record_cls)] = [
            f.name for f in fields(cls) if f.init and f.name in columns
        ]
    return found


_SHARED: dict[tuple[type, type], list[str]] = {}


# List fields stored as one string column: (to the domain, to the record).
_LIST_FIELDS: dict[str, tuple[Any, Any]] = {
    "tags": (lambda s: (s or "").split(), lambda v: f" {' '.join(v)} " if v else ""),
    "suggestions": (
        lambda s: [int(x) for x in (s or "").split(",") if x],
        lambda v: ",".join(str(x) for x in v),
    ),
}


def _to_domain(cls: type[T], record: Base, **extra: Any) -> T:
    values: dict[str, Any] = {}
    for name in _shared_fields(cls, type(record)):
        value = getattr(record, name)
        enum = _ENUM_FIELDS.get(name)
        if name in _LIST_FIELDS:
            value = _LIST_FIELDS[name][0](value)
        if enum is not None and value is not None:
            # The member by its value without Enum.__call__ (a quarter of a page's mapping).
            value = enum._value2member_map_.get(value) or enum(value)
        values[name] = value
    values.update(extra)
    return cls(**values)


def _copy_to_record(obj: object, record: Base, *, changed_only: bool = False) -> None:
    """``obj``'s fields onto ``record``; ``changed_only``: only those that differ (a record
    given a value it already holds still goes through the ORM's change bookkeeping, and most
    objects of a transaction were only read)."""
    for name in _shared_fields(type(obj), type(record)):
        if name == "id":
            continue
        value = getattr(obj, name)
        if name in _LIST_FIELDS:
            value = _LIST_FIELDS[name][1](value)
        elif name in _ENUM_FIELDS and value is not None:
            value = str(value)
        if not changed_only or getattr(record, name) != value:
            setattr(record, name, value)


def new_record(record_cls: type[Base], obj: object) -> Any:
    record = record_cls()
    _copy_to_record(obj, record)
    return record


def ticket_from(record: TicketRecord) -> Ticket:
    return _to_domain(Ticket, record)


def customer_from(record: CustomerRecord) -> Customer:
    return _to_domain(Customer, record)


def agent_from(record: AgentRecord, team_ids: list[int] | None = None) -> Agent:
    return _to_domain(Agent, record, team_ids=team_ids or [])


def team_from(record: TeamRecord) -> Team:
    return _to_domain(Team, record)


def category_from(record: CategoryRecord) -> Category:
    return _to_domain(Category, record)


def message_from(record: TicketMessageRecord) -> TicketMessage:
    return _to_domain(TicketMessage, record)


def event_from(record: TicketEventRecord) -> TicketEvent:
    return TicketEvent(
        kind=EventKind(record.kind),
        actor=Actor(ActorKind(record.actor_kind), record.actor_id),
        at=record.at,
        old=record.old,
        new=record.new,
        ticket_id=record.ticket_id,
        id=record.id,
    )


def event_record(event: TicketEvent, ticket_id: int) -> TicketEventRecord:
    return TicketEventRecord(
        ticket_id=ticket_id,
        kind=str(event.kind),
        actor_kind=str(event.actor.kind),
        actor_id=event.actor.id,
        old=event.old,
        new=event.new,
        at=event.at,
    )


def update_record(record: Base, obj: object) -> None:
    """Write a domain object's changed fields back onto its record."""
    _copy_to_record(obj, record, changed_only=True)


def example_from(record: LabelledExampleRecord) -> LabelledExample:
    return _to_domain(LabelledExample, record)


def rating_from(record: RatingRecord) -> Rating:
    return _to_domain(Rating, record)


def canned_from(record: CannedAnswerRecord) -> CannedAnswer:
    return _to_domain(CannedAnswer, record)
