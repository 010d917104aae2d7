"""Record <-> domain conversion: the only place where the two worlds meet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
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
    return _shape(cls, record_cls)[0]


def _shape(cls: type, record_cls: type[Base]) -> tuple[list[str], list[tuple[str, Any]]]:
    """The fields a domain class shares with a record class, and which of them are converted
    on the way in: once per pair of classes, not for every row read (a page of 50 tickets
    spent a third of its mapping time here)."""
    found = _SHAPES.get((cls, record_cls))
    if found is None:
        columns = set(record_cls.__table__.columns.keys())  # type: ignore[attr-defined]
        names = [f.name for f in fields(cls) if f.init and f.name in columns]
        conversions = [(n, _LIST_FIELDS[n][0]) for n in names if n in _LIST_FIELDS]
        conversions += [(n, _enum_member(_ENUM_FIELDS[n])) for n in names if n in _ENUM_FIELDS]
        found = _SHAPES[(cls, record_cls)] = (names, conversions)
    return found


_SHAPES: dict[tuple[type, type], tuple[list[str], list[tuple[str, Any]]]] = {}


def _enum_member(enum: Any) -> Any:
    members = enum._value2member_map_

    def member(value: Any) -> Any:
        # By its value without Enum.__call__ (a quarter of a page's mapping).
        return None if value is None else members.get(value) or enum(value)

    return member


# List fields stored as one string column: (to the domain, to the record).
_LIST_FIELDS: dict[str, tuple[Any, Any]] = {
    "tags": (lambda s: (s or "").split(), lambda v: f" {' '.join(v)} " if v else ""),
    "suggestions": (
        lambda s: [int(x) for x in (s or "").split(",") if x],
        lambda v: ",".join(str(x) for x in v),
    ),
}


def _to_domain(cls: type[T], record: Base, **extra: Any) -> T:
    names = _shared_fields(cls, type(record))
    return from_row(cls, type(record), [getattr(record, name) for name in names], **extra)


def columns_for(cls: type, record_cls: type[Base]) -> list[Any]:
    """The table columns a domain class is made of, in the order :func:`from_row` takes them
    (for Core statements that read plain rows instead of records)."""
    table = record_cls.__table__  # type: ignore[attr-defined]
    return [table.c[name] for name in _shared_fields(cls, record_cls)]


def from_row(cls: type[T], record_cls: type[Base], row: Sequence[Any], **extra: Any) -> T:
    """The domain object from the values of :func:`columns_for` (a slice of a Core row), as
    :func:`_to_domain` makes it from a record."""
    names, conversions = _shape(cls, record_cls)
    values = dict(zip(names, row, strict=True))
    for name, convert in conversions:
        values[name] = convert(values[name])
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


#: The columns of an event, in the order :func:`event_of` takes them.
EVENT_COLUMNS = ("kind", "actor_kind", "actor_id", "at", "old", "new", "ticket_id", "id")


def event_from(record: TicketEventRecord) -> TicketEvent:
    return event_of(*(getattr(record, name) for name in EVENT_COLUMNS))


def event_of(
    kind: str,
    actor_kind: str,
    actor_id: int | None,
    at: datetime,
    old: str | None,
    new: str | None,
    ticket_id: int,
    id: int,
) -> TicketEvent:
    """An event from its columns (a record's or a slice of a Core row)."""
    return TicketEvent(
        kind=EventKind(kind),
        actor=Actor(ActorKind(actor_kind), actor_id),
        at=at,
        old=old,
        new=new,
        ticket_id=ticket_id,
        id=id,
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
