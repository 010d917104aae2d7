"""Automations (bot.services.automation): a silent customer is reminded once, then the ticket
is resolved; a resolved ticket closes after a week; the daily digest counts by team."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.adapters.presenter import Presenter
from bot.services import automation
from bot.services.automation import AutomationReport, AutomationRules
from models import Actor, Team, TicketStatus
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, customer_and_ticket, sent, store

CUSTOMER_CHAT = 501
IN_TOPIC = {"agent_chat_id": AGENTS_CHAT, "agent_thread_id": 5, "card_message_id": 9}


async def waiting_ticket(db: FakeDatabase) -> int:
    """A ticket an agent put to "waiting for the customer" at T0 (its event says when)."""
    _, ticket = await customer_and_ticket(db, status=TicketStatus.OPEN, **IN_TOPIC)
    async with db.uow() as uow:
        loaded = await uow.tickets.get(ticket.id)
        loaded.change_status(TicketStatus.WAITING, Actor.agent(1), T0)
        await uow.commit()
    return ticket.id


async def run(
    db: FakeDatabase, presenter: Presenter, at: datetime, rules: AutomationRules | None = None
) -> AutomationReport:
    return await automation.automate(db.uow, presenter, rules or AutomationRules(), at, batch=2)


async def test_a_silent_customer_is_reminded_once_then_the_ticket_resolves(
    db: FakeDatabase, presenter: Presenter
) -> None:
    ticket_id = await waiting_ticket(db)
    assert await run(db, presenter, T0 + timedelta(hours=23)) == AutomationReport()
    assert await run(db, presenter, T0 + timedelta(hours=25)) == AutomationReport(reminded=1)
    assert await run(db, presenter, T0 + timedelta(hours=26)) == AutomationReport()
    assert sent(db) == [(CUSTOMER_CHAT, "sendMessage")]
    assert "still waiting for your answer on ticket #1" in db.outbox[0].params["text"]
    assert await run(db, presenter, T0 + timedelta(hours=72)) == AutomationReport(resolved=1)
    stored = db.row("tickets", ticket_id)
    assert (stored.status, stored.resolved_at) == (TicketStatus.RESOLVED, T0 + timedelta(hours=72))
    assert db.events[-1].actor == Actor.system()


async def test_a_resolved_ticket_closes_after_a_week(
    db: FakeDatabase, presenter: Presenter
) -> None:
    _, ticket = await customer_and_ticket(
        db, status=TicketStatus.RESOLVED, resolved_at=T0, **IN_TOPIC
    )
    assert await run(db, presenter, T0 + timedelta(days=6)) == AutomationReport()
    assert await run(db, presenter, T0 + timedelta(days=7)) == AutomationReport(closed=1)
    assert db.row("tickets", ticket.id).status is TicketStatus.CLOSED
    assert (CUSTOMER_CHAT, "sendMessage") in sent(db)


async def test_rules_switched_off_do_nothing(db: FakeDatabase, presenter: Presenter) -> None:
    await waiting_ticket(db)
    await customer_and_ticket(db, status=TicketStatus.RESOLVED, resolved_at=T0)
    off = AutomationRules(timedelta(0), timedelta(0), timedelta(0))
    assert await run(db, presenter, T0 + timedelta(days=30), off) == AutomationReport()
    assert db.outbox == []


async def test_windows_reach_every_ticket(db: FakeDatabase, presenter: Presenter) -> None:
    for _ in range(3):
        await waiting_ticket(db)
    report = await run(db, presenter, T0 + timedelta(hours=80))  # two per window
    assert report == AutomationReport(resolved=3)


async def test_the_digest_counts_active_tickets_by_team(
    db: FakeDatabase, presenter: Presenter
) -> None:
    await store(db, Team(name="Cards"))
    await customer_and_ticket(db, team_id=1)
    await customer_and_ticket(db, team_id=1, status=TicketStatus.OPEN, sla_breached=True)
    await customer_and_ticket(db, needs_human=True)
    await customer_and_ticket(db, status=TicketStatus.CLOSED, closed_at=T0)
    async with db.uow() as uow:
        await automation.send_digest(uow, presenter, T0)
    (digest,) = db.outbox
    assert digest.chat_id == AGENTS_CHAT
    assert "Cards: 1 new, 1 open, 1 overdue, 0 not sure" in digest.params["text"]
    assert "—: 1 new, 0 open, 0 overdue, 1 not sure" in digest.params["text"]
