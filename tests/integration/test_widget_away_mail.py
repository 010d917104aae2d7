"""A widget visitor who left an address and is away gets the agent's reply by mail too: the
in-process desk with the email channel's SMTP side pointed at aiosmtpd.

The reply is still in the widget; a visitor whose widget is open gets no mail; the desk's own
notices are never mailed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.integration.test_widget_channel import (
    WidgetClient,
    agent_writes,
    serve_widget,
    ticket_of,
)
from tests.support.desk import make_desk
from tests.support.mailservers import Outbox, smtp_server

DESK = "support@desk.test"


@pytest.fixture
async def mailed(tmp_path: Path, db_url: str) -> AsyncIterator[tuple[WidgetClient, Outbox]]:
    async with smtp_server() as (outbox, port):
        desk = await make_desk(
            tmp_path,
            database_url=db_url,
            # The mailbox is never read here: only the SMTP side is used.
            email_imap_url="imap://desk:secret@127.0.0.1:1/INBOX",
            email_smtp_url=f"smtp://127.0.0.1:{port}",
            email_from=f"Support <{DESK}>",
        )
        runner, base = await serve_widget(desk)
        async with aiohttp.ClientSession() as http:
            yield WidgetClient(desk, base, http), outbox
        await runner.cleanup()
        await desk.close()


async def test_a_reply_to_a_visitor_away_is_mailed_once_and_shown_in_the_widget(
    mailed: tuple[WidgetClient, Outbox],
) -> None:
    widget, outbox = mailed
    desk = widget.desk
    token = await widget.visitor(name="Vera", email="vera@example.com")
    await widget.write(token, "Where is my refund?")
    await desk.step()
    assert outbox.mails == []  # "ticket #1 is registered" is a notice: never mailed

    await agent_writes(desk, await ticket_of(desk, 1), "It went out <b>today</b>")
    await desk.sender.flush(ignore_delays=True)
    assert len(outbox.mails) == 1
    mail = outbox.mails[0]
    assert mail["To"] == "Vera <vera@example.com>"
    assert mail["Subject"].startswith("Re: [#1] ")
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "It went out <b>today</b>" in text
    assert "answer in the chat on our website" in text
    texts = [m["text"] for m in (await widget.read(token))["messages"]]
    assert texts[-1] == "It went out <b>today</b>"


async def test_a_visitor_with_the_widget_open_gets_no_mail(
    mailed: tuple[WidgetClient, Outbox],
) -> None:
    widget, outbox = mailed
    desk = widget.desk
    token = await widget.visitor(email="olga@example.com")
    await widget.write(token, "Hello")
    await desk.step()
    await widget.read(token)  # the widget is open and reading
    await agent_writes(desk, await ticket_of(desk, 1), "Hello, how can I help?")
    await desk.sender.flush(ignore_delays=True)
    assert outbox.mails == []
    texts = [m["text"] for m in (await widget.read(token))["messages"]]
    assert texts[-1] == "Hello, how can I help?"


async def test_a_visitor_without_an_address_gets_no_mail(
    mailed: tuple[WidgetClient, Outbox],
) -> None:
    widget, outbox = mailed
    desk = widget.desk
    token = await widget.visitor(name="Anon")
    await widget.write(token, "Hello")
    await desk.step()
    await agent_writes(desk, await ticket_of(desk, 1), "Hi!")
    await desk.sender.flush(ignore_delays=True)
    assert outbox.mails == []
