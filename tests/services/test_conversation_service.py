"""The customer's side of the conversation (bot.services.conversation): a message opens a
triaged ticket, joins the current one or reopens it; thanks, repeats, bans and floods; ratings."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.adapters.presenter import Presenter
from bot.services import conversation
from bot.services.conversation import CustomerMessageResult, DeskConfig, Incoming
from bot.services.ports import TelegramUser
from bot.services.triage_port import TriageVerdict
from models import (
    Actor,
    Agent,
    AssignStrategy,
    Customer,
    EventKind,
    InvalidInput,
    MessageDirection,
    Priority,
    Team,
    TicketNotFound,
    TicketStatus,
)
from models.delivery import RefKind
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, FakeTriage, customer_and_ticket, sent, store

ANN = TelegramUser(id=501, first_name="Ann", language_code="en")  # customer_and_ticket's
CONFIDENT = TriageVerdict("cards", "Cards", Priority.HIGH, 0.9, False)
UNSURE = TriageVerdict(None, None, Priority.NORMAL, 0.3, True)
TEAM_GROUP = -100555
IN_TOPIC = {"agent_chat_id": AGENTS_CHAT, "agent_thread_id": 5, "card_message_id": 9}


class Desk:
    """Messages from Ann, one update id after the other."""

    def __init__(self, db: FakeDatabase, presenter: Presenter, triage: FakeTriage) -> None:
        self.db, self.presenter, self.triage = db, presenter, triage
        self.message_id = 100

    async def says(
        self, text: str, at: datetime = T0, *, message_id: int | None = None
    ) -> CustomerMessageResult:
        if message_id is None:
            self.message_id += 1
        msg = Incoming(ANN, ANN.id, message_id or self.message_id, at, text=text)
        async with self.db.uow() as uow:
            return await conversation.customer_message(
                uow, self.presenter, self.triage, DeskConfig(AGENTS_CHAT), msg, "en", at
            )


@pytest.fixture
def triage() -> FakeTriage:
    return FakeTriage(CONFIDENT, thanks=frozenset({"thanks!"}))


@pytest.fixture
async def desk(db: FakeDatabase, presenter: Presenter, triage: FakeTriage) -> Desk:
    await store(db, Team(name="Cards", group_chat_id=TEAM_GROUP))
    return Desk(db, presenter, triage)


class TestOpening:
    async def test_a_first_message_opens_a_triaged_ticket_in_its_teams_group(
        self, db: FakeDatabase, desk: Desk, triage: FakeTriage
    ) -> None:
        result = await desk.says("My card is blocked")
        assert result.opened
        (customer,) = db.rows("customers")
        (ticket,) = db.rows("tickets")
        assert (customer.telegram_id, ticket.customer_id) == (ANN.id, customer.id)
        assert (ticket.subject, ticket.category, ticket.priority) == (
            "My card is blocked",
            "cards",
            Priority.HIGH,
        )
        assert (ticket.team_id, ticket.agent_chat_id, ticket.needs_human) == (1, TEAM_GROUP, False)
        assert triage.classified == ["My card is blocked"]
        (message,) = db.rows("messages")
        assert (message.direction, message.on_card) == (MessageDirection.CUSTOMER, True)
        assert sent(db) == [
            (TEAM_GROUP, "createForumTopic"),
            (TEAM_GROUP, "sendMessage"),  # the card, quoting the first message
            (TEAM_GROUP, "pinChatMessage"),
            (ANN.id, "sendMessage"),  # "registered as ticket #1"
        ]
        assert "ticket #1" in db.outbox[-1].params["text"]
        assert [e.kind for e in db.events][:2] == [EventKind.CREATED, EventKind.TRIAGED]

    async def test_an_unsure_verdict_asks_the_triage_queue(
        self, db: FakeDatabase, desk: Desk, triage: FakeTriage
    ) -> None:
        triage.verdict = UNSURE
        await desk.says("Something odd")
        (ticket,) = db.rows("tickets")
        assert (ticket.needs_human, ticket.team_id, ticket.agent_chat_id) == (
            True,
            None,
            AGENTS_CHAT,
        )
        asks = db.outbox[-1]
        assert (asks.chat_id, asks.params["text"].kind) == (AGENTS_CHAT, RefKind.NOT_SURE_TEXT)

    async def test_a_round_robin_team_assigns_the_new_ticket(
        self, db: FakeDatabase, desk: Desk
    ) -> None:
        async with db.uow() as uow:
            team = await uow.teams.get(1)
            team.strategy = AssignStrategy.ROUND_ROBIN
            await uow.agents.add(Agent(telegram_id=11, name="Bob", team_ids=[1], created_at=T0))
            await uow.commit()
        await desk.says("My card is blocked")
        (ticket,) = db.rows("tickets")
        assert ticket.assignee_id == 1
        assert (11, "sendMessage") in sent(db)


class TestFollowing:
    async def test_a_next_message_joins_the_open_ticket(
        self, db: FakeDatabase, desk: Desk
    ) -> None:
        await desk.says("My card is blocked")
        before = len(db.outbox)
        result = await desk.says("It is the blue one")
        assert not result.opened
        assert len(db.rows("tickets")) == 1
        assert [m.text for m in db.rows("messages")] == [
            "My card is blocked",
            "It is the blue one",
        ]
        assert sent(db)[before:] == [(TEAM_GROUP, "copyMessage")]

    async def test_the_same_update_twice_is_stored_once(
        self, db: FakeDatabase, desk: Desk
    ) -> None:
        await desk.says("My card is blocked")
        before = len(db.outbox)
        result = await desk.says("My card is blocked", message_id=desk.message_id)
        assert result.duplicate
        assert len(db.rows("messages")) == 1
        assert len(db.outbox) == before

    async def test_a_resolved_ticket_reopens_within_the_window_only(
        self, db: FakeDatabase, desk: Desk
    ) -> None:
        resolved = {"status": TicketStatus.RESOLVED, "resolved_at": T0, "first_response_at": T0}
        _, ticket = await customer_and_ticket(db, **resolved)
        result = await desk.says("Still broken", T0 + timedelta(hours=2))
        assert (result.reopened, result.ticket.id) == (True, ticket.id)
        assert db.row("tickets", ticket.id).status is TicketStatus.OPEN
        async with db.uow() as uow:
            again = await uow.tickets.get(ticket.id)
            again.change_status(TicketStatus.RESOLVED, Actor.agent(1), T0 + timedelta(hours=3))
            await uow.commit()
        later = await desk.says("Broken again", T0 + timedelta(days=4))  # past 72 hours
        assert later.opened
        assert later.ticket.id != ticket.id

    async def test_a_thank_you_after_an_answer_keeps_the_status(
        self, db: FakeDatabase, desk: Desk
    ) -> None:
        waiting = {"status": TicketStatus.WAITING, "first_response_at": T0, **IN_TOPIC}
        _, ticket = await customer_and_ticket(db, **waiting)
        result = await desk.says("thanks!")
        assert result.acknowledged
        assert db.row("tickets", ticket.id).status is TicketStatus.WAITING
        assert sent(db)[-1] == (AGENTS_CHAT, "sendMessage")
        assert "thank-you from the customer" in db.outbox[-1].params["text"]


class TestRefusals:
    async def test_a_banned_customer_opens_nothing_and_hears_once_a_minute(
        self, db: FakeDatabase, desk: Desk
    ) -> None:
        await store(db, Customer(telegram_id=ANN.id, first_name="Ann", banned=True, created_at=T0))
        assert (await desk.says("hello")).refused
        assert (await desk.says("hello?", T0 + timedelta(seconds=30))).refused
        assert db.rows("tickets") == []
        assert sent(db) == [(ANN.id, "sendMessage")]
        assert "does not accept messages from you" in db.outbox[0].params["text"]
        assert db.rows("customers")[0].last_notice_at == T0

    async def test_a_flood_is_passed_on_and_asked_to_slow_down_once(
        self, db: FakeDatabase, desk: Desk
    ) -> None:
        async with db.uow() as uow:
            await uow.desk_settings.set("setting:flood_per_minute", "2")
            await uow.commit()
        for n in range(5):
            await desk.says(f"message {n}", T0 + timedelta(seconds=n))
        assert len(db.rows("messages")) == 5
        slow = [c for c in db.outbox if "sending many messages" in str(c.params.get("text"))]
        assert [c.chat_id for c in slow] == [ANN.id]


class TestRating:
    async def rate(self, db: FakeDatabase, presenter: Presenter, ticket_id: int, score: int):
        async with db.uow() as uow:
            return await conversation.rate(uow, presenter, ANN, ticket_id, score, T0)

    async def test_a_resolved_ticket_is_rated_once(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        _, ticket = await customer_and_ticket(
            db, status=TicketStatus.RESOLVED, resolved_at=T0, **IN_TOPIC
        )
        await self.rate(db, presenter, ticket.id, 5)
        assert [(r.ticket_id, r.score) for r in db.rows("ratings")] == [(ticket.id, 5)]
        assert sent(db) == [(ANN.id, "sendMessage"), (AGENTS_CHAT, "editMessageText")]
        with pytest.raises(InvalidInput, match="rated already"):
            await self.rate(db, presenter, ticket.id, 1)
        assert [r.score for r in db.rows("ratings")] == [5]

    async def test_an_active_ticket_is_not_rated(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        _, ticket = await customer_and_ticket(db, status=TicketStatus.OPEN)
        with pytest.raises(InvalidInput, match="not resolved yet"):
            await self.rate(db, presenter, ticket.id, 5)
        assert db.rows("ratings") == []

    async def test_someone_elses_ticket_looks_missing(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        other = Customer(telegram_id=777, first_name="Eve", created_at=T0)
        await store(db, other)
        _, ticket = await customer_and_ticket(db, status=TicketStatus.RESOLVED, resolved_at=T0)
        async with db.uow() as uow:
            ticket_row = await uow.tickets.get(ticket.id)
            ticket_row.customer_id = other.id
            await uow.commit()
        with pytest.raises(TicketNotFound):
            await self.rate(db, presenter, ticket.id, 5)
        assert db.rows("ratings") == []
