"""The sender never re-sends a call whose delivery finished while the next calls were read."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.runtime.sender import Sender
from models.delivery import OutboundCall


class SlowHeads:
    """A read-only unit of work whose outbox answers only when the test says so."""

    def __init__(self, gate: asyncio.Event, heads: list[OutboundCall]) -> None:
        self.gate, self.heads_result = gate, heads
        self.outbox = self

    async def __aenter__(self) -> SlowHeads:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def heads(self) -> list[OutboundCall]:
        await self.gate.wait()
        return self.heads_result


async def test_a_chat_that_finished_during_the_read_is_not_sent_again() -> None:
    gate = asyncio.Event()
    stale = OutboundCall(chat_id=42, method="sendMessage", params={}, id=7)
    other = OutboundCall(chat_id=43, method="sendMessage", params={}, id=8)
    started: list[int] = []

    def factory(**_: Any) -> SlowHeads:
        return SlowHeads(gate, [stale, other])

    sender = Sender(bot=None, uow_factory=factory)  # type: ignore[arg-type]

    async def fake_deliver(call: OutboundCall, _lease: object = None) -> None:
        started.append(call.chat_id)

    sender._deliver = fake_deliver  # type: ignore[method-assign]
    reading = asyncio.create_task(sender._dispatch_due())
    await asyncio.sleep(0)  # the read is under way
    sender._finished(stale.queue)  # chat 42's previous delivery (call 7) completes meanwhile
    gate.set()
    await reading
    await asyncio.sleep(0)
    assert started == [43]
