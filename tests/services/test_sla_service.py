"""The SLA scan and settings (bot.services.sla): every warning and breach is announced once,
breaches escalate and reach the supervisors, admins change targets and holidays."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.adapters.presenter import Presenter
from bot.services import sla
from bot.services.ports import TelegramUser
from models import Agent, NotAllowed, Priority, Role, Team, TicketStatus
from models.delivery import RefKind
from models.sla import SlaKind, SlaLevel, SlaTargets
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, customer_and_ticket, sent, store

ZONE = "UTC"
IN_TOPIC = {"agent_chat_id": AGENTS_CHAT, "agent_thread_id": 5, "card_message_id": 9}
FIRST = Priority.NORMAL  # first response due after 4 hours (the default targets)
WARNING_AT = T0 + timedelta(hours=3, minutes=15)  # past 80 %
BREACH_AT = T0 + timedelta(hours=4, minutes=1)
CHRISTMAS = date(2026, 12, 25)


async def scan(db: FakeDatabase, presenter: Presenter, at: object, **kw: int) -> list[object]:
    return await sla.scan_deadlines(db.uow, presenter, ZONE, at, **kw)  # type: ignore[arg-type]


class TestScan:
    async def test_a_warning_is_given_once(self, db: FakeDatabase, presenter: Presenter) -> None:
        ann = Agent(telegram_id=11, name="Ann", created_at=T0)
        await store(db, ann)
        _, ticket = await customer_and_ticket(db, assignee_id=ann.id, **IN_TOPIC)
        assert await scan(db, presenter, WARNING_AT) == [
            sla.Notice(1, SlaKind.FIRST_RESPONSE, SlaLevel.WARNING)
        ]
        assert await scan(db, presenter, WARNING_AT + timedelta(minutes=5)) == []
        assert sent(db) == [(AGENTS_CHAT, "sendMessage")]
        assert "80% of the time is used" in db.outbox[0].params["text"]
        thread = db.outbox[0].params["message_thread_id"]  # the ticket's topic, when sent
        assert (thread.kind, thread.id) == (RefKind.THREAD, ticket.id)
        assert not db.row("tickets", ticket.id).sla_breached

    async def test_a_breach_reaches_the_team_supervisors_and_escalates(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        team = Team(name="Billing")
        await store(db, team)
        await store(
            db,
            Agent(
                telegram_id=21, name="Sue", role=Role.SUPERVISOR, team_ids=[team.id], created_at=T0
            ),
            Agent(telegram_id=22, name="Sam", role=Role.SUPERVISOR, team_ids=[], created_at=T0),
        )
        _, ticket = await customer_and_ticket(db, team_id=team.id, **IN_TOPIC)
        await store(db, Agent(telegram_id=30, name="Ada", role=Role.ADMIN, created_at=T0))
        async with db.uow() as uow:
            await sla.set_escalation(uow, TelegramUser(id=30, first_name="Ada"), True, ZONE)
        notices = await scan(db, presenter, BREACH_AT)
        # Found after the warning was due: the warning is settled silently.
        assert notices == [sla.Notice(1, SlaKind.FIRST_RESPONSE, SlaLevel.BREACH)]
        assert sorted(level for _, _, level, _ in db.state.sla_notices) == ["breach", "warning"]
        stored = db.row("tickets", ticket.id)
        assert (stored.sla_breached, stored.priority) == (True, Priority.HIGH)
        assert sent(db) == [
            (AGENTS_CHAT, "sendMessage"),  # in the topic, mentioning Sue
            (21, "sendMessage"),  # Sue's direct message; Sam is in no team of the ticket
            (AGENTS_CHAT, "editMessageText"),  # the card
        ]
        assert "SLA breached" in db.outbox[0].params["text"]
        assert await scan(db, presenter, BREACH_AT + timedelta(hours=1)) == []

    async def test_paused_and_done_tickets_have_no_running_clock(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        await customer_and_ticket(db, status=TicketStatus.WAITING, **IN_TOPIC)
        await customer_and_ticket(db, status=TicketStatus.RESOLVED, resolved_at=T0, **IN_TOPIC)
        assert await scan(db, presenter, BREACH_AT) == []
        assert db.outbox == []

    async def test_windows_of_tickets_each_commit(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        for _ in range(3):
            await customer_and_ticket(db, **IN_TOPIC)
        notices = await scan(db, presenter, WARNING_AT, batch=2)
        assert [n.ticket_number for n in notices] == [1, 2, 3]
        assert len(db.state.sla_notices) == 3
        assert len(db.outbox) == 3


class TestSettings:
    ADMIN = TelegramUser(id=30, first_name="Ada")

    @pytest.fixture(autouse=True)
    async def admin(self, db: FakeDatabase) -> None:
        await store(db, Agent(telegram_id=30, name="Ada", role=Role.ADMIN, created_at=T0))

    async def test_targets_are_stored(self, db: FakeDatabase) -> None:
        async with db.uow() as uow:
            targets = SlaTargets(timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2))
            await sla.set_targets(uow, self.ADMIN, Priority.URGENT, targets, ZONE)
        async with db.uow() as uow:
            config = await sla.load_config(uow, ZONE)
        urgent = config.targets[Priority.URGENT]
        assert (urgent.first_response, urgent.resolution) == (
            timedelta(minutes=10),
            timedelta(hours=2),
        )

    async def test_showing_needs_a_supervisor_changing_an_admin(self, db: FakeDatabase) -> None:
        bob = TelegramUser(id=12, first_name="Bob")
        sue = TelegramUser(id=21, first_name="Sue")
        await store(
            db,
            Agent(telegram_id=bob.id, name="Bob", created_at=T0),
            Agent(telegram_id=sue.id, name="Sue", role=Role.SUPERVISOR, created_at=T0),
        )
        hour = timedelta(hours=1)
        async with db.uow() as uow:
            assert (await sla.show_settings(uow, sue, ZONE)).escalate is False
            with pytest.raises(NotAllowed):
                await sla.show_settings(uow, bob, ZONE)
            with pytest.raises(NotAllowed):
                await sla.set_escalation(uow, sue, True, ZONE)
            with pytest.raises(NotAllowed):
                await sla.set_targets(uow, sue, Priority.LOW, SlaTargets(hour, hour, hour), ZONE)
            with pytest.raises(NotAllowed):
                await sla.set_holiday(uow, sue, date(2026, 12, 25), True, ZONE)
        assert db.settings == {}

    async def test_holidays_are_added_and_removed(self, db: FakeDatabase) -> None:
        async with db.uow() as uow:
            await sla.set_holiday(uow, self.ADMIN, CHRISTMAS, True, ZONE)
        async with db.uow() as uow:
            assert (await sla.load_config(uow, ZONE)).calendar.holidays == {CHRISTMAS}
            await sla.set_holiday(uow, self.ADMIN, CHRISTMAS, False, ZONE)
            assert (await sla.load_config(uow, ZONE)).calendar.holidays == set()
