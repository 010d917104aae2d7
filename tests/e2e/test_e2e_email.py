"""The email channel end to end: ``helpdesk run`` reads a Dovecot mailbox and sends through an
aiosmtpd server, next to the Telegram emulator; stopped and started again, it applies nothing
twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Any

import pytest

from tests.support.mailservers import dovecot, smtp_server

pytestmark = pytest.mark.e2e


def mail(message_id: str, subject: str, body: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Ann Lee <ann@example.com>"
    message["To"] = "support@desk.test"
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


async def test_a_mail_becomes_a_ticket_and_the_reply_a_mail(bot_factory: Any) -> None:
    with dovecot() as mailbox:
        async with smtp_server() as (outbox, port):
            env = {
                "HELPDESK_EMAIL_IMAP_URL": mailbox.url,
                "HELPDESK_EMAIL_SMTP_URL": f"smtp://127.0.0.1:{port}",
                "HELPDESK_EMAIL_FROM": "Support <support@desk.test>",
            }
            run = await bot_factory(**env)
            await mailbox.deliver(mail("m1@example.com", "Refund", "Where is my refund?"))
            topics = await run.wait(run.ticket_topics, "a topic for the mail", 60)
            assert topics[0]["name"].startswith("#1 ")
            await run.wait(lambda: outbox.mails, "the ticket number by mail")
            ack = outbox.mails[0]
            assert ack["Subject"] == "Re: [#1] Refund"
            assert ack["Auto-Submitted"] == "auto-replied"

            thread = topics[0]["message_thread_id"]
            run.emulator.user_sends_text(
                run.admin, "It is on its way", chat_id=run.group_id, thread_id=thread
            )
            await run.wait(lambda: len(outbox.mails) == 2, "the agent's reply by mail")
            reply = outbox.mails[1]
            assert "<m1@example.com>" in str(reply["References"])
            assert reply["Auto-Submitted"] is None

            # An out-of-office answer is neither answered nor a ticket; the restarted desk
            # reads the mailbox again and applies nothing twice.
            await mailbox.deliver(
                mail("ooo@example.com", "Re: [#1] Refund", "Away", Auto_Submitted="auto-replied")
            )
            await until(lambda: mailbox.unseen(), 0, "the mailbox read", 30)
            assert await run.process.terminate(timeout=15) == 0
            await mailbox.forget_seen()  # as if it had died before marking them seen
            again = await bot_factory(**env)  # same database, a fresh emulator
            await until(lambda: mailbox.unseen(), 0, "the mailbox read again", 60)
            await asyncio.sleep(1.0)  # time for anything wrongly applied to reach out
            assert again.ticket_topics() == []  # no mail opened a ticket a second time
            assert len(outbox.mails) == 2


async def until(
    read: Callable[[], Awaitable[object]], wanted: object, what: str, seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while await read() != wanted:
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)
