"""Unit of work: one transaction per update or job run; rolls back unless committed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.apikeys import ApiKeyRepository, IdempotencyRepository
from storage.db import make_session_factory
from storage.delivery import InboxRepository, OutboxRepository, ShownRepository
from storage.incidents import IncidentRepository
from storage.mail import MailRepository
from storage.ports import AbstractUnitOfWork
from storage.reports import ExportRepository, ReportRepository
from storage.repositories import (
    AgentRepository,
    CannedRepository,
    CategoryRepository,
    CustomerRepository,
    DeskSettings,
    LabelRepository,
    RatingRepository,
    SlaNoticeRepository,
    TeamRepository,
)
from storage.search import TicketSearch
from storage.solutions import SolutionRepository
from storage.ticket_cards import TicketCards
from storage.tickets import EventRepository, MessageRepository, TicketRepository
from storage.webhooks import WebhookRepository
from storage.widget import WidgetRepository


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    """Unit of work over an ``async_sessionmaker``.

    With ``readonly=True`` it uses ``read_factory`` (sessions that do not take SQLite's write
    lock) and refuses to commit.
    """

    # The repositories themselves: the commit calls what the protocols leave out (sync, ...).
    customers: CustomerRepository
    agents: AgentRepository
    teams: TeamRepository
    categories: CategoryRepository
    tickets: TicketRepository
    ticket_cards: TicketCards
    messages: MessageRepository
    events: EventRepository
    inbox: InboxRepository
    outbox: OutboxRepository
    shown: ShownRepository
    labels: LabelRepository
    desk_settings: DeskSettings
    sla_notices: SlaNoticeRepository
    ratings: RatingRepository
    canned: CannedRepository
    reports: ReportRepository
    exports: ExportRepository
    webhooks: WebhookRepository
    search: TicketSearch
    solutions: SolutionRepository
    incidents: IncidentRepository
    apikeys: ApiKeyRepository
    idempotency: IdempotencyRepository
    mail: MailRepository
    widget: WidgetRepository

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        read_factory: async_sessionmaker[AsyncSession] | None = None,
        *,
        readonly: bool = False,
        inbox_update: int | None = None,
    ) -> None:
        if readonly and inbox_update is not None:
            raise ValueError("a read-only unit of work cannot mark an update processed")
        super().__init__(inbox_update=inbox_update)
        self.readonly = readonly
        if readonly and read_factory is not None:
            session_factory = read_factory
        self._session_factory = session_factory
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        self.session = session = self._session_factory()
        self.customers = CustomerRepository(session)
        self.agents = AgentRepository(session)
        self.teams = TeamRepository(session)
        self.categories = CategoryRepository(session)
        self.tickets = TicketRepository(session)
        self.ticket_cards = TicketCards(session)
        self.messages = MessageRepository(session)
        self.events = EventRepository(session)
        self.inbox = InboxRepository(session)
        self.outbox = OutboxRepository(session)
        self.shown = ShownRepository(session)
        self.labels = LabelRepository(session)
        self.desk_settings = DeskSettings(session)
        self.sla_notices = SlaNoticeRepository(session)
        self.ratings = RatingRepository(session)
        self.canned = CannedRepository(session)
        self.reports = ReportRepository(session)
        self.exports = ExportRepository(session)
        self.webhooks = WebhookRepository(session)
        self.search = TicketSearch(session)
        self.solutions = SolutionRepository(session)
        self.incidents = IncidentRepository(session, self.tickets)
        self.apikeys = ApiKeyRepository(session)
        self.idempotency = IdempotencyRepository(session)
        self.mail = MailRepository(session)
        self.widget = WidgetRepository(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await super().__aexit__(exc_type, exc, tb)
        finally:
            if self.session is not None:
                await self.session.close()
                self.session = None

    async def commit(self) -> None:
        assert self.session is not None, "unit of work used outside 'async with'"
        if self.readonly:
            raise RuntimeError("a read-only unit of work cannot commit")
        await self.customers.sync()
        await self.agents.sync()
        await self.teams.sync()
        await self.categories.sync()
        await self.messages.sync()
        await self.labels.sync()
        await self.ratings.sync()
        await self.canned.sync()
        await self.incidents.sync()
        await self.tickets.sync()
        # Webhook deliveries are derived here, from what this transaction changed, so that no
        # use case can forget one and none is sent for a change that rolled back.
        await self.webhooks.emit(
            self.outbox,
            self.tickets.stored_events,
            self.messages.take_added(),
            self.ratings.take_added(),
            datetime.now(UTC),
        )
        await self.session.flush()  # what the queued calls refer to (tickets) exists first
        await self.outbox.write_queued()
        if self.inbox_update_id is not None:
            await self.inbox.mark_done(self.inbox_update_id, datetime.now(UTC))
            # Marked in this commit; a later commit of the same unit of work must not try again.
            self.inbox_update_id = None
        await self.session.commit()
        self.tickets.stored_events = []
        self.committed = True

    async def rollback(self) -> None:
        if self.session is not None:
            self.outbox.discard_queued()
            await self.session.rollback()


def uow_factory(
    engine: AsyncEngine,
) -> Callable[..., SqlAlchemyUnitOfWork]:
    """``factory()`` for read-write units of work, ``factory(readonly=True)`` for readers,
    ``factory(inbox_update=id)`` for the one that applies a stored update."""
    return partial(
        SqlAlchemyUnitOfWork,
        make_session_factory(engine),
        make_session_factory(engine, readonly=True),
    )
