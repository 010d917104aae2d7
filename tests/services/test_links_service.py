"""One customer across channels (bot.services.links): ``/link`` and ``/unlink``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.adapters.presenter import Presenter
from bot.services import links
from bot.services.ports import TelegramUser
from models import (
    Agent,
    Customer,
    LinkProblem,
    LinkRefused,
    MessageDirection,
    NotAllowed,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from models.links import parse_link
from models.mail import stand_in_chat_id
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, sent, store

AGENT = TelegramUser(id=11, first_name="Ann")
ADDRESS = "ann@example.com"
MAIL_CHAT = stand_in_chat_id(ADDRESS)


@pytest.fixture
async def ann(db: FakeDatabase) -> tuple[Customer, Ticket]:
    """The agent, and a Telegram customer with one ticket."""
    await store(db, Agent(telegram_id=AGENT.id, name="Ann", created_at=T0))
    person = Customer(
        telegram_id=501, first_name="Ann", username="ann_t", language="de", created_at=T0
    )
    await store(db, person)
    ticket = Ticket.open(customer_id=person.id, subject="chat", now=T0)
    await store(db, ticket)
    return person, ticket


async def by_mail(db: FakeDatabase, status: TicketStatus = TicketStatus.OPEN) -> Customer:
    """The address as a customer of its own, with a ticket (``status``) it opened by mail."""
    address = Customer(telegram_id=MAIL_CHAT, first_name="A.", email=ADDRESS, created_at=T0)
    await store(db, address)
    ticket = Ticket.open(customer_id=address.id, subject="mail", now=T0)
    ticket.status = status
    await store(db, ticket)
    return address


async def link(
    db: FakeDatabase, presenter: Presenter, args: str, here: Ticket | None = None
) -> links.Linked:
    async with db.uow() as uow:
        return await links.link(uow, presenter, AGENT, parse_link(args), here, T0)


class TestLink:
    async def test_the_addresss_tickets_become_the_persons(
        self, db: FakeDatabase, presenter: Presenter, ann: tuple[Customer, Ticket]
    ) -> None:
        person, _ = ann
        address = await by_mail(db)
        linked = await link(db, presenter, f"@ann_t {ADDRESS}")
        assert (linked.person.id, linked.address.id, linked.moved) == (person.id, address.id, 1)
        assert linked.replies_to.id == person.id  # the person's chat: they wrote there last
        assert db.row("customers", address.id).linked_to_id == person.id
        assert db.row("customers", address.id).language == "de"  # one person, one language
        assert {t.customer_id for t in db.rows("tickets")} == {person.id}
        assert sent(db) == [(AGENTS_CHAT, "editMessageText")] * 2  # both active cards

    async def test_replies_go_by_mail_when_the_person_mailed_last(
        self, db: FakeDatabase, presenter: Presenter, ann: tuple[Customer, Ticket]
    ) -> None:
        person, ticket = ann
        address = await by_mail(db)
        await store(
            db,
            TicketMessage(ticket.id, MessageDirection.CUSTOMER, T0, "hi", customer_chat_id=501),
            TicketMessage(
                ticket.id,
                MessageDirection.CUSTOMER,
                T0 + timedelta(hours=1),
                "by mail",
                customer_chat_id=MAIL_CHAT,
            ),
        )
        linked = await link(db, presenter, f"#{ticket.number} {ADDRESS}")
        assert linked.replies_to.id == address.id
        assert db.row("customers", person.id).reply_via_id == address.id

    async def test_an_address_that_never_mailed_is_registered(
        self, db: FakeDatabase, presenter: Presenter, ann: tuple[Customer, Ticket]
    ) -> None:
        person, ticket = ann
        linked = await link(db, presenter, ADDRESS, here=ticket)
        assert linked.moved == 0
        stored = db.row("customers", linked.address.id)
        assert (stored.email, stored.telegram_id, stored.linked_to_id) == (
            ADDRESS,
            MAIL_CHAT,
            person.id,
        )

    @pytest.mark.parametrize(
        ("args", "problem"),
        [
            (f"@nobody {ADDRESS}", LinkProblem.UNKNOWN_USERNAME),
            (f"#99 {ADDRESS}", LinkProblem.NO_SUCH_TICKET),
            (f"777 {ADDRESS}", LinkProblem.NOBODY_KNOWN),
            (ADDRESS, LinkProblem.NEEDS_BOTH),
        ],
    )
    async def test_refusals_store_nothing(
        self,
        db: FakeDatabase,
        presenter: Presenter,
        ann: tuple[Customer, Ticket],
        args: str,
        problem: LinkProblem,
    ) -> None:
        with pytest.raises(LinkRefused) as refused:
            await link(db, presenter, args)
        assert refused.value.problem is problem
        assert len(db.rows("customers")) == 1
        assert db.outbox == []

    async def test_an_address_linked_elsewhere_names_the_other(
        self, db: FakeDatabase, presenter: Presenter, ann: tuple[Customer, Ticket]
    ) -> None:
        await by_mail(db)
        await link(db, presenter, f"@ann_t {ADDRESS}")
        await store(db, Customer(telegram_id=502, first_name="Bo", username="bo", created_at=T0))
        with pytest.raises(LinkRefused) as refused:
            await link(db, presenter, f"@bo {ADDRESS}")
        assert refused.value.problem is LinkProblem.LINKED_ELSEWHERE
        assert refused.value.other == "Ann (501)"

    async def test_only_agents_link(self, db: FakeDatabase, presenter: Presenter) -> None:
        async with db.uow() as uow:
            with pytest.raises(NotAllowed):
                await links.link(uow, presenter, AGENT, parse_link(f"@x {ADDRESS}"), None, T0)


class TestUnlink:
    async def test_the_address_is_its_own_again_and_the_tickets_stay(
        self, db: FakeDatabase, presenter: Presenter, ann: tuple[Customer, Ticket]
    ) -> None:
        person, _ = ann
        address = await by_mail(db)
        await link(db, presenter, f"@ann_t {ADDRESS}")
        async with db.uow() as uow:
            await links.unlink(uow, presenter, AGENT, ADDRESS, T0)
        assert db.row("customers", address.id).linked_to_id is None
        assert {t.customer_id for t in db.rows("tickets")} == {person.id}

    @pytest.mark.parametrize(
        ("known", "problem"),
        [(False, LinkProblem.UNKNOWN_ADDRESS), (True, LinkProblem.NOT_LINKED)],
    )
    async def test_refusals(
        self,
        db: FakeDatabase,
        presenter: Presenter,
        ann: tuple[Customer, Ticket],
        known: bool,
        problem: LinkProblem,
    ) -> None:
        if known:
            await by_mail(db)
        async with db.uow() as uow:
            with pytest.raises(LinkRefused) as refused:
                await links.unlink(uow, presenter, AGENT, ADDRESS, T0)
        assert refused.value.problem is problem
