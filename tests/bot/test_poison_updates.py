"""An update that cannot be read or handled is parked; nothing behind it waits for it.

The real runtime runs here, in-process: long polling (intake) -> inbox -> processor ->
dispatcher -> outbox -> sender -> the emulator. One customer's message makes a handler raise,
and another customer's update is in a shape aiogram cannot parse; both arrive in the middle
of a burst.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiogram.types import Message, TelegramObject

from bot.runtime.intake import Intake
from models.delivery import INBOX_MAX_ATTEMPTS
from tests.support.desk import Desk, customer_texts

pytestmark = pytest.mark.timeout(120)

PEOPLE = ("Ann", "Ben", "Cid")
ROUNDS = 6


class FailOn:
    """An outer message middleware standing for a handler with a bug: raises on one text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.calls = 0

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Message) and event.text == self.text:
            self.calls += 1
            raise RuntimeError("a handler bug met this message")
        return await handler(event, data)


def old_shape_poll(user: dict[str, Any]) -> dict[str, Any]:
    """A private message carrying a poll in a shape aiogram refuses (no voter counts)."""
    return {
        "message": {
            "message_id": 777001,
            "date": 1_700_000_000,
            "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
            "from": user,
            "poll": {"id": "p1", "question": "Which one?", "options": [{"text": "a"}]},
        }
    }


def copies_by_sender(desk: Desk) -> dict[str, list[tuple[int | None, str]]]:
    """Texts of the customers' copies in the agents' group: (topic, text) per customer."""
    found: dict[str, list[tuple[int | None, str]]] = {name: [] for name in PEOPLE}
    for message in desk.emulator.messages_in(desk.group_id, from_bot=True):
        for text in customer_texts(message):  # a card quotes the first
            for name in PEOPLE:
                if text.endswith(f"from {name}") and text.startswith(("msg ", "boom")):
                    found[name].append((message.get("message_thread_id"), text))
    return found


async def test_poison_updates_are_parked_and_everything_else_arrives_in_order(
    desk: Desk,
) -> None:
    emu = desk.emulator
    bug = FailOn("boom from Ann")
    desk.dp.message.outer_middleware(bug)
    people = {name: emu.add_user(name) for name in PEOPLE}
    for i in range(ROUNDS):
        for name, person in people.items():
            emu.user_sends_text(person, f"msg {i} from {name}")
        if i == 2:
            emu.user_sends_text(people["Ann"], "boom from Ann")
        if i == 3:
            emu.inject_raw_update(old_shape_poll(people["Ben"]))

    intake = Intake(
        desk.bot,
        desk.uow_factory,
        allowed_updates=desk.dp.resolve_used_update_types(),
        timeout=1,
        on_stored=desk.processor.wake,
    )
    tasks = [
        asyncio.create_task(intake.run()),
        asyncio.create_task(desk.processor.run()),
        asyncio.create_task(desk.sender.run()),
    ]
    expected = {name: [f"msg {i} from {name}" for i in range(ROUNDS)] for name in PEOPLE}
    try:
        await emu.wait_for(
            lambda _e: all(
                [t for _, t in got] == expected[name]
                for name, got in copies_by_sender(desk).items()
            ),
            timeout=60,
            description="every other message in its topic, in order",
            interval=0.1,
        )
        async with desk.uow_factory() as uow:
            parked = await uow.inbox.parked()
            counts = await uow.inbox.counts()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    got = copies_by_sender(desk)
    for name in PEOPLE:
        topics = {thread for thread, _ in got[name]}
        assert len(topics) == 1, (name, got[name])
        assert None not in topics, (name, got[name])
    assert len({thread for name in PEOPLE for thread, _ in got[name]}) == len(PEOPLE)
    errors = sorted(error or "" for _, _, error in parked)
    assert len(parked) == 2, parked
    assert errors[0].startswith("RuntimeError: a handler bug met this message"), errors
    assert errors[1].startswith("unparsable update: message.poll"), errors
    attempts = {error: n for _, n, error in parked}
    assert attempts[errors[0]] == INBOX_MAX_ATTEMPTS
    assert attempts[errors[1]] == 1  # a parse cannot succeed later: parked at once
    assert bug.calls == INBOX_MAX_ATTEMPTS
    assert counts.get("pending", 0) == 0, counts
    # Telegram saw the poll's batch confirmed: the intake did not fetch it over and over.
    assert max(emu.delivery_count(u["update_id"]) for u in emu.emitted_updates) == 1
