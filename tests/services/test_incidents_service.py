"""Surges of similar tickets become incidents (bot.services.surge, through the customer's
conversation), and agents end them (bot.services.incidents)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.adapters.presenter import Presenter
from bot.services import conversation, incidents
from bot.services.conversation import CustomerMessageResult, DeskConfig, Incoming
from bot.services.ports import TelegramUser
from models import Agent, InvalidInput, TicketStatus
from models.incidents import IncidentStatus
from tests.support.fake_uow import FakeDatabase
from tests.support.outage import OUTAGE
from tests.support.services import AGENTS_CHAT, T0, FakeTriage, sent, store

ANN = TelegramUser(id=11, first_name="Ann")


async def customer_writes(
    db: FakeDatabase, presenter: Presenter, n: int, text: str
) -> CustomerMessageResult:
    """Customer ``n`` writes ``text``, ``n`` minutes after T0."""
    user = TelegramUser(id=600 + n, first_name=f"C{n}")
    at = T0 + timedelta(minutes=n)
    async with db.uow() as uow:
        return await conversation.customer_message(
            uow,
            presenter,
            FakeTriage(),
            DeskConfig(AGENTS_CHAT),
            Incoming(user, user.id, 1, at, text=text),
            "en",
            at,
        )


@pytest.fixture
async def outage(db: FakeDatabase, presenter: Presenter) -> list[CustomerMessageResult]:
    """Five customers report one outage within five minutes (the default rule: five similar
    tickets within ten minutes)."""
    await store(db, Agent(telegram_id=ANN.id, name="Ann", created_at=T0))
    return [await customer_writes(db, presenter, n, text) for n, text in enumerate(OUTAGE[:5])]


class TestSurge:
    async def test_the_fifth_similar_ticket_opens_an_incident_for_all_five(
        self, db: FakeDatabase, outage: list[CustomerMessageResult]
    ) -> None:
        assert [r.ticket.incident_id for r in outage] == [None, None, None, None, 1]
        (incident,) = db.rows("incidents")
        assert (incident.number, incident.status) == (1, IncidentStatus.OPEN)
        assert [t.incident_id for t in db.rows("tickets")] == [1] * 5
        # The fifth ticket got no topic of its own; its customer heard at once.
        fifth = db.row("tickets", outage[4].ticket.id)
        assert (fifth.agent_thread_id, fifth.card_message_id) == (None, None)
        assert (604, "sendMessage") in sent(db)

    async def test_a_later_similar_ticket_joins_and_another_stays_alone(
        self, db: FakeDatabase, presenter: Presenter, outage: list[CustomerMessageResult]
    ) -> None:
        joined = await customer_writes(db, presenter, 6, OUTAGE[5])
        alone = await customer_writes(db, presenter, 7, "How do I change my delivery address?")
        assert (joined.ticket.incident_id, alone.ticket.incident_id) == (1, None)

    async def test_no_incidents_when_switched_off(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        async with db.uow() as uow:
            await uow.desk_settings.set("setting:incident_size", "off")
            await uow.commit()
        for n, text in enumerate(OUTAGE[:6]):
            await customer_writes(db, presenter, n, text)
        assert db.rows("incidents") == []
        assert {t.incident_id for t in db.rows("tickets")} == {None}


class TestEnding:
    async def test_resolve_all_resolves_every_ticket_and_tells_every_customer(
        self, db: FakeDatabase, presenter: Presenter, outage: list[CustomerMessageResult]
    ) -> None:
        before = len(db.outbox)
        later = T0 + timedelta(hours=1)
        async with db.uow() as uow:
            assert await incidents.resolve(uow, presenter, ANN, 1, later) == 5
        assert {t.status for t in db.rows("tickets")} == {TicketStatus.RESOLVED}
        (incident,) = db.rows("incidents")
        assert (incident.status, incident.closed_at) == (IncidentStatus.RESOLVED, later)
        told = {chat for chat, method in sent(db)[before:] if method == "sendMessage"}
        assert told == {600, 601, 602, 603, 604}
        async with db.uow() as uow:
            with pytest.raises(InvalidInput, match="is resolved already"):
                await incidents.resolve(uow, presenter, ANN, 1, later)

    async def test_split_gives_every_ticket_back_its_own_topic(
        self, db: FakeDatabase, presenter: Presenter, outage: list[CustomerMessageResult]
    ) -> None:
        async with db.uow() as uow:  # the sender made the topics of the first four
            for result in outage[:4]:
                ticket = await uow.tickets.get(result.ticket.id)
                ticket.agent_thread_id = 100 + ticket.id
            await uow.commit()
        before = len(db.outbox)
        async with db.uow() as uow:
            assert await incidents.split(uow, presenter, ANN, 1, T0) == 5
        tickets = db.rows("tickets")
        assert {(t.incident_id, t.incident_detached) for t in tickets} == {(None, True)}
        assert {t.status for t in tickets} == {TicketStatus.NEW}
        assert db.rows("incidents")[0].status is IncidentStatus.SPLIT
        # Only the fifth ticket never had a topic: it gets one now, the others a line in theirs.
        calls = db.outbox[before:]
        assert [c.ticket_id for c in calls if c.method == "createForumTopic"] == [5]

    async def test_one_ticket_is_detached_and_never_joins_again(
        self, db: FakeDatabase, presenter: Presenter, outage: list[CustomerMessageResult]
    ) -> None:
        async with db.uow() as uow:
            await incidents.detach(uow, presenter, ANN, None, 2, T0, by_number=True)
        detached = db.row("tickets", outage[1].ticket.id)
        assert (detached.incident_id, detached.incident_detached) == (None, True)
        assert [t.incident_id for t in db.rows("tickets")].count(1) == 4
        async with db.uow() as uow:
            with pytest.raises(InvalidInput, match="is not linked to an incident"):
                await incidents.detach(uow, presenter, ANN, None, 2, T0, by_number=True)
