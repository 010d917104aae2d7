"""The website chat widget, the visitor's side (bot.services.widget)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.adapters.presenter import Presenter
from bot.services import widget
from bot.services.conversation import DeskConfig
from models import InvalidInput, MessageDirection, Ticket, TicketNotFound
from models.delivery import Channel
from models.widget import Direction, Visitor, stand_in_chat_id, token_hash
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, FakeTriage, customer_and_ticket

CONFIG = DeskConfig(AGENTS_CHAT)


async def start(
    db: FakeDatabase, name: str | None = "Ann", language: str = "ru"
) -> widget.Started:
    async with db.uow() as uow:
        return await widget.start(uow, name, "Ann@Example.com ", language, CONFIG, T0)


async def post(
    db: FakeDatabase, presenter: Presenter, visitor: Visitor, text: object, client_id: str | None
) -> widget.Posted:
    async with db.uow() as uow:
        return await widget.post(
            uow, presenter, FakeTriage(), CONFIG, visitor, text, client_id, T0
        )


class TestStart:
    async def test_a_visitor_gets_a_token_and_a_customer(self, db: FakeDatabase) -> None:
        started = await start(db)
        visitor = started.visitor
        stored = db.row("widget_visitors", visitor.id)
        assert stored.token_hash == token_hash(started.token) != started.token
        assert (stored.customer_id, stored.email) == (visitor.customer_id, "ann@example.com")
        customer = db.row("customers", visitor.customer_id)
        assert (customer.telegram_id, customer.first_name, customer.language) == (
            stand_in_chat_id(visitor.id),
            "Ann",
            "ru",
        )
        assert customer.visitor

    async def test_an_unnamed_visitor_in_another_language_gets_the_defaults(
        self, db: FakeDatabase
    ) -> None:
        visitor = (await start(db, name=None, language="xx")).visitor
        customer = db.row("customers", visitor.customer_id)
        assert (customer.first_name, customer.language) == (f"Visitor {visitor.id}", "en")

    async def test_a_bad_address_is_refused_and_nothing_stored(self, db: FakeDatabase) -> None:
        async with db.uow() as uow:
            with pytest.raises(InvalidInput):
                await widget.start(uow, "Ann", "not an address", None, CONFIG, T0)
        assert db.rows("customers") == []


class TestAuthenticate:
    async def test_the_token_finds_its_visitor_and_nothing_else_does(
        self, db: FakeDatabase
    ) -> None:
        started = await start(db)
        async with db.uow() as uow:
            assert await widget.authenticate(uow, started.token) == started.visitor
            assert await widget.authenticate(uow, started.token + "x") is None
            assert await widget.authenticate(uow, started.token.removeprefix("hdw_")) is None


class TestPost:
    async def test_a_message_opens_a_ticket_and_joins_the_conversation(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        visitor = (await start(db)).visitor
        posted = await post(db, presenter, visitor, "  My card is blocked ", "c-1")
        [ticket] = db.rows("tickets")
        assert (posted.ticket_number, posted.duplicate) == (ticket.number, False)
        assert ticket.customer_id == visitor.customer_id
        [message] = db.rows("messages")
        assert (message.text, message.channel, message.direction) == (
            "My card is blocked",
            Channel.WEB,
            MessageDirection.CUSTOMER,
        )
        assert message.customer_message_id == posted.message.id
        async with db.uow() as uow:
            [shown] = await widget.conversation(uow, visitor, 0)
        assert (shown.seq, shown.direction, shown.text) == (
            1,
            Direction.VISITOR,
            "My card is blocked",
        )

    async def test_a_retried_send_is_stored_once(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        visitor = (await start(db)).visitor
        first = await post(db, presenter, visitor, "hello", "c-1")
        again = await post(db, presenter, visitor, "hello", "c-1")
        assert again.duplicate
        assert (again.message, again.ticket_number) == (first.message, first.ticket_number)
        assert len(db.rows("messages")) == len(db.rows("widget_messages")) == 1

    @pytest.mark.parametrize(("text", "client_id"), [("   ", None), (42, None), ("hi", "bad id!")])
    async def test_bad_input_is_refused_and_nothing_stored(
        self, db: FakeDatabase, presenter: Presenter, text: object, client_id: str | None
    ) -> None:
        visitor = (await start(db)).visitor
        with pytest.raises(InvalidInput):
            await post(db, presenter, visitor, text, client_id)
        assert db.rows("widget_messages") == db.rows("messages") == []


class TestConversationAndSeen:
    async def test_the_conversation_is_read_after_a_seq(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        visitor = (await start(db)).visitor
        for n in range(3):
            await post(db, presenter, visitor, f"message {n}", None)
        async with db.uow() as uow:
            later = await widget.conversation(uow, visitor, 1, limit=1)
        assert [(m.seq, m.text) for m in later] == [(2, "message 1")]

    async def test_seen_is_recorded(self, db: FakeDatabase) -> None:
        visitor = (await start(db)).visitor
        async with db.uow() as uow:
            await widget.seen(uow, visitor, T0 + timedelta(minutes=5))
        assert db.row("widget_visitors", visitor.id).last_read_at == T0 + timedelta(minutes=5)


class TestVisitorTicket:
    async def test_only_the_visitors_own_tickets(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        visitor = (await start(db)).visitor
        posted = await post(db, presenter, visitor, "hello", None)
        _, someone_elses = await customer_and_ticket(db)
        async with db.uow() as uow:
            own = await widget.visitor_ticket(uow, visitor, posted.ticket_number or 0)
            assert isinstance(own, Ticket)
            with pytest.raises(TicketNotFound):
                await widget.visitor_ticket(uow, visitor, someone_elses.number)
