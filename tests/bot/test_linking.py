"""One customer across channels through the real dispatcher: ``/link`` and ``/unlink`` in the
agents' group, mails applied through the mail intake's entry point (no IMAP server: the
intake's ``take`` is what a fetched mail goes through) and the desk's mails received by an
in-process aiosmtpd server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bot.app import mail_intake
from models import MessageDirection
from models.delivery import Channel
from tests.support.desk import Desk, GeneralTriage, card_of, make_desk
from tests.support.desk import open_ticket as telegram_customer_writes
from tests.support.mails import ANN, customer_mail, email_settings
from tests.support.mailservers import Outbox


@pytest.fixture
async def desk(tmp_path: Path, smtp: tuple[Outbox, int]) -> AsyncIterator[Desk]:
    d = await make_desk(tmp_path, **email_settings(smtp[1]))
    yield d
    await d.close()


@pytest.fixture
def mails(smtp: tuple[Outbox, int]) -> list[EmailMessage]:
    """The desk's mails as the customer's mail server received them."""
    return smtp[0].mails


async def mail_arrives(desk: Desk, raw: bytes) -> None:
    """A mail fetched from the mailbox: stored and applied by the desk's intake, then the
    outbox sent."""
    intake = mail_intake(
        desk.settings,
        desk.uow_factory,
        desk.presenter,
        GeneralTriage(),
        desk.dp["desk_config"],
    )
    assert intake is not None
    assert await intake.take(raw)
    await desk.sender.flush(ignore_delays=True)


async def agents_say(desk: Desk, text: str, thread: int | None = None) -> str:
    """The admin writes in the agents' group (a topic, or General); the bot's last answer
    there."""
    desk.emulator.user_sends_text(desk.admin, text, chat_id=desk.group_id, thread_id=thread)
    await desk.step()
    return str(desk.emulator.messages_in(desk.group_id, thread, from_bot=True)[-1]["text"])


async def messages(desk: Desk, ticket: Any) -> list[Any]:
    async with desk.uow_factory() as uow:
        return list(await uow.messages.for_ticket(ticket.id))


async def email_ticket(desk: Desk) -> Any:
    await mail_arrives(desk, customer_mail("m1@example.com", "Refund", "Where is my refund?"))
    async with desk.uow_factory() as uow:
        customer = await uow.customers.by_email(ANN)
        return (await uow.tickets.for_customer(customer.id))[0]


class TestRefusals:
    """Every bad input is answered with what is wrong, and changes nothing."""

    @pytest.mark.parametrize(
        ("command", "answer"),
        [
            ("/link", "Usage: /link <#ticket|Telegram id|@username> <email address>"),
            ("/link a b c", "Usage: /link"),
            ("/link ann@example.com 12345", "Usage: /link"),
            ("/link bob ann@example.com", "“bob” names no Telegram customer"),
            ("/link -100123 ann@example.com", "“-100123” names no Telegram customer"),
            ("/link #x ann@example.com", "“#x” names no Telegram customer"),
            ("/link 12345 ann(at)example.com", "“ann(at)example.com” is not an email address"),
            ("/link #99 ann@example.com", "Ticket #99 does not exist."),
            ("/link @nobody_here ann@example.com", "No customer @nobody_here has written"),
            ("/link 777 nobody@example.com", "Neither that Telegram user nor nobody@example.com"),
            ("/link ann@example.com", "Outside a ticket's topic, name both sides"),
            ("/link 12345", "Outside a ticket's topic, name both sides"),
            ("/unlink", "Usage: /link"),
            ("/unlink nobody@example.com", "Nobody has written from nobody@example.com."),
            ("/unlink not-an-address", "“not-an-address” is not an email address"),
        ],
    )
    async def test_a_bad_command_is_answered_with_the_reason(
        self, desk: Desk, command: str, answer: str
    ) -> None:
        assert answer in await agents_say(desk, command)
        async with desk.uow_factory() as uow:
            assert await uow.customers.by_email("nobody@example.com") is None

    async def test_an_email_customer_is_no_telegram_side(self, desk: Desk) -> None:
        ticket = await email_ticket(desk)
        answer = await agents_say(desk, f"/link #{ticket.number} other@example.com")
        assert f"That customer writes by email ({ANN})" in answer
        answer = await agents_say(desk, "/link other@example.com", ticket.agent_thread_id)
        assert f"That customer writes by email ({ANN})" in answer

    async def test_a_telegram_topic_has_no_address_to_link(self, desk: Desk) -> None:
        _ann, ticket = await telegram_customer_writes(desk, "Ann")
        answer = await agents_say(desk, "/link 12345", ticket.agent_thread_id)
        assert f"The customer of ticket #{ticket.number} does not write by email" in answer

    async def test_an_address_is_linked_once_and_to_one_customer(self, desk: Desk) -> None:
        await email_ticket(desk)
        ann, _t = await telegram_customer_writes(desk, "Ann")
        boris, _t = await telegram_customer_writes(desk, "Boris", "Hello")
        assert "is linked to Ann" in await agents_say(desk, f"/link {ann['id']} {ANN}")
        again = await agents_say(desk, f"/link {ann['id']} {ANN}")
        assert f"{ANN} is already linked to this customer." in again
        other = await agents_say(desk, f"/link {boris['id']} {ANN}")
        assert f"{ANN} is already linked to Ann ({ann['id']}): /unlink {ANN} first." in other
        assert f"{ANN} is no longer linked to Ann" in await agents_say(desk, f"/unlink {ANN}")
        assert f"{ANN} is not linked to anyone." in await agents_say(desk, f"/unlink {ANN}")

    async def test_only_agents_may_link(self, desk: Desk) -> None:
        stranger = desk.emulator.add_user("Mallory")
        desk.emulator.add_member(desk.group_id, stranger)
        await email_ticket(desk)
        desk.emulator.user_sends_text(stranger, f"/link 12345 {ANN}", chat_id=desk.group_id)
        await desk.step()
        async with desk.uow_factory() as uow:
            address = await uow.customers.by_email(ANN)
            assert address.linked_to_id is None
            assert await uow.customers.by_telegram_id(12345) is None


class TestOneCustomer:
    async def test_mail_first_then_telegram_after_linking_is_one_ticket(
        self, desk: Desk, mails: list[EmailMessage]
    ) -> None:
        ticket = await email_ticket(desk)
        thread = ticket.agent_thread_id
        ann = desk.emulator.add_user("Ann", username="ann_lee")
        # In the mail's topic, the Telegram side alone: the topic's address is the other.
        answer = await agents_say(desk, f"/link {ann['id']}", thread)
        assert f"{ANN} is linked to Ann Lee (Telegram id {ann['id']})" in answer
        assert "1 ticket of the address is theirs now." in answer
        assert f"now by email to {ANN}" in answer
        assert f"via email: {ANN}" in card_of(desk, ticket)["text"]

        desk.emulator.user_sends_text(ann, "I also wrote you by mail")
        await desk.step()
        after = await desk.ticket(ticket.number)
        assert after.id == ticket.id  # no second ticket
        assert "via Telegram" in card_of(desk, ticket)["text"]
        assert "Ann (@ann_lee)" in card_of(desk, ticket)["text"]
        kinds = [(m.direction, m.channel) for m in await messages(desk, ticket)]
        assert kinds == [
            (MessageDirection.CUSTOMER, Channel.EMAIL),
            (MessageDirection.CUSTOMER, Channel.TELEGRAM),
        ]

        before = len(mails)
        await agents_say(desk, "The refund is on its way", thread)
        assert "The refund is on its way" in desk.texts_to(ann)
        assert len(mails) == before  # not mailed: they last wrote in Telegram

        # They answer the desk's mail: the same ticket, and the reply goes by mail.
        first = mails[0]["Message-ID"]
        await mail_arrives(
            desk,
            customer_mail("m2@example.com", "Re: [#1] Refund", "Thanks!", In_Reply_To=first),
        )
        assert [m.channel for m in await messages(desk, ticket)][-1] is Channel.EMAIL
        await agents_say(desk, "You are welcome", thread)
        assert "You are welcome" in mails[-1].get_body(("plain",)).get_content()
        assert "You are welcome" not in desk.texts_to(ann)
        assert f"via email: {ANN}" in card_of(desk, ticket)["text"]
        async with desk.uow_factory() as uow:
            assert len(await uow.tickets.for_customer(after.customer_id)) == 1

    async def test_telegram_first_then_a_new_mail_joins_the_open_ticket(
        self, desk: Desk, mails: list[EmailMessage]
    ) -> None:
        ann, ticket = await telegram_customer_writes(desk, "Ann", "My card was charged twice")
        thread = ticket.agent_thread_id
        answer = await agents_say(desk, f"/link {ANN}", thread)
        assert f"{ANN} is linked to Ann" in answer
        assert "now in Telegram" in answer
        assert "via Telegram" in card_of(desk, ticket)["text"]
        # A mail with a subject of its own (no thread, no [#1]) from a linked address: the
        # person's open ticket, not a new one.
        await mail_arrives(desk, customer_mail("n1@example.com", "Card", "Any news?"))
        assert [m.channel for m in await messages(desk, ticket)][-1] is Channel.EMAIL
        assert [
            t["name"][:3] for t in desk.emulator.topics(desk.group_id) if t["name"][0] == "#"
        ] == ["#1 "]
        async with desk.uow_factory() as uow:
            person = await uow.customers.by_telegram_id(ann["id"])
            assert len(await uow.tickets.for_customer(person.id)) == 1
        await agents_say(desk, "Refunded today", thread)
        assert "Refunded today" in mails[-1].get_body(("plain",)).get_content()
        assert "Refunded today" not in desk.texts_to(ann)

    async def test_after_unlinking_the_address_is_a_customer_of_its_own(
        self, desk: Desk, mails: list[EmailMessage]
    ) -> None:
        ann, ticket = await telegram_customer_writes(desk, "Ann")
        thread = ticket.agent_thread_id
        await agents_say(desk, f"/link {ANN}", thread)
        await mail_arrives(desk, customer_mail("n1@example.com", "Card", "Any news?"))
        assert f"via email: {ANN}" in card_of(desk, ticket)["text"]
        answer = await agents_say(desk, f"/unlink {ANN}")
        assert f"{ANN} is no longer linked to Ann" in answer
        # The old ticket's replies go to the Telegram chat; the address's next mail opens
        # a ticket of its own.
        assert "via email" not in card_of(desk, ticket)["text"]
        await agents_say(desk, "Back in Telegram", thread)
        assert "Back in Telegram" in desk.texts_to(ann)
        await mail_arrives(desk, customer_mail("n2@example.com", "Other", "New question"))
        async with desk.uow_factory() as uow:
            address = await uow.customers.by_email(ANN)
            assert address.linked_to_id is None
            assert len(await uow.tickets.for_customer(address.id)) == 1
