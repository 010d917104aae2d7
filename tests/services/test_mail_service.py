"""Mails in (bot.services.mail): a person's mail opens a ticket or joins the one it answers,
a machine's is recorded and left alone; the mail's row is settled with its message."""

from __future__ import annotations

from datetime import timedelta

from bot.adapters.presenter import Presenter
from bot.services import mail
from bot.services.conversation import CustomerMessageResult, DeskConfig
from models import Customer, MessageDirection, Ticket
from models.delivery import Channel
from models.mail import InboundMail, MailHeaders, MailStatus, stand_in_chat_id
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, FakeTriage, store

CONFIG = DeskConfig(AGENTS_CHAT)
DESK = "help@desk.example"
ANN = "ann@example.com"


def a_mail(
    message_id: str, subject: str = "Card blocked", text: str = "Please help", **headers: object
) -> InboundMail:
    fields: dict[str, object] = {"sender": ANN, "sender_name": "Ann Smith", **headers}
    return InboundMail(
        MailHeaders(message_id=message_id, subject=subject, **fields),  # type: ignore[arg-type]
        text,
        T0,
    )


async def receive(
    db: FakeDatabase, presenter: Presenter, inbound: InboundMail, at: timedelta = timedelta(0)
) -> CustomerMessageResult | None:
    now = T0 + at
    async with db.uow() as uow:
        stored = await uow.mail.store(inbound.headers.message_id, b"raw", now)
        await uow.commit()
    async with db.uow() as uow:
        return await mail.receive(uow, presenter, FakeTriage(), CONFIG, stored, inbound, DESK, now)


def mail_row(db: FakeDatabase, message_id: str) -> object:
    return next(r for r in db.state.table("mails").values() if r.message_id == message_id)


class TestReceive:
    async def test_a_persons_first_mail_registers_them_and_opens_a_ticket(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        result = await receive(db, presenter, a_mail("m1@x"))
        assert result is not None
        [customer] = db.rows("customers")
        assert (customer.email, customer.first_name, customer.telegram_id) == (
            ANN,
            "Ann Smith",
            stand_in_chat_id(ANN),
        )
        [ticket] = db.rows("tickets")
        assert (ticket.customer_id, ticket.subject) == (customer.id, "Card blocked")
        [message] = db.rows("messages")
        assert (message.channel, message.text, message.ticket_id) == (
            Channel.EMAIL,
            "Please help",
            ticket.id,
        )
        row = mail_row(db, "m1@x")
        assert row.status is MailStatus.DONE  # type: ignore[attr-defined]
        assert message.customer_message_id == row.id  # type: ignore[attr-defined]

    async def test_a_reply_to_the_desks_mail_joins_its_ticket(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        await receive(db, presenter, a_mail("m1@x"))
        [ticket] = db.rows("tickets")
        async with db.uow() as uow:
            await uow.mail.record_sent("desk1@desk", ticket.id, T0)
            await uow.commit()
        reply = a_mail("m2@x", "Re: Card blocked", "still blocked", in_reply_to=("desk1@desk",))
        await receive(db, presenter, reply, timedelta(minutes=5))
        assert len(db.rows("tickets")) == 1
        assert [m.ticket_id for m in db.rows("messages")] == [ticket.id, ticket.id]

    async def test_a_reply_to_their_own_mail_joins_its_ticket(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        await receive(db, presenter, a_mail("m1@x"))
        follow_up = a_mail("m2@x", "Card blocked", "and more", references=("m1@x",))
        await receive(db, presenter, follow_up, timedelta(minutes=5))
        assert len(db.rows("tickets")) == 1

    async def test_a_ticket_number_in_the_subject_joins_only_ones_own_ticket(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        await receive(db, presenter, a_mail("m1@x"))
        [own] = db.rows("tickets")
        bob = Customer(telegram_id=502, first_name="Bob", created_at=T0)
        await store(db, bob)
        someone_elses = Ticket.open(customer_id=bob.id, subject="Bob's", now=T0)
        await store(db, someone_elses)
        await receive(db, presenter, a_mail("m2@x", f"[#{own.number}] more"), timedelta(hours=1))
        stranger = a_mail("m3@x", f"[#{someone_elses.number}] hijack")
        await receive(db, presenter, stranger, timedelta(hours=2))
        by_ticket = {m.customer_message_id: m.ticket_id for m in db.rows("messages")}
        ids = {r.message_id: r.id for r in db.state.table("mails").values()}
        assert by_ticket[ids["m2@x"]] == own.id
        assert by_ticket[ids["m3@x"]] not in (own.id, someone_elses.id)  # a new ticket
        assert len(db.rows("tickets")) == 3

    async def test_a_machines_mail_is_recorded_with_its_reason_and_nothing_else(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        auto = a_mail("m1@x", "Out of office", auto_submitted="auto-replied")
        assert await receive(db, presenter, auto) is None
        row = mail_row(db, "m1@x")
        assert row.status is MailStatus.SKIPPED  # type: ignore[attr-defined]
        assert row.reason is not None  # type: ignore[attr-defined]
        assert db.rows("tickets") == db.rows("customers") == []
        assert db.outbox == []

    async def test_a_known_sender_keeps_their_record_with_the_name_their_mail_gives(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        await receive(db, presenter, a_mail("m1@x"))
        renamed = a_mail("m2@x", "Another thing", sender_name="Ann Jones")
        await receive(db, presenter, renamed, timedelta(hours=1))
        [customer] = db.rows("customers")
        assert customer.first_name == "Ann Jones"
        assert {m.direction for m in db.rows("messages")} == {MessageDirection.CUSTOMER}
