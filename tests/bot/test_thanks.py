"""A thank-you is not a new problem (issue 20, part 5): through the real dispatcher, in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.triage_model import ModelTriage
from models import MessageDirection, TicketStatus
from tests.support.desk import Desk, card_of, make_desk, open_ticket, press
from triage.compact import CompactTriage

NOTE = "A thank-you from the customer"


@pytest.fixture
async def desk(tmp_path: Path, seed_model: CompactTriage) -> AsyncIterator[Desk]:
    """The bot with the seed model (and so the acknowledgement decision) plugged in."""
    with_model = await make_desk(tmp_path, triage=ModelTriage(seed_model, "seed"))
    yield with_model
    await with_model.close()


def topic_texts(desk: Desk, ticket: object) -> list[str]:
    thread = ticket.agent_thread_id  # type: ignore[attr-defined]
    return [m.get("text") or "" for m in desk.topic_messages(thread)]


async def agent_says(desk: Desk, ticket: object, text: str) -> None:
    thread = ticket.agent_thread_id  # type: ignore[attr-defined]
    desk.emulator.user_sends_text(desk.admin, text, chat_id=desk.group_id, thread_id=thread)
    await desk.step()


async def test_thanks_after_resolve_stays_resolved_and_a_question_reopens(desk: Desk) -> None:
    ann, ticket = await open_ticket(desk)
    await agent_says(desk, ticket, "Refunded the second charge")
    await press(desk, desk.admin, card_of(desk, ticket), "Resolve")
    told = len(desk.texts_to(ann))

    desk.emulator.user_sends_text(ann, "спасибо, всё работает!")
    await desk.step()
    after = await desk.ticket(1)
    assert after.status is TicketStatus.RESOLVED
    assert await desk.ticket(2) is None
    assert "спасибо, всё работает!" in topic_texts(desk, ticket)
    assert any(NOTE in text for text in topic_texts(desk, ticket))
    assert len(desk.texts_to(ann)) == told  # no "open again" for a thank-you
    async with desk.uow_factory() as uow:
        history = await uow.messages.for_ticket(ticket.id)
    assert [m.text for m in history if m.direction is MessageDirection.CUSTOMER][-1] == (
        "спасибо, всё работает!"
    )

    desk.emulator.user_sends_text(ann, "спасибо, но карта всё ещё не работает")
    await desk.step()
    assert (await desk.ticket(1)).status is TicketStatus.OPEN
    assert "open again" in desk.texts_to(ann)[-1]


async def test_a_sticker_or_emoji_does_not_bump_a_waiting_ticket(desk: Desk) -> None:
    ann, ticket = await open_ticket(desk)
    await agent_says(desk, ticket, "Could you send the last four digits of the card?")
    await agent_says(desk, ticket, "/status waiting")
    assert (await desk.ticket(1)).status is TicketStatus.WAITING

    desk.emulator.user_sends_sticker(ann)
    desk.emulator.user_sends_text(ann, "👍")
    await desk.step()
    after = await desk.ticket(1)
    assert after.status is TicketStatus.WAITING
    assert after.awaiting_reply_since is None
    in_topic = desk.topic_messages(ticket.agent_thread_id)
    assert any(m.get("sticker") for m in in_topic)
    assert "👍" in topic_texts(desk, ticket)

    desk.emulator.user_sends_text(ann, "How long will the refund take?")
    await desk.step()
    assert (await desk.ticket(1)).status is TicketStatus.OPEN


async def test_before_any_answer_a_thank_you_is_part_of_the_question(desk: Desk) -> None:
    ann, ticket = await open_ticket(desk)
    desk.emulator.user_sends_text(ann, "thanks!")
    await desk.step()
    assert not any(NOTE in text for text in topic_texts(desk, ticket))
    assert "thanks!" in topic_texts(desk, ticket)
