"""An edit that would change nothing is never sent: it costs the chat's budget all the same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot
from sqlalchemy import select

from bot.runtime.sender import RateLimits, Sender
from bot.sandbox.emulator import BotApiEmulator
from models.delivery import OutboundCall, OutboxStatus
from storage.orm import OutboxRecord
from tests.support.session import make_bot

KEYBOARD = {"inline_keyboard": [[{"text": "Claim", "callback_data": "claim"}]]}
OTHER_KEYBOARD = {"inline_keyboard": [[{"text": "Release", "callback_data": "release"}]]}


async def send_all(sender: Sender, uow_factory: Any, *calls: OutboundCall) -> list[str]:
    """Queue ``calls``, drain them, and return each one's final status."""
    async with uow_factory() as uow:
        for call in calls:
            await uow.outbox.add(call, datetime.now(UTC))
        await uow.commit()
    await sender.flush()
    async with uow_factory() as uow:
        # The calls just queued are the newest rows.
        newest = select(OutboxRecord.status).order_by(OutboxRecord.id.desc()).limit(len(calls))
        statuses = list((await uow.session.scalars(newest)).all())
    return statuses[::-1]


def edits(emulator: BotApiEmulator) -> list[str]:
    return [c.method for c in emulator.calls if c.method.startswith("editMessage")]


@dataclass
class World:
    emulator: BotApiEmulator
    bot: Bot
    sender: Sender
    chat: int


@pytest.fixture
async def world(uow_factory: Any) -> AsyncIterator[World]:
    """A sender delivering to the emulator, and a customer's private chat."""
    emulator = BotApiEmulator()
    bot = make_bot(emulator)
    sender = Sender(bot, uow_factory, RateLimits(1000, 100000, 1000))
    try:
        yield World(emulator, bot, sender, emulator.add_user("Ann")["id"])
    finally:
        await bot.session.close()


async def test_an_edit_is_made_only_when_it_changes_what_the_message_shows(
    world: World, uow_factory: Any
) -> None:
    emulator, sender, chat = world.emulator, world.sender, world.chat
    card = {"chat_id": chat, "text": "<b>#1</b> New", "parse_mode": "HTML"}
    await send_all(
        sender,
        uow_factory,
        OutboundCall(chat, "sendMessage", card | {"reply_markup": KEYBOARD}),
    )
    message_id = emulator.messages_in(chat, from_bot=True)[-1]["message_id"]
    edit = card | {"message_id": message_id, "reply_markup": KEYBOARD}

    # What the card shows already: not sent at all.
    same = await send_all(sender, uow_factory, OutboundCall(chat, "editMessageText", edit))
    assert same == [str(OutboxStatus.SKIPPED)]
    assert edits(emulator) == []
    assert sender.unchanged_skipped == 1

    # A new text is sent; then the same text again is not.
    changed = edit | {"text": "<b>#1</b> Open"}
    statuses = await send_all(
        sender,
        uow_factory,
        OutboundCall(chat, "editMessageText", changed),
        OutboundCall(chat, "editMessageText", changed),
    )
    assert statuses == [str(OutboxStatus.SENT), str(OutboxStatus.SKIPPED)]
    assert edits(emulator) == ["editMessageText"]

    # The keyboard alone: the same keyboard is skipped, another one is sent.
    keyboard = {"chat_id": chat, "message_id": message_id}
    statuses = await send_all(
        sender,
        uow_factory,
        OutboundCall(chat, "editMessageReplyMarkup", keyboard | {"reply_markup": KEYBOARD}),
        OutboundCall(chat, "editMessageReplyMarkup", keyboard | {"reply_markup": OTHER_KEYBOARD}),
    )
    assert statuses == [str(OutboxStatus.SKIPPED), str(OutboxStatus.SENT)]
    # The text is as it was, the keyboard is new: the text edit with the old keyboard
    # changes something (the keyboard), and one without a keyboard removes it.
    statuses = await send_all(
        sender,
        uow_factory,
        OutboundCall(chat, "editMessageText", changed),
        OutboundCall(
            chat, "editMessageText", {k: v for k, v in changed.items() if k != "reply_markup"}
        ),
    )
    assert statuses == [str(OutboxStatus.SENT), str(OutboxStatus.SENT)]
    shown = emulator.messages_in(chat, from_bot=True)[-1]
    assert shown["text"] == "#1 Open"
    assert "reply_markup" not in shown
    # Telegram never answered "message is not modified": no call was wasted.
    assert all(c.ok for c in emulator.calls), [c.describe() for c in emulator.calls]


async def test_an_unknown_message_is_edited_and_then_known(world: World, uow_factory: Any) -> None:
    """No record (a message from before the upgrade, or forgotten by housekeeping): the edit is
    sent; Telegram's "not modified" answer is an outcome, and from then on the state is known."""
    emulator, sender, chat = world.emulator, world.sender, world.chat
    sent = await world.bot.send_message(chat, "Ticket #1", reply_markup=None)
    edit = {"chat_id": chat, "message_id": sent.message_id, "text": "Ticket #1"}
    statuses = await send_all(
        sender,
        uow_factory,
        OutboundCall(chat, "editMessageText", edit),
        OutboundCall(chat, "editMessageText", edit),
    )
    assert statuses == [str(OutboxStatus.SENT), str(OutboxStatus.SKIPPED)]
    answers = [c.response for c in emulator.calls if c.method == "editMessageText"]
    assert len(answers) == 1
    assert answers[0] is not None
    assert "message is not modified" in answers[0]["description"]
