"""An in-memory unit of work for fast service tests (no database).

It keeps the transaction semantics the services rely on, so a test of a service fails when the
service forgets to commit:

- a :class:`FakeDatabase` holds what was committed; each :class:`FakeUnitOfWork` works on its
  own copy of it (the session's view) and replaces the database with that copy on commit;
  leaving without a commit, or rolling back, loses every change;
- repositories hand out copies of the rows, as the SQLAlchemy ones hand out new domain objects:
  a change to an object is written back when the unit of work commits, not when it is made,
  and queries in the meantime see the row as it was;
- ticket events are stored when the ticket is written back; outbox calls queued in the unit of
  work are written on commit, in order, with growing ids.

Only the repository methods the tested services call are implemented, honestly (no method
returns a made-up answer); the others are missing, and a service that reaches one fails with
``AttributeError``. ``tests/services/test_fake_uow.py`` checks that every method here has the
signature of its protocol in :mod:`storage.ports`. What the SQLAlchemy unit of work derives at
commit on its own (webhook deliveries) is not derived here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Generic, Self, TypeVar

from models import (
    Agent,
    CannedAnswer,
    Category,
    Customer,
    EventKind,
    MessageDirection,
    Team,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketStatus,
)
from models.delivery import OutboundCall, OutboxStatus, Queue
from models.incidents import Incident, IncidentStatus
from models.solutions import Solution
from models.ticket import Rating
from models.training import LabelledExample
from storage import AbstractUnitOfWork, orm

D = TypeVar("D")
_DONE = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


@dataclass
class FakeState:
    """Every table, by id; plus the rows that have no domain object."""

    tables: dict[str, dict[int, Any]] = field(default_factory=dict)
    events: list[TicketEvent] = field(default_factory=list)
    outbox: list[OutboundCall] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    sla_notices: set[tuple[int, str, str, datetime]] = field(default_factory=set)
    solutions: dict[int, Solution] = field(default_factory=dict)  # by ticket id
    processed_updates: set[int] = field(default_factory=set)
    last_ids: dict[str, int] = field(default_factory=dict)

    def table(self, name: str) -> dict[int, Any]:
        return self.tables.setdefault(name, {})

    def next_id(self, name: str) -> int:
        self.last_ids[name] = self.last_ids.get(name, 0) + 1
        return self.last_ids[name]


class FakeDatabase:
    """What was committed; ``database.uow()`` is a unit-of-work factory (``UowFactory``)."""

    def __init__(self) -> None:
        self.state = FakeState()

    def uow(self, *, readonly: bool = False, inbox_update: int | None = None) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, readonly=readonly, inbox_update=inbox_update)

    # What tests read back: the committed rows.

    def rows(self, table: str) -> list[Any]:
        return [copy.deepcopy(r) for _, r in sorted(self.state.table(table).items())]

    def row(self, table: str, row_id: int) -> Any:
        return copy.deepcopy(self.state.table(table)[row_id])

    @property
    def outbox(self) -> list[OutboundCall]:
        return list(self.state.outbox)

    @property
    def events(self) -> list[TicketEvent]:
        return list(self.state.events)

    @property
    def settings(self) -> dict[str, str]:
        return dict(self.state.settings)


class FakeStore(Generic[D]):
    """A table of domain objects: loads hand out copies, ``sync`` writes them back.

    ``record`` is the table's record class: what the database refuses to store (a NOT NULL
    column without a value), the fake refuses too.
    """

    name = ""
    record: type[orm.Base]

    def __init__(self, state: FakeState) -> None:
        self._state = state
        self._seen: list[D] = []

    @property
    def _rows(self) -> dict[int, D]:
        return self._state.table(self.name)

    def _hand_out(self, row: D) -> D:
        obj = copy.deepcopy(row)
        self._seen.append(obj)
        return obj

    def _matching(self, **values: object) -> list[D]:
        """The stored rows (in id order) whose attributes have these values."""
        return [
            r
            for _, r in sorted(self._rows.items())
            if all(getattr(r, k) == v for k, v in values.items())
        ]

    def _first(self, rows: Iterable[D]) -> D | None:
        found = next(iter(rows), None)
        return None if found is None else self._hand_out(found)

    def _many(self, rows: Iterable[D]) -> list[D]:
        return [self._hand_out(r) for r in rows]

    async def get(self, obj_id: int) -> D | None:
        row = self._rows.get(obj_id)
        return None if row is None else self._hand_out(row)

    def _check(self, obj: D) -> None:
        table = self.record.__table__
        missing = [
            c.name
            for c in table.columns
            if not (c.nullable or c.primary_key or c.default or c.server_default)
            and getattr(obj, c.name, "not a field") is None
        ]
        if missing:
            raise ValueError(f"{table.name}: {', '.join(missing)} cannot be null")

    async def add(self, obj: D) -> D:
        self._check(obj)
        obj.id = self._state.next_id(self.name)  # type: ignore[attr-defined]
        self._rows[obj.id] = copy.deepcopy(obj)  # type: ignore[attr-defined]
        self._seen.append(obj)
        return obj

    def sync(self) -> None:
        for obj in self._seen:
            self._check(obj)
            self._rows[obj.id] = copy.deepcopy(obj)  # type: ignore[attr-defined]

    def forget(self) -> None:
        self._seen = []

    def _by_username(self, username: str) -> D | None:
        """Case-insensitive, ``@`` optional, as Telegram treats usernames."""
        name = username.strip().lstrip("@").lower()
        return self._first(r for r in self._matching() if (r.username or "").lower() == name)  # type: ignore[attr-defined]


class FakeCustomers(FakeStore[Customer]):
    name = "customers"
    record = orm.CustomerRecord

    async def by_telegram_id(self, telegram_id: int) -> Customer | None:
        return self._first(self._matching(telegram_id=telegram_id))

    async def by_email(self, address: str) -> Customer | None:
        return self._first(self._matching(email=address.strip().lower()))

    async def by_username(self, username: str) -> Customer | None:
        return self._by_username(username)


class FakeAgents(FakeStore[Agent]):
    name = "agents"
    record = orm.AgentRecord

    async def by_telegram_id(self, telegram_id: int) -> Agent | None:
        return self._first(self._matching(telegram_id=telegram_id))

    async def by_username(self, username: str) -> Agent | None:
        return self._by_username(username)

    async def list(self, *, active_only: bool = True) -> list[Agent]:
        return self._many(self._matching(active=True) if active_only else self._matching())

    def sync(self) -> None:
        teams = set(self._state.table("teams"))
        for agent in self._seen:  # a team removed meanwhile is left out, as in the database
            agent.team_ids = sorted(set(agent.team_ids) & teams)
        super().sync()


class FakeTeams(FakeStore[Team]):
    name = "teams"
    record = orm.TeamRecord

    async def by_name(self, name: str) -> Team | None:
        return self._first(r for r in self._matching() if r.name.lower() == name.strip().lower())

    async def list(self) -> list[Team]:
        return self._many(sorted(self._matching(), key=lambda t: t.name))

    async def group_of(self, team_id: int) -> int | None:
        team = self._rows.get(team_id)
        return None if team is None else team.group_chat_id

    async def is_group(self, chat_id: int) -> bool:
        return any(t.group_chat_id == chat_id for t in self._rows.values())

    async def remove(self, team: Team) -> None:
        """As the database does: members leave it, its tickets and categories keep none."""
        self._seen = [t for t in self._seen if t is not team]
        del self._rows[team.id]
        for agent in self._state.table("agents").values():
            agent.team_ids = [t for t in agent.team_ids if t != team.id]
        for table in ("tickets", "categories"):
            for row in self._state.table(table).values():
                if row.team_id == team.id:
                    row.team_id = None


class FakeCategories(FakeStore[Category]):
    name = "categories"
    record = orm.CategoryRecord

    async def by_key(self, key: str) -> Category | None:
        return self._first(self._matching(key=key.strip().lower()))

    async def list(self) -> list[Category]:
        return self._many(sorted(self._matching(), key=lambda c: c.key))

    async def remove(self, category: Category) -> None:
        self._seen = [c for c in self._seen if c is not category]
        del self._rows[category.id]


class FakeTickets(FakeStore[Ticket]):
    """Tickets; their recorded events are stored when they are written back."""

    name = "tickets"
    record = orm.TicketRecord

    async def next_number(self) -> int:
        return self._state.next_id("ticket numbers")

    async def add(self, obj: Ticket) -> Ticket:
        if obj.number is None:
            obj.number = await self.next_number()
        return await super().add(obj)

    async def by_number(self, number: int) -> Ticket | None:
        return self._first(self._matching(number=number))

    async def get_for_update(self, ticket_id: int) -> Ticket | None:
        return await self.get(ticket_id)  # one unit of work at a time: nothing to lock

    async def open_counts(self, agent_ids: Sequence[int]) -> dict[int, int]:
        counts: dict[int, int] = {}
        for t in self._rows.values():
            if t.assignee_id in agent_ids and t.status not in _DONE:
                counts[t.assignee_id] = counts.get(t.assignee_id, 0) + 1
        return counts

    async def with_running_sla(self, *, after: int = 0, limit: int | None = None) -> list[Ticket]:
        return await self.with_status(
            TicketStatus.NEW, TicketStatus.OPEN, after=after, limit=limit
        )

    async def with_status(
        self, *statuses: TicketStatus, after: int = 0, limit: int | None = None
    ) -> list[Ticket]:
        found = [t for t in self._matching() if t.status in statuses and (t.id or 0) > after]
        return self._many(found[:limit])

    async def by_topic(self, chat_id: int, thread_id: int) -> Ticket | None:
        return self._first(self._matching(agent_chat_id=chat_id, agent_thread_id=thread_id))

    async def by_card(self, chat_id: int, message_id: int) -> Ticket | None:
        return self._first(self._matching(agent_chat_id=chat_id, card_message_id=message_id))

    async def latest_for_customer(self, customer_id: int) -> Ticket | None:
        mine = [
            t
            for t in self._matching(customer_id=customer_id)
            if t.status is not TicketStatus.CLOSED
        ]
        return self._first(sorted(mine, key=lambda t: (t.updated_at, t.id), reverse=True))

    async def active_summary(self) -> list[tuple[int | None, str, bool, bool, int]]:
        counts: dict[tuple[int | None, str, bool, bool], int] = {}
        for t in self._rows.values():
            if t.status not in _DONE:
                key = (t.team_id, str(t.status), t.sla_breached, t.needs_human)
                counts[key] = counts.get(key, 0) + 1
        return [(*key, n) for key, n in counts.items()]

    async def for_customer(self, customer_id: int, *, limit: int | None = 20) -> list[Ticket]:
        return self._many(self._matching(customer_id=customer_id)[::-1][:limit])

    def sync(self) -> None:
        for ticket in self._seen:
            for event in ticket.take_events():
                stored = replace(event, ticket_id=ticket.id, id=len(self._state.events) + 1)
                self._state.events.append(stored)
        super().sync()


class FakeMessages(FakeStore[TicketMessage]):
    name = "messages"
    record = orm.TicketMessageRecord

    async def by_customer_side(self, chat_id: int, message_id: int) -> TicketMessage | None:
        return self._first(
            self._matching(customer_chat_id=chat_id, customer_message_id=message_id)
        )

    async def by_agent_side(self, chat_id: int, message_id: int) -> TicketMessage | None:
        return self._first(self._matching(agent_chat_id=chat_id, agent_message_id=message_id))

    async def album_part(self, chat_id: int, media_group_id: str) -> TicketMessage | None:
        return self._first(self._matching(customer_chat_id=chat_id, media_group_id=media_group_id))

    async def customer_messages_since(self, chat_id: int, since: datetime) -> int:
        return sum(1 for m in self._from_customer(chat_id) if m.sent_at >= since)

    async def for_ticket(self, ticket_id: int) -> list[TicketMessage]:
        return self._many(self._matching(ticket_id=ticket_id))

    async def last_agent_reply(self, ticket_id: int) -> TicketMessage | None:
        replies = self._matching(ticket_id=ticket_id, direction=MessageDirection.AGENT)
        return self._first(reversed(replies))

    async def last_from(self, chat_id: int) -> datetime | None:
        return max((m.sent_at for m in self._from_customer(chat_id)), default=None)

    async def move(self, from_ticket: int, to_ticket: int) -> int:
        self.sync()  # pending changes first, then the bulk update
        moved = self._matching(ticket_id=from_ticket)
        for message in [*moved, *self._seen]:
            if message.ticket_id == from_ticket:  # loaded copies keep in step with the rows
                message.ticket_id = to_ticket
        return len(moved)

    def _from_customer(self, chat_id: int) -> list[TicketMessage]:
        return self._matching(customer_chat_id=chat_id, direction=MessageDirection.CUSTOMER)


class FakeEvents:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    async def status_changes(self, ticket_ids: list[int]) -> dict[int, list[TicketEvent]]:
        found: dict[int, list[TicketEvent]] = {i: [] for i in ticket_ids}
        for event in self._state.events:
            if event.ticket_id in found and event.kind is EventKind.STATUS_CHANGED:
                found[event.ticket_id].append(event)
        return found

    async def for_ticket(self, ticket_id: int, *, limit: int = 200) -> Sequence[TicketEvent]:
        return [e for e in self._state.events if e.ticket_id == ticket_id][:limit]


class FakeOutbox:
    """Calls queued in the unit of work; written, with ids, when it commits."""

    def __init__(self, state: FakeState) -> None:
        self._state = state
        self.queued: list[OutboundCall] = []

    async def add(self, call: OutboundCall, now: datetime) -> OutboundCall:
        call.created_at = now
        self.queued.append(call)
        return call

    async def queued_for_ticket(self, queue: Queue, ticket_id: int) -> list[OutboundCall]:
        return [
            c
            for c in self._state.outbox
            if c.queue == queue and c.ticket_id == ticket_id and c.status is OutboxStatus.PENDING
        ]

    def write_queued(self) -> None:
        for call in self.queued:
            self._state.outbox.append(replace(call, id=len(self._state.outbox) + 1))
        self.queued = []


class FakeDeskSettings:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    async def get(self, key: str) -> str | None:
        return self._state.settings.get(key)

    async def delete(self, key: str) -> None:
        self._state.settings.pop(key, None)

    async def set(self, key: str, value: str) -> None:
        self._state.settings[key] = value


class FakeSlaNotices:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    async def record(
        self, ticket_id: int, kind: str, level: str, clock_start: datetime, now: datetime
    ) -> bool:
        key = (ticket_id, str(kind), str(level), clock_start)
        if key in self._state.sla_notices:
            return False
        self._state.sla_notices.add(key)
        return True


class FakeRatings(FakeStore[Rating]):
    name = "ratings"
    record = orm.RatingRecord

    async def for_ticket(self, ticket_id: int) -> Rating | None:
        return self._first(self._matching(ticket_id=ticket_id))


class FakeCanned(FakeStore[CannedAnswer]):
    name = "canned"
    record = orm.CannedAnswerRecord

    async def versions(self, key: str) -> list[CannedAnswer]:
        return self._many(sorted(self._matching(key=key), key=lambda a: a.language))

    async def list(self) -> list[CannedAnswer]:
        return self._many(sorted(self._matching(), key=lambda a: (a.key, a.language)))

    async def remove(self, key: str, language: str | None = None) -> int:
        gone = [
            i
            for i, a in self._rows.items()
            if a.key == key and (language is None or a.language == language)
        ]
        for i in gone:
            del self._rows[i]
        self._seen = [a for a in self._seen if a.id not in gone]
        return len(gone)


class FakeLabels(FakeStore[LabelledExample]):
    name = "labels"
    record = orm.LabelledExampleRecord

    async def count(self) -> int:
        return len(self._rows)


class FakeIncidents(FakeStore[Incident]):
    """Incidents; their tickets are handed out by the tickets store (so their changes are
    written back with it), as in the SQLAlchemy repository."""

    name = "incidents"
    record = orm.IncidentRecord

    def __init__(self, state: FakeState, tickets: FakeTickets) -> None:
        super().__init__(state)
        self._tickets = tickets

    async def members(self, incident_id: int, *, active_only: bool = False) -> list[Ticket]:
        linked = self._tickets._matching(incident_id=incident_id)
        return self._tickets._many(t for t in linked if not active_only or t.status not in _DONE)

    async def lock(self) -> int:
        return max((i.number for i in self._rows.values()), default=0)

    async def get_for_update(self, incident_id: int) -> Incident | None:
        return await self.get(incident_id)

    async def open(self) -> list[Incident]:
        return self._many(self._matching(status=IncidentStatus.OPEN))

    async def member_subjects(self, incident_id: int, limit: int) -> list[str]:
        tickets = sorted(self._state.table("tickets").items(), reverse=True)
        return [t.subject for _, t in tickets if t.incident_id == incident_id][:limit]

    async def unlinked_since(
        self, since: datetime, *, exclude: int, limit: int
    ) -> list[tuple[int, str]]:
        return [
            (i, t.subject)
            for i, t in sorted(self._state.table("tickets").items(), reverse=True)
            if t.created_at >= since
            and i != exclude
            and t.incident_id is None
            and not t.incident_detached
            and t.merged_into_id is None
            and t.status not in _DONE
        ][:limit]


class FakeSolutions:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    async def put(self, solution: Solution) -> None:
        stored = replace(solution, id=self._state.next_id("solutions"))
        self._state.solutions[solution.ticket_id] = stored

    async def for_ticket(self, ticket_id: int) -> Solution | None:
        return self._state.solutions.get(ticket_id)


class FakeUnitOfWork(AbstractUnitOfWork):
    """A unit of work over a :class:`FakeDatabase` (see the module's docstring)."""

    def __init__(
        self, database: FakeDatabase, *, readonly: bool = False, inbox_update: int | None = None
    ) -> None:
        super().__init__(inbox_update=inbox_update)
        self.database = database
        self.readonly = readonly

    async def __aenter__(self) -> Self:
        self._work = copy.deepcopy(self.database.state)
        self.customers = FakeCustomers(self._work)
        self.agents = FakeAgents(self._work)
        self.teams = FakeTeams(self._work)
        self.categories = FakeCategories(self._work)
        self.tickets = FakeTickets(self._work)
        self.messages = FakeMessages(self._work)
        self.events = FakeEvents(self._work)
        self.outbox = FakeOutbox(self._work)
        self.desk_settings = FakeDeskSettings(self._work)
        self.sla_notices = FakeSlaNotices(self._work)
        self.ratings = FakeRatings(self._work)
        self.canned = FakeCanned(self._work)
        self.labels = FakeLabels(self._work)
        self.solutions = FakeSolutions(self._work)
        self.incidents = FakeIncidents(self._work, self.tickets)
        self._stores: list[FakeStore[Any]] = [
            self.customers,
            self.agents,
            self.teams,
            self.categories,
            self.tickets,
            self.messages,
            self.ratings,
            self.canned,
            self.labels,
            self.incidents,
        ]
        return self

    async def commit(self) -> None:
        if self.readonly:
            raise RuntimeError("a read-only unit of work cannot commit")
        for store in self._stores:
            store.sync()
        self.outbox.write_queued()
        if self.inbox_update_id is not None:
            self._work.processed_updates.add(self.inbox_update_id)
            self.inbox_update_id = None
        self.database.state = copy.deepcopy(self._work)
        self.committed = True

    async def rollback(self) -> None:
        """Back to what was committed: this unit of work's changes are gone."""
        fresh = copy.deepcopy(self.database.state)
        for name in vars(fresh):
            setattr(self._work, name, getattr(fresh, name))
        for store in self._stores:
            store.forget()
        self.outbox.queued = []
