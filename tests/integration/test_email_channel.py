"""The email channel against real servers: Dovecot as the support mailbox (IMAP), aiosmtpd
receiving the desk's mails (SMTP), the in-process desk and the Telegram emulator.

A mail opens a ticket in the agents' group; the agent's reply in the topic reaches the
customer's mail server threaded; the customer's answer joins the ticket; a mail is applied
once however the desk stops; machines' mail is recorded and never answered.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.files import TELEGRAM_DOWNLOAD_LIMIT
from bot.app import mail_intake
from bot.runtime.mail_intake import MailIntake, close_mailbox
from bot.services.triage_port import Triage, TriageVerdict
from models import MessageDirection, Priority
from models.mail import NEW_TICKETS_PER_WINDOW, MailStatus
from tests.support.desk import Desk, GeneralTriage, make_desk
from tests.support.mails import ANN, DESK_ADDRESS, customer_mail
from tests.support.mailservers import Mailbox, Outbox, dovecot


@pytest.fixture
def mailbox() -> Any:
    with dovecot() as box:
        yield box


@pytest.fixture
async def desk(
    tmp_path: Path, db_url: str, mailbox: Mailbox, smtp: tuple[Outbox, int]
) -> AsyncIterator[Desk]:
    """The in-process desk with the email channel on, once per database backend."""
    _, port = smtp
    d = await make_desk(
        tmp_path,
        database_url=db_url,
        email_imap_url=mailbox.url,
        email_smtp_url=f"smtp://127.0.0.1:{port}",
        email_from=f"Support <{DESK_ADDRESS}>",
    )
    yield d
    await d.close()


def reader(desk: Desk, triage: Triage | None = None) -> MailIntake:
    """The desk's mailbox reader as ``run_bot`` builds it (a new one is a restarted desk)."""
    made = mail_intake(
        desk.settings,
        desk.uow_factory,
        desk.presenter,
        triage or GeneralTriage(),
        desk.dp["desk_config"],
        wake=desk.sender.wake,
    )
    assert made is not None
    return made


async def read_mailbox(desk: Desk, triage: Triage | None = None) -> int:
    """One look at the mailbox (as the running intake takes after IDLE says there is mail),
    then the outbox sent; returns how many mails were settled."""
    intake = reader(desk, triage)
    client = await intake.connect()
    try:
        settled = await intake.sweep(client)
    finally:
        await close_mailbox(client)
    await desk.sender.flush(ignore_delays=True)
    return settled


async def tickets(desk: Desk) -> list[Any]:
    async with desk.uow_factory() as uow:
        customer = await uow.customers.by_email(ANN)
        if customer is None:
            return []
        return list(reversed(await uow.tickets.for_customer(customer.id, limit=50)))


async def customer_texts(desk: Desk, ticket: Any) -> list[str | None]:
    async with desk.uow_factory() as uow:
        messages = await uow.messages.for_ticket(ticket.id)
    return [m.text for m in messages if m.direction is MessageDirection.CUSTOMER]


def topic_texts(desk: Desk, ticket: Any) -> list[str]:
    return [m.get("text") or "" for m in desk.topic_messages(ticket.agent_thread_id)]


async def agent_writes(desk: Desk, ticket: Any, text: str) -> None:
    """The admin (an agent) writes ``text`` in the ticket's topic; the desk handles it."""
    desk.emulator.user_sends_text(
        desk.admin, text, chat_id=desk.group_id, thread_id=ticket.agent_thread_id
    )
    await desk.step()


def ids(value: object) -> list[str]:
    return str(value or "").replace("<", " ").replace(">", " ").split()


