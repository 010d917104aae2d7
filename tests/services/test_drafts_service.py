"""A similar solved ticket's reply used for this ticket (bot.services.drafts)."""

from __future__ import annotations

import pytest

from bot.adapters.presenter import Presenter
from bot.services import drafts
from models import Agent, InvalidInput, MessageDirection, TicketClosed, TicketStatus
from models.solutions import Solution
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, customer_and_ticket, sent, store

IN_TOPIC = {"agent_chat_id": AGENTS_CHAT, "agent_thread_id": 5, "card_message_id": 9}
REPLY = "Unblock it in the app under Cards, then Unlock."


@pytest.fixture
async def desk(db: FakeDatabase) -> tuple[Agent, int, int]:
    """An agent, a solved ticket with its solution, and a new ticket (their ids)."""
    ann = Agent(telegram_id=11, name="Ann", created_at=T0)
    await store(db, ann)
    _, solved = await customer_and_ticket(db, status=TicketStatus.RESOLVED, resolved_at=T0)
    async with db.uow() as uow:
        await uow.solutions.put(Solution(solved.id, "card blocked", REPLY, T0))
        await uow.commit()
    _, new = await customer_and_ticket(db, status=TicketStatus.OPEN, **IN_TOPIC)
    return ann, solved.id, new.id


async def test_a_draft_is_posted_in_the_topic(
    db: FakeDatabase, presenter: Presenter, desk: tuple[Agent, int, int]
) -> None:
    ann, solved, new = desk
    async with db.uow() as uow:
        await drafts.draft_from(uow, presenter, ann, new, solved, T0)
    assert sent(db) == [(AGENTS_CHAT, "sendMessage")]
    assert REPLY in db.outbox[0].params["text"]
    assert db.rows("messages") == []  # nothing went to the customer


async def test_send_as_is_answers_once(
    db: FakeDatabase, presenter: Presenter, desk: tuple[Agent, int, int]
) -> None:
    ann, solved, new = desk
    async with db.uow() as uow:
        await drafts.send_solution(uow, presenter, ann, new, solved, T0)
    (message,) = db.rows("messages")
    assert (message.ticket_id, message.direction, message.text) == (
        new,
        MessageDirection.AGENT,
        REPLY,
    )
    answered = db.row("tickets", new)
    assert (answered.first_response_at, answered.status) == (T0, TicketStatus.WAITING)
    assert (501, "sendMessage") in sent(db)
    async with db.uow() as uow:
        with pytest.raises(InvalidInput, match="sent already"):
            await drafts.send_solution(uow, presenter, ann, new, solved, T0)
    assert len(db.rows("messages")) == 1


async def test_a_solution_that_is_gone_and_a_closed_ticket_are_refused(
    db: FakeDatabase, presenter: Presenter, desk: tuple[Agent, int, int]
) -> None:
    ann, _, new = desk
    async with db.uow() as uow:
        with pytest.raises(InvalidInput, match="no longer stored"):
            await drafts.draft_from(uow, presenter, ann, new, 404, T0)
    _, closed = await customer_and_ticket(db, status=TicketStatus.CLOSED, closed_at=T0)
    async with db.uow() as uow:
        with pytest.raises(TicketClosed):
            await drafts.send_solution(uow, presenter, ann, closed.id, desk[1], T0)
    assert db.outbox == []
