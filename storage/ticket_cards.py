"""Tickets with what they refer to, as the REST API shows them, read as plain rows.

A page of 50 tickets through the ORM took eight statements (the tickets, their customers,
teams, agents, ratings, merge targets one by one, status history) and built a tracked record
for every row: most of a page's time. Here one Core statement reads the tickets joined with
their customer, team, assignee, rating and merge target, and a second one the status changes
of the active ones (their SLA clocks' pauses); rows become domain objects through the same
mapping as records do (:func:`storage.mappers.from_row`), so a ticket read here is equal to
one read through :class:`storage.tickets.TicketRepository` (and so is its ETag). Nothing read
here is tracked: these objects are for showing, never written back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Agent, Customer, Team, Ticket, TicketEvent
from models.ticket import Rating
from storage import mappers
from storage.orm import (
    AgentRecord,
    CustomerRecord,
    RatingRecord,
    TeamRecord,
    TicketEventRecord,
    TicketRecord,
)


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


_TICKETS = TicketRecord.__table__
_MERGED_INTO = _TICKETS.alias("merged_into")
#: (domain class, record class, table or alias) of each part of a row, in row order.
_PARTS: list[tuple[type, type[Any], Any]] = [
    (Ticket, TicketRecord, _TICKETS),
    (Customer, CustomerRecord, CustomerRecord.__table__),
    (Team, TeamRecord, TeamRecord.__table__),
    (Agent, AgentRecord, AgentRecord.__table__),
    (Rating, RatingRecord, RatingRecord.__table__),
]


def _columns() -> tuple[list[Any], list[slice]]:
    columns: list[Any] = []
    slices = []
    for domain_cls, record_cls, table in _PARTS:
        own = [table.c[c.name] for c in mappers.columns_for(domain_cls, record_cls)]
        slices.append(slice(len(columns), len(columns) + len(own)))
        columns += own
    return [*columns, _MERGED_INTO.c.number], slices


_COLUMNS, _SLICES = _columns()
#: Built once: coercing its ~80 columns took a tenth of a page's time.
_SELECT = select(*_COLUMNS)
#: Where each part's id is in its slice (None there: an outer join found nothing).
_ID_AT = [[c.name for c in mappers.columns_for(cls, rec)].index("id") for cls, rec, _t in _PARTS]


def _joined(chosen: Any) -> Any:
    """The chosen tickets (a subquery of ids) joined with what they refer to."""
    customers, teams, agents, ratings = (p[2] for p in _PARTS[1:])
    return (
        chosen.join(_TICKETS, _TICKETS.c.id == chosen.c.id)
        .outerjoin(customers, customers.c.id == _TICKETS.c.customer_id)
        .outerjoin(teams, teams.c.id == _TICKETS.c.team_id)
        .outerjoin(agents, agents.c.id == _TICKETS.c.assignee_id)
        .outerjoin(ratings, ratings.c.ticket_id == _TICKETS.c.id)
        .outerjoin(_MERGED_INTO, _MERGED_INTO.c.id == _TICKETS.c.merged_into_id)
    )


def _card(row: Sequence[Any]) -> TicketCard:
    parts: list[Any] = []
    for (domain_cls, record_cls, _table), part, id_at in zip(_PARTS, _SLICES, _ID_AT, strict=True):
        values = row[part]
        found = values[id_at] is not None
        parts.append(mappers.from_row(domain_cls, record_cls, values) if found else None)
    ticket, customer, team, assignee, rating = parts
    return TicketCard(ticket, customer, team, assignee, rating, row[-1])


class TicketCards:
    """Read-only: tickets by page, number or id, each with what it refers to."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(
        self,
        *,
        statuses: Sequence[str] = (),
        team_id: int | None = None,
        category: str | None = None,
        customer_telegram_id: int | None = None,
        assignee_id: int | None = None,
        unassigned: bool = False,
        priority: str | None = None,
        not_sure: bool = False,
        breached: bool = False,
        created_since: datetime | None = None,
        updated_since: datetime | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> Cards:
        """Tickets matching every given filter, newest first, ``limit`` of them with ids below
        ``before_id`` (a cursor: pages stay stable while new tickets arrive)."""
        t = TicketRecord
        conditions: list[Any] = []
        if statuses:
            conditions.append(t.status.in_(list(statuses)))
        if team_id is not None:
            conditions.append(t.team_id == team_id)
        if category is not None:
            conditions.append(t.category == category)
        if customer_telegram_id is not None:
            customer = select(CustomerRecord.id).where(
                CustomerRecord.telegram_id == customer_telegram_id
            )
            conditions.append(t.customer_id == customer.scalar_subquery())
        if assignee_id is not None:
            conditions.append(t.assignee_id == assignee_id)
        if unassigned:
            conditions.append(t.assignee_id.is_(None))
        if priority is not None:
            conditions.append(t.priority == priority)
        if not_sure:
            conditions.append(t.needs_human.is_(True))
        if breached:
            conditions.append(t.sla_breached.is_(True))
        if created_since is not None:
            conditions.append(t.created_at >= created_since)
        if updated_since is not None:
            conditions.append(t.updated_at >= updated_since)
        if before_id is not None:
            conditions.append(t.id < before_id)
        return await self._read(
            select(t.id).where(*conditions).order_by(t.id.desc()).limit(_inline(limit))
        )

    async def by_number(self, number: int) -> Cards:
        return await self._read(select(TicketRecord.id).where(TicketRecord.number == number))

    async def by_ids(self, ids: Sequence[int]) -> Cards:
        """The tickets with these ids (newest first; unknown ids are left out)."""
        if not ids:
            return Cards()
        return await self._read(select(TicketRecord.id).where(TicketRecord.id.in_(set(ids))))

    async def _read(self, chosen: Select[Any]) -> Cards:
        picked = chosen.subquery("picked")
        rows = await self.session.execute(
            _SELECT.select_from(_joined(picked)).order_by(_TICKETS.c.id.desc())
        )
        cards = [_card(row) for row in rows]
        active = [c.ticket.id for c in cards if c.ticket.is_active and c.ticket.id is not None]
        return Cards(cards, await self._status_changes(active))

    async def _status_changes(self, ticket_ids: list[int]) -> dict[int, list[TicketEvent]]:
        found: dict[int, list[TicketEvent]] = {i: [] for i in ticket_ids}
        if not ticket_ids:
            return found
        e = TicketEventRecord
        rows = await self.session.execute(
            select(*TicketEventRecord.__table__.c)
            .where(e.ticket_id.in_(ticket_ids), e.kind == "status_changed")
            .order_by(e.id)
        )
        for row in rows:
            found[row.ticket_id].append(mappers.event_from(row))
        return found


def _inline(limit: int) -> Any:
    """The page size written into the statement, not sent as a parameter: PostgreSQL plans a
    prepared statement once (a generic plan) only when it knows how many rows it returns; with
    ``LIMIT $1`` it planned this seven-table join afresh each time (1.4 ms of 2.4)."""
    return bindparam("limit", int(limit), literal_execute=True)