class TestInbound:
    async def test_a_mail_opens_a_ticket_with_its_topic_and_is_acknowledged(
        self, desk: Desk, mailbox: Mailbox, smtp: tuple[Outbox, int]
    ) -> None:
        outbox, _ = smtp
        html = EmailMessage()
        html["From"] = f"Ann Lee <{ANN}>"
        html["To"] = DESK_ADDRESS
        html["Subject"] = "Card charged twice"
        html["Message-ID"] = "<m1@example.com>"
        html.set_content("<p>My card was <b>charged twice</b> for order 7781.</p>", "html")
        await mailbox.deliver(html.as_bytes())

        assert await read_mailbox(desk) == 1

        [ticket] = await tickets(desk)
        assert ticket.subject == "Card charged twice"
        assert await customer_texts(desk, ticket) == ["My card was charged twice for order 7781."]
        card = desk.emulator.message(desk.group_id, ticket.card_message_id)
        assert "email: ann@example.com" in card["text"]
        assert "My card was charged twice for order 7781." in card["text"]  # quoted on the card
        assert await mailbox.unseen() == 0  # marked seen once applied
        # The customer hears their ticket number, threaded under their mail, marked automatic.
        [ack] = outbox.mails
        assert ack["To"].addresses[0].addr_spec == ANN
        assert ack["Subject"] == f"Re: [#{ticket.number}] Card charged twice"
        assert ids(ack["In-Reply-To"]) == ["m1@example.com"]
        assert ack["Auto-Submitted"] == "auto-replied"
        assert ids(ack["Message-ID"])[0].endswith("@desk.test")

    async def test_attached_files_reach_the_topic_as_documents(
        self, desk: Desk, mailbox: Mailbox
    ) -> None:
        mail = EmailMessage()
        mail["From"] = f"Ann Lee <{ANN}>"
        mail["Subject"] = "Error on login"
        mail["Message-ID"] = "<m1@example.com>"
        mail.set_content("The app shows this")
        mail.add_attachment(
            b"\x89PNG-screenshot", maintype="image", subtype="png", filename="e.png"
        )
        await mailbox.deliver(mail.as_bytes())

        await read_mailbox(desk)

        [ticket] = await tickets(desk)
        assert await customer_texts(desk, ticket) == ["The app shows this\n\n📎 e.png (1 KB)"]
        [document] = [m for m in desk.topic_messages(ticket.agent_thread_id) if "document" in m]
        assert document["document"]["file_name"] == "e.png"

    async def test_an_empty_mail_shows_its_subject(self, desk: Desk, mailbox: Mailbox) -> None:
        await mailbox.deliver(customer_mail("m1@example.com", "Call me back please", ""))

        await read_mailbox(desk)

        [ticket] = await tickets(desk)
        assert await customer_texts(desk, ticket) == ["Call me back please"]
        assert not [t for t in topic_texts(desk, ticket) if "Not delivered" in t]

    async def test_a_mail_fetched_twice_is_applied_once(
        self, desk: Desk, mailbox: Mailbox, smtp: tuple[Outbox, int]
    ) -> None:
        outbox, _ = smtp
        raw = customer_mail("dup@example.com", "Printer", "The printer is on fire")
        await mailbox.deliver(raw)
        await mailbox.deliver(raw)  # the same mail delivered twice (two copies in the box)

        assert await read_mailbox(desk) == 2

        [ticket] = await tickets(desk)
        assert await customer_texts(desk, ticket) == ["The printer is on fire"]
        assert len(outbox.mails) == 1
        assert await mailbox.unseen() == 0


