"""The fake read-only queries (see :mod:`tests.support.fake_uow`): statistics of a period,
exports and ticket cards, over the same tables as the other fakes, as ``storage.reports`` and
``storage.ticket_cards`` read them."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any

from models import (
    EventKind,
    MessageDirection,
    Rating,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from models.delivery import Channel
from models.message import ticket_channel
from models.stats import TicketHistory
from storage.ports.rows import Cards, TicketCard
from tests.support.fake_stores import FakeState

_STATS_EVENTS = (EventKind.STATUS_CHANGED, EventKind.TRIAGED, EventKind.CATEGORY_CHANGED)


class _Tables:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def _rows(self, table: str) -> list[Any]:
        """Copies of a table's rows in id order."""
        return [copy.deepcopy(r) for _, r in sorted(self._state.table(table).items())]

    def _name(self, table: str, row_id: int | None) -> str | None:
        row = self._state.table(table).get(row_id) if row_id is not None else None
        return None if row is None else str(row.name)

    def _number(self, ticket_id: int | None) -> int:
        return int(self._state.table("tickets")[ticket_id].number)

    def _channel(self, ticket_id: int | None) -> Channel | None:
        return ticket_channel(m for m in self._rows("messages") if m.ticket_id == ticket_id)


class FakeReports(_Tables):
    async def histories(self, start: datetime, end: datetime) -> list[TicketHistory]:
        """Tickets created before the end and still active, changed since the start, or rated
        in the period; with their events up to the end, rating, channel and customer messages
        of the period per channel."""
        ratings = {r.ticket_id: r for r in self._rows("ratings")}
        rated = {i for i, r in ratings.items() if start <= r.rated_at < end}
        tickets = [
            t
            for t in self._rows("tickets")
            if t.created_at < end
            and (t.status.is_active or t.updated_at >= start or t.id in rated)
        ]
        histories = []
        for ticket in tickets:
            events = [
                e
                for e in self._state.events
                if e.ticket_id == ticket.id and e.kind in _STATS_EVENTS and e.at < end
            ]
            arrived = Counter(
                m.channel
                for m in self._rows("messages")
                if m.ticket_id == ticket.id
                and m.direction is MessageDirection.CUSTOMER
                and start <= m.sent_at < end
            )
            histories.append(
                TicketHistory(
                    ticket=ticket,
                    events=tuple(copy.deepcopy(events)),
                    team=self._name("teams", ticket.team_id),
                    rating=ratings.get(ticket.id),
                    channel=self._channel(ticket.id),
                    messages_in=tuple(sorted(arrived.items())),
                )
            )
        return histories

    async def agent_names(self) -> dict[int, str]:
        return {a.id: a.name for a in self._rows("agents")}


class FakeExports(_Tables):
    async def tickets(
        self, start: datetime, end: datetime
    ) -> AsyncIterator[tuple[Ticket, str | None, str | None, Channel | None]]:
        for t in self._rows("tickets"):
            if start <= t.created_at < end:
                team, assignee = (
                    self._name("teams", t.team_id),
                    self._name("agents", t.assignee_id),
                )
                yield t, team, assignee, self._channel(t.id)

    async def messages(
        self, start: datetime, end: datetime
    ) -> AsyncIterator[tuple[int, TicketMessage]]:
        for m in self._rows("messages"):
            if start <= m.sent_at < end:
                yield self._number(m.ticket_id), m

    async def events(
        self, start: datetime, end: datetime
    ) -> AsyncIterator[tuple[int, TicketEvent]]:
        for e in sorted(self._state.events, key=lambda e: e.id or 0):
            if start <= e.at < end:
                yield self._number(e.ticket_id), copy.deepcopy(e)

    async def ratings(self, start: datetime, end: datetime) -> AsyncIterator[tuple[int, Rating]]:
        for r in self._rows("ratings"):
            if start <= r.rated_at < end:
                yield self._number(r.ticket_id), r


class FakeTicketCards(_Tables):
    """Tickets with what they refer to, as ``storage.ticket_cards`` reads them."""

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
        customers = self._state.table("customers").values()
        customer = next((c.id for c in customers if c.telegram_id == customer_telegram_id), None)
        given: list[tuple[object, Callable[[Ticket], bool]]] = [
            (statuses or None, lambda t: str(t.status) in statuses),
            (team_id, lambda t: t.team_id == team_id),
            (category, lambda t: t.category == category),
            (customer_telegram_id, lambda t: customer is not None and t.customer_id == customer),
            (assignee_id, lambda t: t.assignee_id == assignee_id),
            (unassigned or None, lambda t: t.assignee_id is None),
            (priority, lambda t: str(t.priority) == priority),
            (not_sure or None, lambda t: t.needs_human),
            (breached or None, lambda t: t.sla_breached),
            (created_since, lambda t: created_since is not None and t.created_at >= created_since),
            (updated_since, lambda t: updated_since is not None and t.updated_at >= updated_since),
            (before_id, lambda t: before_id is not None and (t.id or 0) < before_id),
        ]
        tests = [test for value, test in given if value is not None]
        chosen = [t for t in self._rows("tickets") if all(test(t) for test in tests)]
        return self._cards(sorted(chosen, key=lambda t: t.id or 0, reverse=True)[:limit])

    async def by_number(self, number: int) -> Cards:
        return self._cards([t for t in self._rows("tickets") if t.number == number])

    async def by_ids(self, ids: Sequence[int]) -> Cards:
        chosen = [t for t in self._rows("tickets") if t.id in ids]
        return self._cards(sorted(chosen, key=lambda t: t.id or 0, reverse=True))

    def _cards(self, tickets: list[Ticket]) -> Cards:
        found = Cards()
        ratings = {r.ticket_id: r for r in self._rows("ratings")}
        for t in tickets:
            merged_into = self._state.table("tickets").get(t.merged_into_id)
            found.cards.append(
                TicketCard(
                    t,
                    self._row("customers", t.customer_id),
                    self._row("teams", t.team_id),
                    self._row("agents", t.assignee_id),
                    ratings.get(t.id),
                    None if merged_into is None else merged_into.number,
                )
            )
            if t.status.is_active:
                found.status_changes[t.id or 0] = [
                    copy.deepcopy(e)
                    for e in sorted(self._state.events, key=lambda e: e.id or 0)
                    if e.ticket_id == t.id and e.kind is EventKind.STATUS_CHANGED
                ]
        return found

    def _row(self, table: str, row_id: int | None) -> Any:
        row = self._state.table(table).get(row_id) if row_id is not None else None
        return copy.deepcopy(row)
