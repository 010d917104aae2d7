"""A stopping sender leaves nothing running: calls still waiting for their budget are
cancelled (not sent, still queued for the next start) once the grace period is over."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import TracebackType

from models.delivery import OutboxStatus
from tests.support.desk import make_desk


class Closed:
    """A budget that never opens (a group whose minute is spent, for good); ``reached`` is
    set when a call starts waiting for it."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()

    async def __aenter__(self) -> None:
        self.reached.set()
        await asyncio.Event().wait()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


async def test_stopping_cancels_calls_waiting_for_their_budget(tmp_path: Path) -> None:
    desk = await make_desk(tmp_path)
    try:
        ann = desk.emulator.add_user("Ann")
        desk.emulator.user_sends_text(ann, "My card was charged twice")
        await desk.step(drain=False)
        budget = desk.sender.global_limiter = Closed()  # type: ignore[assignment]
        running = asyncio.create_task(desk.sender.run())
        await asyncio.wait_for(budget.reached.wait(), 10)  # a delivery waits for the budget
        waiting = list(desk.sender._in_flight.values())
        sent_before = len(desk.emulator.calls)

        started = time.monotonic()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

        assert time.monotonic() - started < 10
        assert all(task.done() for task in waiting)
        assert len(desk.emulator.calls) == sent_before  # nothing went out on the way down
        async with desk.uow_factory(readonly=True) as uow:
            heads = await uow.outbox.heads()
        assert heads
        assert all(call.status is OutboxStatus.PENDING for call in heads)
    finally:
        await desk.close()