class TestRunning:
    async def test_the_running_reader_is_told_of_new_mail_by_idle(
        self, desk: Desk, mailbox: Mailbox, smtp: tuple[Outbox, int]
    ) -> None:
        outbox, _ = smtp
        intake = reader(desk)
        assert intake.poll_seconds == 60  # without IDLE, nothing would happen within the test
        running = asyncio.create_task(intake.run())
        try:
            await asyncio.sleep(1.0)  # connected, looked once, now waiting in IDLE
            await mailbox.deliver(customer_mail("m1@example.com", "Refund", "Where is it?"))
            deadline = time.monotonic() + 10
            while not await tickets(desk):
                assert time.monotonic() < deadline, "the mail was not read"
                await asyncio.sleep(0.1)
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        [ticket] = await tickets(desk)
        assert await customer_texts(desk, ticket) == ["Where is it?"]
        await desk.sender.flush(ignore_delays=True)
        assert len(outbox.mails) == 1
        assert await mailbox.unseen() == 0

    async def test_without_idle_the_reader_polls(
        self, tmp_path: Path, smtp: tuple[Outbox, int]
    ) -> None:
        _, port = smtp
        with dovecot(idle=False) as plain:
            desk = await make_desk(
                tmp_path,
                email_imap_url=plain.url,
                email_smtp_url=f"smtp://127.0.0.1:{port}",
                email_from=DESK_ADDRESS,
                email_poll_seconds=1,
            )
            try:
                intake = reader(desk)
                client = await intake.connect()
                assert not client.has_capability("IDLE")
                await close_mailbox(client)
                running = asyncio.create_task(intake.run())
                try:
                    await plain.deliver(customer_mail("m1@example.com", "Refund", "Where?"))
                    deadline = time.monotonic() + 10
                    while not await tickets(desk):
                        assert time.monotonic() < deadline, "the mail was not read"
                        await asyncio.sleep(0.1)
                finally:
                    running.cancel()
                    await asyncio.gather(running, return_exceptions=True)
                assert await plain.unseen() == 0
            finally:
                await desk.close()


class TestCrashes:
    async def test_a_crash_after_commit_before_seen_applies_nothing_twice(
        self, desk: Desk, mailbox: Mailbox, smtp: tuple[Outbox, int]
    ) -> None:
        outbox, _ = smtp
        await mailbox.deliver(customer_mail("m1@example.com", "Refund", "Where is my refund?"))
        await read_mailbox(desk)
        await mailbox.forget_seen()  # the desk died between its commit and the \Seen flag

        assert await read_mailbox(desk) == 1  # a restarted desk finds it again...

        [ticket] = await tickets(desk)  # ...and knows it applied it
        assert await customer_texts(desk, ticket) == ["Where is my refund?"]
        assert len(outbox.mails) == 1
        assert len(topic_texts(desk, ticket)) == 1  # the card only: no second copy
        assert await mailbox.unseen() == 0

    async def test_a_failure_before_commit_loses_nothing(
        self, desk: Desk, mailbox: Mailbox, smtp: tuple[Outbox, int]
    ) -> None:
        outbox, _ = smtp
        await mailbox.deliver(customer_mail("m1@example.com", "Refund", "Where is my refund?"))

        assert await read_mailbox(desk, FailsOnce()) == 0  # the transaction rolled back

        assert await tickets(desk) == []
        assert outbox.mails == []
        assert await mailbox.unseen() == 1  # still unseen: it comes again
        async with desk.uow_factory() as uow:
            stored = await uow.mail.by_message_id("m1@example.com")
        assert stored is not None
        assert (stored.status, stored.attempts) == (MailStatus.PENDING, 1)

        assert await read_mailbox(desk) == 1

        [ticket] = await tickets(desk)
        assert await customer_texts(desk, ticket) == ["Where is my refund?"]
        assert len(outbox.mails) == 1
        assert await mailbox.unseen() == 0


class FailsOnce(GeneralTriage):
    """A triage that fails in the middle of the mail's transaction, once."""

    def __init__(self) -> None:
        self.failed = False

    async def classify(self, text: str) -> TriageVerdict:
        if not self.failed:
            self.failed = True
            raise RuntimeError("the process died here")
        return TriageVerdict("general", None, Priority.NORMAL, None, needs_human=False)


