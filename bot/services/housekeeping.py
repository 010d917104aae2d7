"""Housekeeping: the inbox and outbox keep what was delivered only for a retention period, what
an editable message shows is forgotten when it did not change for as long, and so are the raw
bytes of the mails the email channel applied (their message ids stay, for threading).

Rows are deleted in small batches, each in its own short transaction, so the processor and
the sender (which write to the same tables) never wait long behind the job.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter

from bot.services.ports import UowFactory

#: Rows deleted per transaction.
BATCH = 500


@dataclass(frozen=True)
class PruneReport:
    inbox: int
    outbox: int
    shown: int
    mails: int = 0


async def prune_delivery_log(
    uow_factory: UowFactory, now: datetime, retention: timedelta, *, batch: int = BATCH
) -> PruneReport:
    """Delete processed updates and sent (or skipped) calls older than ``retention``, and what
    messages unchanged for as long show (their next edit is then sent without comparing).

    Parked updates and failed calls stay: ``/failed`` shows them until someone looks; so do
    parked mails' bytes.
    """
    cutoff = now - retention
    counts = [0, 0, 0, 0]
    logs = (attrgetter("inbox"), attrgetter("outbox"), attrgetter("shown"), attrgetter("mail"))
    for index, log in enumerate(logs):
        while True:
            async with uow_factory() as uow:
                deleted = await log(uow).prune(cutoff, batch)
                await uow.commit()
            counts[index] += deleted
            if deleted < batch:
                break
            await asyncio.sleep(0.05)  # let the hot path take the write lock in between
    return PruneReport(inbox=counts[0], outbox=counts[1], shown=counts[2], mails=counts[3])
