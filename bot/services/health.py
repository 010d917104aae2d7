"""What admins see about the machinery: queues, failures, the sender's counters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.services.auth import require_agent
from bot.services.ports import TelegramUser
from models import Role
from models.delivery import InboxStatus, OutboundCall
from storage import AbstractUnitOfWork


class SenderCounters(Protocol):
    sent_count: int
    retry_after_count: int
    unchanged_skipped: int

    @property
    def errors(self) -> Mapping[str, int]: ...


@dataclass(frozen=True)
class Health:
    inbox_pending: int
    inbox_parked: int
    inbox_oldest_pending_s: float
    outbox_pending: int
    outbox_oldest_pending_s: float
    outbox_failed: int
    outbox_unknown: int
    sent_since_start: int
    rate_limited_since_start: int


@dataclass(frozen=True)
class Failures:
    parked_updates: list[tuple[int, int, str | None]]
    failed_calls: list[OutboundCall]


async def health(
    uow: AbstractUnitOfWork, user: TelegramUser, counters: SenderCounters, now: datetime
) -> Health:
    """``/health`` for admins."""
    await require_agent(uow, user, Role.ADMIN)
    return await queue_state(uow, counters, now)


async def queue_state(uow: AbstractUnitOfWork, counters: SenderCounters, now: datetime) -> Health:
    """The queues and counters, for ``/health`` and the metrics endpoint."""
    inbox = await uow.inbox.counts()
    oldest_in = await uow.inbox.oldest_pending()
    outbox = await uow.outbox.stats(now)
    return Health(
        inbox_pending=inbox.get(str(InboxStatus.PENDING), 0),
        inbox_parked=inbox.get(str(InboxStatus.PARKED), 0),
        inbox_oldest_pending_s=(now - oldest_in).total_seconds() if oldest_in else 0.0,
        outbox_pending=int(outbox["pending"]),  # type: ignore[call-overload]
        outbox_oldest_pending_s=float(outbox["oldest_pending_s"]),  # type: ignore[arg-type]
        outbox_failed=int(outbox["failed"]),  # type: ignore[call-overload]
        outbox_unknown=int(outbox["unknown"]),  # type: ignore[call-overload]
        sent_since_start=counters.sent_count,
        rate_limited_since_start=counters.retry_after_count,
    )


async def failures(uow: AbstractUnitOfWork, user: TelegramUser) -> Failures:
    await require_agent(uow, user, Role.ADMIN)
    return Failures(await uow.inbox.parked(), await uow.outbox.failed())
