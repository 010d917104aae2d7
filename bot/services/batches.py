"""Scheduled jobs go through many tickets in windows of ids, one short transaction each.

On SQLite a transaction that writes holds the one write lock: a job going through a big desk
in one transaction held up every customer message and every sent call behind it for longer
than the busy timeout. In windows, the hot path gets the lock between two of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.services.ports import UowFactory
from models import Ticket
from storage import AbstractUnitOfWork

#: Tickets a job looks at per transaction.
JOB_BATCH = 200

#: One window: handles the tickets after the given id, commits, and returns the id the next
#: window starts after (None when there are no more).
Step = Callable[[AbstractUnitOfWork, int], Awaitable[int | None]]


async def in_batches(uow_factory: UowFactory, step: Step) -> None:
    """Run ``step`` window after window, each in a unit of work of its own."""
    after: int | None = 0
    while after is not None:
        async with uow_factory() as uow:
            after = await step(uow, after)


def next_after(tickets: list[Ticket], limit: int | None) -> int | None:
    """Where the next window starts: after the last ticket of a full one; None when done."""
    if limit is None or len(tickets) < limit:
        return None
    return tickets[-1].id
