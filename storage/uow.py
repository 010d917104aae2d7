"""Unit of work: one transaction per update or job run; rolls back unless committed."""

from __future__ import annotations

import abc
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import TicketEvent
from storage.delivery import InboxRepository, OutboxRepository
from storage.repositories import (
    AgentRepository,
    CategoryRepository,
    CustomerRepository,
    EventRepository,
    MessageRepository,
    TeamRepository,
    TicketRepository,
)


class AbstractUnitOfWork(abc.ABC):
    customers: CustomerRepository
    agents: AgentRepository
    teams: TeamRepository
    categories: CategoryRepository
    tickets: TicketRepository
    messages: MessageRepository
    events: EventRepository
    inbox: InboxRepository
    outbox: OutboxRepository

    def __init__(self) -> None:
        self.committed_events: list[TicketEvent] = []
        #: Set when this unit of work handles an inbox update: commit marks it processed.
        self.inbox_update_id: int | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()

    @abc.abstractmethod
    async def commit(self) -> None:
        """Write every change made through the repositories, atomically."""

    @abc.abstractmethod
    async def rollback(self) -> None:
        """Forget uncommitted changes (a no-op after a commit)."""


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        super().__init__()
        self._session_factory = session_factory
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        self.session = session = self._session_factory()
        self.customers = CustomerRepository(session)
        self.agents = AgentRepository(session)
        self.teams = TeamRepository(session)
        self.categories = CategoryRepository(session)
        self.tickets = TicketRepository(session)
        self.messages = MessageRepository(session)
        self.events = EventRepository(session)
        self.inbox = InboxRepository(session)
        self.outbox = OutboxRepository(session)
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
        await self.customers.sync()
        await self.agents.sync()
        await self.teams.sync()
        await self.categories.sync()
        await self.messages.sync()
        events = await self.tickets.sync()
        if self.inbox_update_id is not None:
            await self.inbox.mark_done(self.inbox_update_id, datetime.now(UTC))
        await self.session.commit()
        self.committed_events.extend(events)

    async def rollback(self) -> None:
        if self.session is not None:
            await self.session.rollback()
