"""The customer's own menus and changes (bot.services.conversation): /new, /mytickets, a
ticket's view, edits, closing and reopening their tickets, the language, rating comments."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.adapters.presenter import Presenter
from bot.services import conversation
from bot.services.conversation import DeskConfig, Incoming
from bot.services.ports import TelegramUser
from models import Customer, MessageDirection, Ticket, TicketMessage, TicketNotFound, TicketStatus
from models.ticket import Rating
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, FakeTriage, customer_and_ticket, sent, store

ANN = TelegramUser(id=501, first_name="Ann")  # customer_and_ticket's customer
IN_TOPIC = {"agent_chat_id": AGENTS_CHAT, "agent_thread_id": 5, "card_message_id": 9}


def texts(db: FakeDatabase) -> list[str]:
    return [str(c.params.get("text")) for c in db.outbox]


async def test_new_makes_the_next_message_open_a_ticket(
    db: FakeDatabase, presenter: Presenter
) -> None:
    await customer_and_ticket(db, status=TicketStatus.OPEN)  # open: a message would join it
    async with db.uow() as uow:
        await conversation.request_new_ticket(uow, presenter, ANN, "en", T0)
    assert db.rows("customers")[0].wants_new_ticket
    assert "your next message starts a new ticket" in texts(db)[0]
    for n in (1, 2):  # the second message joins the new ticket
        msg = Incoming(ANN, ANN.id, n, T0, text=f"another question {n}")
        async with db.uow() as uow:
            await conversation.customer_message(
                uow, presenter, FakeTriage(), DeskConfig(AGENTS_CHAT), msg, "en", T0
            )
    tickets = db.rows("tickets")
    assert len(tickets) == 2
    assert [m.ticket_id for m in db.rows("messages")] == [tickets[1].id] * 2
    assert not db.rows("customers")[0].wants_new_ticket


async def test_my_tickets_lists_the_newest_first(db: FakeDatabase, presenter: Presenter) -> None:
    customer, _ = await customer_and_ticket(db, subject="first")
    await store(db, Ticket.open(customer_id=customer.id, subject="second", now=T0))
    async with db.uow() as uow:
        await conversation.show_my_tickets(uow, presenter, ANN, "en", T0)
    (listing,) = texts(db)
    assert listing.index("#2") < listing.index("#1")


async def test_a_tickets_view_shows_the_conversation_not_the_notes(
    db: FakeDatabase, presenter: Presenter
) -> None:
    _, ticket = await customer_and_ticket(db)
    await store(
        db,
        TicketMessage(ticket.id, MessageDirection.CUSTOMER, T0, "my question"),
        TicketMessage(ticket.id, MessageDirection.NOTE, T0, "internal: check the bank"),
        TicketMessage(ticket.id, MessageDirection.AGENT, T0, "our answer"),
    )
    await store(db, Customer(telegram_id=777, first_name="Eve", created_at=T0))
    eve = TelegramUser(id=777, first_name="Eve")
    async with db.uow() as uow:
        await conversation.show_ticket_to_customer(uow, presenter, ANN, ticket.id, T0)
        with pytest.raises(TicketNotFound):  # someone else's ticket looks missing
            await conversation.show_ticket_to_customer(uow, presenter, eve, ticket.id, T0)
    (view,) = texts(db)
    assert "my question" in view
    assert "our answer" in view
    assert "check the bank" not in view


async def test_an_edit_reaches_the_agents_and_the_card_that_quotes_it(
    db: FakeDatabase, presenter: Presenter
) -> None:
    _, ticket = await customer_and_ticket(db, **IN_TOPIC)
    quoted = TicketMessage(
        ticket.id,
        MessageDirection.CUSTOMER,
        T0,
        "old",
        customer_chat_id=ANN.id,
        customer_message_id=40,
        on_card=True,
    )
    await store(db, quoted)
    edited = Incoming(ANN, ANN.id, 40, T0, text="new")
    async with db.uow() as uow:
        assert await conversation.customer_edited(uow, presenter, edited, T0)
        assert not await conversation.customer_edited(uow, presenter, edited, T0)
    stored = db.row("messages", quoted.id)
    assert (stored.text, stored.edited) == ("new", True)
    assert sent(db)[-1] == (AGENTS_CHAT, "editMessageText")


async def test_the_customer_closes_and_reopens_their_ticket(
    db: FakeDatabase, presenter: Presenter
) -> None:
    _, ticket = await customer_and_ticket(db, status=TicketStatus.WAITING, **IN_TOPIC)
    async with db.uow() as uow:
        assert await conversation.customer_sets_status(uow, presenter, ANN, ticket.id, True, T0)
    assert db.row("tickets", ticket.id).status is TicketStatus.CLOSED
    assert "The customer closed the ticket." in " ".join(texts(db))
    later = T0 + timedelta(hours=1)
    async with db.uow() as uow:
        assert await conversation.customer_sets_status(
            uow, presenter, ANN, ticket.id, False, later
        )
    assert db.row("tickets", ticket.id).status is TicketStatus.OPEN
    assert "The customer reopened the ticket." in " ".join(texts(db))


async def test_the_language_is_stored(db: FakeDatabase, presenter: Presenter) -> None:
    async with db.uow() as uow:
        await conversation.set_language(uow, presenter, ANN, "de", T0)
    assert db.rows("customers")[0].language == "de"
    assert sent(db) == [(ANN.id, "sendMessage")]


async def test_a_reply_to_the_rating_thanks_is_its_comment_once(
    db: FakeDatabase, presenter: Presenter
) -> None:
    _, ticket = await customer_and_ticket(
        db, status=TicketStatus.RESOLVED, resolved_at=T0, **IN_TOPIC
    )
    await store(db, Rating(ticket_id=ticket.id, score=4, rated_at=T0, prompt_message_id=77))
    for text in ("quick and kind", "and another thing"):
        msg = Incoming(ANN, ANN.id, 80, T0, text=text, reply_to_message_id=77)
        async with db.uow() as uow:
            result = await conversation.customer_message(
                uow, presenter, FakeTriage(), DeskConfig(AGENTS_CHAT), msg, "en", T0
            )
        assert result.ticket.id == ticket.id
    (rating,) = db.rows("ratings")
    assert rating.comment == "quick and kind"
    assert db.row("tickets", ticket.id).status is TicketStatus.RESOLVED  # not reopened
    assert db.rows("messages") == []
    assert sent(db) == [(ANN.id, "sendMessage"), (AGENTS_CHAT, "editMessageText")]
