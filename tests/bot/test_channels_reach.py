"""Tickets from every channel (Telegram, email, the website chat) reach search, SLA, /stats,
exports and webhooks like any other: through the real dispatcher, the mail intake's entry
point and the widget's use cases, against the emulator."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.services import sla, widget
from models import MessageDirection
from models.delivery import Channel
from tests.bot.test_linking import mail_arrives
from tests.support.desk import Desk, GeneralTriage, make_desk
from tests.support.desk import open_ticket as telegram_customer_writes
from tests.support.mails import customer_mail, email_settings
from tests.support.mailservers import Outbox


@pytest.fixture
async def desk(tmp_path: Path, smtp: tuple[Outbox, int]) -> AsyncIterator[Desk]:
    """The desk with the email channel on (mails come in through the intake's entry point)."""
    d = await make_desk(tmp_path, **email_settings(smtp[1]))
    yield d
    await d.close()


async def visitor_writes(desk: Desk, text: str) -> Any:
    """A website visitor's first message, as the widget's endpoint stores it; their ticket."""
    now = datetime.now(UTC)
    async with desk.uow_factory() as uow:
        started = await widget.start(uow, "Vera", None, "en", desk.dp["desk_config"], now)
    async with desk.uow_factory() as uow:
        await widget.post(
            uow,
            desk.presenter,
            GeneralTriage(),
            desk.dp["desk_config"],
            started.visitor,
            text,
            None,
            now,
        )
    await desk.sender.flush(ignore_delays=True)
    async with desk.uow_factory() as uow:
        return await uow.tickets.latest_for_customer(started.visitor.customer_id)


async def email_customer_writes(desk: Desk, text: str) -> Any:
    await mail_arrives(desk, customer_mail("m1@example.com", "Parcel", text))
    async with desk.uow_factory() as uow:
        customer = await uow.customers.by_email("ann@example.com")
        return await uow.tickets.latest_for_customer(customer.id)


async def admin_says(desk: Desk, text: str) -> str:
    """The bot's texts in the group's General topic since the admin wrote ``text``."""
    before = len(desk.emulator.messages_in(desk.group_id, None, from_bot=True))
    desk.emulator.user_sends_text(desk.admin, text, chat_id=desk.group_id)
    await desk.step()
    answers = desk.emulator.messages_in(desk.group_id, None, from_bot=True)[before:]
    return "\n".join(m.get("text", "") for m in answers)


async def three_tickets(desk: Desk) -> tuple[Any, Any, Any]:
    _ann, by_telegram = await telegram_customer_writes(desk, "Tom", "my parcel is late")
    by_mail = await email_customer_writes(desk, "Where is my parcel? It is lost.")
    by_web = await visitor_writes(desk, "parcel tracking shows nothing")
    return by_telegram, by_mail, by_web


class TestEveryChannel:
    async def test_search_finds_mail_and_widget_tickets(self, desk: Desk) -> None:
        tickets = await three_tickets(desk)
        found = await admin_says(desk, "/search parcel")
        for ticket in tickets:
            assert f"#{ticket.number}" in found
        assert f"#{tickets[1].number}" in await admin_says(desk, "/search lost")

    async def test_sla_clocks_run_on_mail_and_widget_tickets(self, desk: Desk) -> None:
        tickets = await three_tickets(desk)
        later = datetime.now(UTC) + timedelta(days=10)
        notices = await sla.scan_deadlines(desk.uow_factory, desk.presenter, "UTC", later)
        breached = {n.ticket_number for n in notices if n.level == "breach"}
        assert breached == {t.number for t in tickets}

    async def test_stats_count_tickets_and_messages_per_channel(self, desk: Desk) -> None:
        await three_tickets(desk)
        await mail_arrives(
            desk,
            customer_mail(
                "m2@example.com", "Re: Parcel", "any news?", In_Reply_To="<m1@example.com>"
            ),
        )
        text = await admin_says(desk, "/stats")
        assert "Came in, by channel" in text
        assert "Telegram: 1 ticket · 1 message" in text
        assert "email: 1 ticket · 2 messages" in text
        assert "website chat: 1 ticket · 1 message" in text


async def messages_of(desk: Desk, ticket: Any) -> list[Any]:
    async with desk.uow_factory() as uow:
        return [
            m
            for m in await uow.messages.for_ticket(ticket.id)
            if m.direction is MessageDirection.CUSTOMER
        ]


async def test_every_message_records_its_channel(desk: Desk) -> None:
    by_telegram, by_mail, by_web = await three_tickets(desk)
    channels = [
        [m.channel for m in await messages_of(desk, t)] for t in (by_telegram, by_mail, by_web)
    ]
    assert channels == [[Channel.TELEGRAM], [Channel.EMAIL], [Channel.WEB]]


async def test_the_export_carries_each_tickets_and_messages_channel(desk: Desk) -> None:
    tickets = await three_tickets(desk)
    desk.emulator.user_sends_text(desk.admin, "/export")
    await desk.step()
    [document] = [m for m in desk.to_user(desk.admin) if "document" in m]
    data = desk.emulator.files[document["document"]["file_id"]].content
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("tickets.csv").decode())))
        said = list(csv.DictReader(io.StringIO(archive.read("messages.csv").decode())))
    numbers = [str(t.number) for t in tickets]
    assert {r["number"]: r["channel"] for r in rows} == dict(
        zip(numbers, ["telegram", "email", "web"], strict=True)
    )
    customers = [m for m in said if m["direction"] == "customer"]
    assert [m["channel"] for m in customers] == ["telegram", "email", "web"]
