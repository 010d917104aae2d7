"""Calls queued in a transaction are written at its commit, in order, and never after a
rollback."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from models.delivery import Channel, Lane, OutboundCall

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def call(chat_id: int, text: str, lane: Lane = Lane.REPLY) -> OutboundCall:
    return OutboundCall(chat_id, "sendMessage", {"chat_id": chat_id, "text": text}, lane=lane)


async def test_queued_calls_are_written_at_commit_in_the_order_queued(uow_factory: Any) -> None:
    async with uow_factory() as uow:
        for i in range(5):
            await uow.outbox.add(call(1, f"m{i}"), NOW)
        async with uow_factory(readonly=True) as other:
            # nothing before the commit
            assert await other.outbox.next_in((Channel.TELEGRAM, 1)) is None
        await uow.commit()
    texts = []
    async with uow_factory() as uow:
        while (head := await uow.outbox.next_in((Channel.TELEGRAM, 1))) is not None:
            texts.append(head.params["text"])
            await uow.outbox.mark_sent(head.id, {"message_id": 1}, NOW)
        await uow.commit()
    assert texts == [f"m{i}" for i in range(5)]


async def test_a_rollback_forgets_queued_calls(uow_factory: Any) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add(call(2, "dropped"), NOW)
        await uow.rollback()
        await uow.outbox.add(call(2, "kept"), NOW)
        await uow.commit()
    async with uow_factory() as uow:
        head = await uow.outbox.next_in((Channel.TELEGRAM, 2))
    assert head is not None
    assert head.params["text"] == "kept"
    assert head.id is not None
