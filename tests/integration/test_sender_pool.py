"""Many chats with due calls never hold more of the database than the sender's slots: the
rest of the pool stays free, and every call is sent and recorded once, in order."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.runtime.sender import RateLimits, Sender
from bot.sandbox.emulator import BotApiEmulator
from models.delivery import OutboundCall
from storage import make_engine
from storage import uow_factory as make_uow_factory
from storage.orm import Base
from tests.support.session import make_bot

CHATS, PER_CHAT, SLOTS = 40, 3, 2


class Counting:
    """A unit-of-work factory that counts how many of its units of work are open at once."""

    def __init__(self, factory: Any) -> None:
        self.factory, self.open, self.most = factory, 0, 0

    def __call__(self, **kwargs: Any) -> Any:
        return _Counted(self, self.factory(**kwargs))


class _Counted:
    def __init__(self, owner: Counting, uow: Any) -> None:
        self.owner, self.uow = owner, uow

    async def __aenter__(self) -> Any:
        self.owner.open += 1
        self.owner.most = max(self.owner.most, self.owner.open)
        return await self.uow.__aenter__()

    async def __aexit__(self, *exc: object) -> None:
        self.owner.open -= 1
        await self.uow.__aexit__(*exc)


async def test_forty_chats_drain_within_the_sender_s_slots(tmp_path: Path) -> None:
    engine = make_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}", pool_size=3, max_overflow=0, pool_timeout=5
    )
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    uow_factory = make_uow_factory(engine)
    emulator = BotApiEmulator()
    people = [emulator.add_user(f"P{i}") for i in range(CHATS)]
    async with uow_factory() as uow:
        for i in range(PER_CHAT):
            for person in people:
                params = {"chat_id": person["id"], "text": f"{i} to {person['id']}"}
                call = OutboundCall(person["id"], "sendMessage", params)
                await uow.outbox.add(call, datetime.now(UTC))
        await uow.commit()
    counting = Counting(uow_factory)
    bot = make_bot(emulator)
    sender = Sender(bot, counting, RateLimits(1000, 100000, 1000), db_slots=SLOTS)
    try:
        await sender.flush()
        async with uow_factory() as uow:
            stats = await uow.outbox.stats(datetime.now(UTC))
    finally:
        await bot.session.close()
        await engine.dispose()
    assert counting.most <= SLOTS
    assert stats["sent"] == CHATS * PER_CHAT
    assert stats["pending"] == 0
    for person in people:
        texts = [m["text"] for m in emulator.messages_in(person["id"], from_bot=True)]
        assert texts == [f"{i} to {person['id']}" for i in range(PER_CHAT)]