class TestConversation:
    async def test_the_agents_reply_is_threaded_and_the_answer_joins_the_ticket(
        self, desk: Desk, mailbox: Mailbox, smtp: tuple[Outbox, int]
    ) -> None:
        outbox, _ = smtp
        await mailbox.deliver(customer_mail("m1@example.com", "Refund", "Where is my refund?"))
        await read_mailbox(desk)
        [ticket] = await tickets(desk)

        await agent_writes(desk, ticket, "Refund is on the way")

        ack, reply = outbox.mails
        assert reply["Subject"] == f"Re: [#{ticket.number}] Refund"
        assert ids(reply["References"]) == ["m1@example.com", *ids(ack["Message-ID"])]
        assert ids(reply["In-Reply-To"]) == ids(ack["Message-ID"])
        assert reply["Auto-Submitted"] is None  # a person's reply
        text = reply.get_body(preferencelist=("plain",))
        html = reply.get_body(preferencelist=("html",))
        assert text is not None
        assert html is not None
        assert "Refund is on the way" in text.get_content()
        assert "Refund is on the way" in html.get_content()
        assert outbox.envelopes[-1] == (DESK_ADDRESS, [ANN])

        answer = customer_mail(
            "m2@example.com",
            "Re: " + str(reply["Subject"]),
            "Thanks, got it.\n\nOn Mon, 7 Dec 2026 at 16:00, Support wrote:\n"
            "> Refund is on the way\n",
            in_reply_to=str(reply["Message-ID"]),
            references=f"{reply['References']} {reply['Message-ID']}",
        )
        await mailbox.deliver(answer)
        await read_mailbox(desk)

        [same] = await tickets(desk)
        assert same.id == ticket.id
        assert await customer_texts(desk, ticket) == ["Where is my refund?", "Thanks, got it."]
        assert topic_texts(desk, ticket)[-1] == "Thanks, got it."

    async def test_a_file_from_the_topic_is_attached_to_the_reply(
        self, desk: Desk, mailbox: Mailbox, smtp: tuple[Outbox, int]
    ) -> None:
        outbox, _ = smtp
        await mailbox.deliver(customer_mail("m1@example.com", "Invoice", "Send the invoice"))
        await read_mailbox(desk)
        [ticket] = await tickets(desk)

        desk.emulator.user_sends_document(
            desk.admin,
            caption="Here it is",
            content=b"%PDF-1.4 invoice",
            chat_id=desk.group_id,
            thread_id=ticket.agent_thread_id,
        )
        await desk.step()

        reply = outbox.mails[-1]
        text = reply.get_body(preferencelist=("plain",))
        assert text is not None
        assert "Here it is" in text.get_content()
        [attached] = list(reply.iter_attachments())
        assert isinstance(attached, EmailMessage)
        assert attached.get_content() == b"%PDF-1.4 invoice"
        assert not [t for t in topic_texts(desk, ticket) if "text only" in t]

    async def test_a_file_telegram_will_not_hand_out_is_named_in_the_topic(
        self, desk: Desk, mailbox: Mailbox, smtp: tuple[Outbox, int]
    ) -> None:
        outbox, _ = smtp
        await mailbox.deliver(customer_mail("m1@example.com", "Logs", "Send the logs"))
        await read_mailbox(desk)
        [ticket] = await tickets(desk)

        desk.emulator.user_sends_video(
            desk.admin,
            caption="Recording attached",
            content=b"v" * (TELEGRAM_DOWNLOAD_LIMIT + 1),  # more than a bot may download
            chat_id=desk.group_id,
            thread_id=ticket.agent_thread_id,
        )
        await desk.step()

        reply = outbox.mails[-1]
        assert list(reply.iter_attachments()) == []
        text = reply.get_body(preferencelist=("plain",))
        assert text is not None
        assert "Recording attached" in text.get_content()  # the text still went
        notes = [t for t in topic_texts(desk, ticket) if "text only" in t]
        assert notes == ["⚠️ This customer writes by email: they got the text only, not the video."]

    async def test_the_ticket_number_in_the_subject_joins_and_no_thread_opens_a_new_ticket(
        self, desk: Desk, mailbox: Mailbox
    ) -> None:
        await mailbox.deliver(customer_mail("m1@example.com", "Refund", "Where is my refund?"))
        await read_mailbox(desk)
        [ticket] = await tickets(desk)

        await mailbox.deliver(
            customer_mail("m2@example.com", f"[#{ticket.number}] more", "Order 7781")
        )
        await mailbox.deliver(customer_mail("m3@example.com", "Login", "I cannot log in"))
        # Someone else naming Ann's ticket does not get into it.
        await mailbox.deliver(
            customer_mail(
                "m4@example.com", f"[#{ticket.number}]", "let me in", sender="eve@example.com"
            )
        )
        await read_mailbox(desk)

        first, second = await tickets(desk)
        assert await customer_texts(desk, first) == ["Where is my refund?", "Order 7781"]
        assert second.subject == "Login"  # Ann's ticket is open, but this is a new question
        assert await customer_texts(desk, second) == ["I cannot log in"]
        async with desk.uow_factory() as uow:
            eve = await uow.customers.by_email("eve@example.com")
            assert eve is not None
            [eves] = await uow.tickets.for_customer(eve.id, limit=5)
        assert eves.id not in (first.id, second.id)

    async def test_a_flood_of_new_subjects_is_held_in_the_newest_ticket(
        self, desk: Desk, mailbox: Mailbox
    ) -> None:
        for n in range(NEW_TICKETS_PER_WINDOW + 2):
            await mailbox.deliver(customer_mail(f"f{n}@example.com", f"Question {n}", f"Text {n}"))

        await read_mailbox(desk)

        opened = await tickets(desk)
        assert len(opened) == NEW_TICKETS_PER_WINDOW
        last = NEW_TICKETS_PER_WINDOW - 1
        held = [f"Text {n}" for n in range(last, NEW_TICKETS_PER_WINDOW + 2)]
        assert await customer_texts(desk, opened[-1]) == held  # nothing lost
        assert await mailbox.unseen() == 0

    async def test_a_reply_the_mail_server_refuses_is_shown_in_the_topic(
        self, desk: Desk, mailbox: Mailbox, smtp: tuple[Outbox, int]
    ) -> None:
        outbox, _ = smtp
        await mailbox.deliver(customer_mail("m1@example.com", "Refund", "Where is my refund?"))
        outbox.refuse = "550 5.1.1 No such user here"
        await read_mailbox(desk)
        [ticket] = await tickets(desk)

        await agent_writes(desk, ticket, "Refund is on the way")

        assert outbox.mails == []
        failures = [t for t in topic_texts(desk, ticket) if "Not delivered" in t]
        assert failures
        assert "550" in failures[-1]
        assert "No such user here" in failures[-1]
        desk.emulator.user_sends_text(desk.admin, "/failed", chat_id=desk.group_id)
        await desk.step()
        listed = desk.emulator.messages_in(desk.group_id)[-1]["text"]
        assert f"mail → {ANN} (failed): SMTP 550" in listed


class TestLoops:
    @pytest.mark.parametrize(
        ("headers", "reason"),
        [
            ({"Auto_Submitted": "auto-replied"}, "auto-submitted"),
            ({"sender": "MAILER-DAEMON@mx.example.com"}, "bounce"),
            ({"sender": f"Support <{DESK_ADDRESS}>"}, "own address"),
        ],
    )
    async def test_machines_mail_is_recorded_and_never_answered(
        self,
        desk: Desk,
        mailbox: Mailbox,
        smtp: tuple[Outbox, int],
        headers: dict[str, str],
        reason: str,
    ) -> None:
        outbox, _ = smtp
        await mailbox.deliver(
            customer_mail("auto@example.com", "Out of office", "I am away until Monday", **headers)
        )

        assert await read_mailbox(desk) == 1

        async with desk.uow_factory() as uow:
            stored = await uow.mail.by_message_id("auto@example.com")
            first_ticket = await uow.tickets.by_number(1)
        assert stored is not None
        assert (stored.status, stored.reason) == (MailStatus.SKIPPED, reason)
        assert first_ticket is None
        assert outbox.mails == []
        assert desk.emulator.messages_in(desk.group_id) == []
        assert await mailbox.unseen() == 0
