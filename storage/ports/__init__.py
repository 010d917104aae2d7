"""The unit of work as the services see it: repositories as protocols, and the rows some of
them return. No SQLAlchemy here (an import contract checks it): a test can give a service an
in-memory unit of work (``tests/support/fake_uow.py``), and mypy checks that the SQLAlchemy
repositories (:mod:`storage.uow`) satisfy these protocols.

Each protocol is the whole public surface the application uses. What only the SQLAlchemy unit
of work itself calls on its repositories at commit (``sync``, ``take_added``, the outbox's
queued writes, the webhooks' ``emit``) is no part of it.
"""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self

from storage.ports.records import (
    ApiKeyRepo,
    DeskSettingsRepo,
    EventRepo,
    ExportRepo,
    IdempotencyRepo,
    InboxRepo,
    MailRepo,
    OutboxRepo,
    ReportRepo,
    SearchRepo,
    ShownRepo,
    SlaNoticeRepo,
    SolutionRepo,
    TicketCardRepo,
    WebhookRepo,
    WidgetRepo,
)
from storage.ports.rows import Cards, Delivery, InboxItem, StoredResponse, TicketCard
from storage.ports.stores import (
    AgentRepo,
    CannedRepo,
    CategoryRepo,
    CustomerRepo,
    IncidentRepo,
    LabelRepo,
    MessageRepo,
    RatingRepo,
    Store,
    TeamRepo,
    TicketRepo,
)

__all__ = [
    "AbstractUnitOfWork",
    "AgentRepo",
    "ApiKeyRepo",
    "CannedRepo",
    "Cards",
    "CategoryRepo",
    "CustomerRepo",
    "Delivery",
    "DeskSettingsRepo",
    "EventRepo",
    "ExportRepo",
    "IdempotencyRepo",
    "InboxItem",
    "InboxRepo",
    "IncidentRepo",
    "LabelRepo",
    "MailRepo",
    "MessageRepo",
    "OutboxRepo",
    "RatingRepo",
    "ReportRepo",
    "SearchRepo",
    "ShownRepo",
    "SlaNoticeRepo",
    "SolutionRepo",
    "Store",
    "StoredResponse",
    "TeamRepo",
    "TicketCard",
    "TicketCardRepo",
    "TicketRepo",
    "WebhookRepo",
    "WidgetRepo",
]


class AbstractUnitOfWork(abc.ABC):
    """One transaction over every repository; rolls back unless committed."""

    customers: CustomerRepo
    agents: AgentRepo
    teams: TeamRepo
    categories: CategoryRepo
    tickets: TicketRepo
    ticket_cards: TicketCardRepo
    messages: MessageRepo
    events: EventRepo
    inbox: InboxRepo
    outbox: OutboxRepo
    shown: ShownRepo
    labels: LabelRepo
    desk_settings: DeskSettingsRepo
    sla_notices: SlaNoticeRepo
    ratings: RatingRepo
    canned: CannedRepo
    reports: ReportRepo
    exports: ExportRepo
    webhooks: WebhookRepo
    search: SearchRepo
    solutions: SolutionRepo
    incidents: IncidentRepo
    apikeys: ApiKeyRepo
    idempotency: IdempotencyRepo
    mail: MailRepo
    widget: WidgetRepo

    def __init__(self, *, inbox_update: int | None = None) -> None:
        #: The inbox update this unit of work applies, if any: its first commit marks it
        #: processed, in the same transaction as what the update changed.
        self.inbox_update_id = inbox_update
        self.committed = False

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
