"""One customer across channels end to end: ``helpdesk run`` reads a Dovecot mailbox, sends
through an aiosmtpd server and talks to the Telegram emulator. A customer writes by email, an
agent links their address to their Telegram id, the customer writes in Telegram: both in one
ticket, and each agent's reply goes out on the channel the customer wrote on last."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest

from tests.e2e.test_e2e_email import mail, until
from tests.support.mailservers import dovecot, smtp_server

pytestmark = pytest.mark.e2e


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


@pytest.mark.timeout(240)
async def test_mail_then_telegram_after_linking_is_one_ticket_answered_on_the_latest_channel(
    bot_factory: Any,
) -> None:
    with dovecot() as mailbox:
        async with smtp_server() as (outbox, port):
            run = await bot_factory(
                HELPDESK_EMAIL_IMAP_URL=mailbox.url,
                HELPDESK_EMAIL_SMTP_URL=f"smtp://127.0.0.1:{port}",
                HELPDESK_EMAIL_FROM="Support <support@desk.test>",
            )
            group, admin = run.group_id, run.admin
            ann = run.emulator.add_user("Ann", username="ann_lee", language_code="en")

            def topic_texts() -> list[str]:
                return [
                    m.get("text") or m.get("caption") or ""
                    for m in run.emulator.messages_in(group, thread)
                ]

            # 1. By email: a ticket, its number by mail.
            await mailbox.deliver(mail("m1@example.com", "Refund", "Where is my refund?"))
            topics = await run.wait(run.ticket_topics, "a topic for the mail", 60)
            thread = topics[0]["message_thread_id"]
            await run.wait(lambda: outbox.mails, "the ticket number by mail")
            acknowledgement = outbox.mails[0]

            # 2. The agent links the mail's address to Ann's Telegram id, in the topic.
            run.emulator.user_sends_text(
                admin, f"/link {ann['id']}", chat_id=group, thread_id=thread
            )
            await run.wait(
                lambda: any("is linked to" in t for t in topic_texts()), "the link confirmed"
            )

            # 3. Ann writes in Telegram: the same ticket, no second topic.
            run.emulator.user_sends_text(ann, "I can also write here")
            await run.wait(
                lambda: any("I can also write here" in t for t in topic_texts()),
                "Ann's Telegram message in the mail's topic",
            )
            assert len(run.ticket_topics()) == 1
            assert not any(t.startswith("Your request is registered") for t in run.texts_to(ann))

            # 4. The agent answers: Ann last wrote in Telegram, so the reply goes there.
            mails_before = len(outbox.mails)
            run.emulator.user_sends_text(
                admin, "Refund sent today", chat_id=group, thread_id=thread
            )
            await run.wait(
                lambda: "Refund sent today" in run.texts_to(ann), "the reply in Telegram"
            )

            # 5. Ann answers the desk's mail: the same ticket; the next reply goes by mail.
            await mailbox.deliver(
                mail(
                    "m2@example.com",
                    "Re: [#1] Refund",
                    "Got it, thanks by mail",
                    In_Reply_To=str(acknowledgement["Message-ID"]),
                )
            )
            await run.wait(
                lambda: any("Got it, thanks by mail" in t for t in topic_texts()),
                "Ann's mail in the same topic",
                60,
            )
            run.emulator.user_sends_text(admin, "Glad to help", chat_id=group, thread_id=thread)
            await run.wait(
                lambda: any("Glad to help" in body(m) for m in outbox.mails),
                "the reply by mail",
            )
            reply = next(m for m in outbox.mails if "Glad to help" in body(m))
            assert reply["Subject"] == "Re: [#1] Refund"
            assert "<m2@example.com>" in str(reply["In-Reply-To"])
            assert "Glad to help" not in run.texts_to(ann)
            # The Telegram reply was not mailed; one ticket all along.
            assert not any("Refund sent today" in body(m) for m in outbox.mails[mails_before:])
            assert len(run.ticket_topics()) == 1
            await until(lambda: mailbox.unseen(), 0, "the mailbox read", 30)
