"""The fake repositories of domain objects (see :mod:`tests.support.fake_uow`): loads hand out
copies, changes are written back when the unit of work commits."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from models import (
    Agent,
    CannedAnswer,
    Category,
    Customer,
    MessageDirection,
    Team,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketStatus,
)
from models.delivery import OutboundCall
from models.incidents import Incident, IncidentStatus
from models.solutions import Solution
from models.ticket import Rating
from models.training import LabelledExample
from storage import orm

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
    shown: dict[tuple[int, int], Any] = field(default_factory=dict)  # by (chat, message) id
    idempotency: dict[tuple[int, str], Any] = field(default_factory=dict)  # by (key id, key)
    solutions: dict[int, Solution] = field(default_factory=dict)  # by ticket id
    processed_updates: set[int] = field(default_factory=set)
    last_ids: dict[str, int] = field(default_factory=dict)

    def table(self, name: str) -> dict[int, Any]:
        return self.tables.setdefault(name, {})

    def next_id(self, name: str) -> int:
        self.last_ids[name] = self.last_ids.get(name, 0) + 1
        return self.last_ids[name]


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

    async def placed_in(self, chat_id: int) -> bool:
        return bool(self._matching(agent_chat_id=chat_id))

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


class FakeRatings(FakeStore[Rating]):
    name = "ratings"
    record = orm.RatingRecord

    async def for_ticket(self, ticket_id: int) -> Rating | None:
        return self._first(self._matching(ticket_id=ticket_id))

    async def by_prompt(self, prompt_message_id: int) -> Rating | None:
        return self._first(self._matching(prompt_message_id=prompt_message_id))


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

    async def all(self) -> list[LabelledExample]:
        """The newest label per ticket (a label without a ticket stands alone), in the order
        of each ticket's first label, as the SQLAlchemy repository returns them."""
        latest: dict[object, LabelledExample] = {}
        for label in self._matching():
            latest[label.ticket_id if label.ticket_id is not None else ("row", label.id)] = label
        return self._many(latest.values())

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
