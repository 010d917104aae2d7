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
``AttributeError``. ``tests/services/test_fake_uow.py`` checks that every method of the fakes
(:mod:`tests.support.fake_stores`, :mod:`tests.support.fake_records`,
:mod:`tests.support.fake_delivery`, :mod:`tests.support.fake_reports`,
:mod:`tests.support.fake_widget`) has the signature of its
protocol in :mod:`storage.ports`. What the SQLAlchemy unit of work derives at commit on its own
(webhook deliveries) is not derived here.
"""

from __future__ import annotations

import copy
from typing import Any, Self

from models import TicketEvent
from models.delivery import OutboundCall
from storage import AbstractUnitOfWork
from tests.support.fake_delivery import FakeInbox, FakeMail, FakeShown
from tests.support.fake_records import (
    FakeApiKeys,
    FakeDeskSettings,
    FakeEvents,
    FakeIdempotency,
    FakeOutbox,
    FakeSlaNotices,
    FakeSolutions,
    FakeWebhooks,
)
from tests.support.fake_reports import FakeExports, FakeReports, FakeTicketCards
from tests.support.fake_stores import (
    FakeAgents,
    FakeCanned,
    FakeCategories,
    FakeCustomers,
    FakeIncidents,
    FakeLabels,
    FakeMessages,
    FakeRatings,
    FakeState,
    FakeStore,
    FakeTeams,
    FakeTickets,
)
from tests.support.fake_widget import FakeWidget

__all__ = ["FakeDatabase", "FakeState", "FakeStore", "FakeUnitOfWork"]


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
        self.apikeys = FakeApiKeys(self._work)
        self.webhooks = FakeWebhooks(self._work)
        self.inbox = FakeInbox(self._work)
        self.shown = FakeShown(self._work)
        self.mail = FakeMail(self._work)
        self.reports = FakeReports(self._work)
        self.exports = FakeExports(self._work)
        self.widget = FakeWidget(self._work)
        self.ticket_cards = FakeTicketCards(self._work)
        self.idempotency = FakeIdempotency(self._work)
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
