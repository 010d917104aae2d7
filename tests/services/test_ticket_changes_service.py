"""Changes agents make to a ticket (bot.services.ticket_changes): status, assignee, priority,
team and category; what is stored, who hears about it, which corrections become labels."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.presenter import Presenter
from bot.services import ticket_changes
from models import (
    Agent,
    AssignStrategy,
    Category,
    EventKind,
    MessageDirection,
    Priority,
    Team,
    Ticket,
    TicketClosed,
    TicketMessage,
    TicketNotFound,
    TicketStatus,
)
from models.training import OUT_OF_SCOPE
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, customer_and_ticket, sent, store

CUSTOMER_CHAT = 501  # customer_and_ticket's customer
IN_TOPIC = {"agent_chat_id": AGENTS_CHAT, "agent_thread_id": 5, "card_message_id": 9}


@pytest.fixture
async def ann(db: FakeDatabase) -> Agent:
    agent = Agent(telegram_id=11, name="Ann", created_at=T0)
    await store(db, agent)
    return agent


async def ticket_in_topic(db: FakeDatabase, **fields: Any) -> Ticket:
    _, ticket = await customer_and_ticket(db, **IN_TOPIC, **fields)
    return ticket


async def change(db: FakeDatabase, ticket_id: int, name: str, *args: Any) -> bool:
    """Load the ticket and call ``ticket_changes.<name>(uow, ..., ticket, *args, T0)``."""
    async with db.uow() as uow:
        ticket = await ticket_changes.load_ticket(uow, ticket_id)
        presenter, agent, *rest = args
        return await getattr(ticket_changes, name)(uow, presenter, agent, ticket, *rest, T0)


def events(db: FakeDatabase, kind: EventKind) -> list[tuple[str | None, str | None]]:
    return [(e.old, e.new) for e in db.events if e.kind is kind]


class TestStatus:
    async def test_resolving_tells_the_customer_and_leaves_a_solution(
        self, db: FakeDatabase, presenter: Presenter, ann: Agent
    ) -> None:
        ticket = await ticket_in_topic(db, status=TicketStatus.OPEN)
        await store(
            db,
            TicketMessage(ticket.id, MessageDirection.CUSTOMER, T0, "It says blocked"),
            TicketMessage(
                ticket.id, MessageDirection.AGENT, T0, "Unblocked it", author_agent_id=1
            ),
        )
        assert await change(db, ticket.id, "change_status", presenter, ann, TicketStatus.RESOLVED)
        stored = db.row("tickets", ticket.id)
        assert (stored.status, stored.resolved_at) == (TicketStatus.RESOLVED, T0)
        assert events(db, EventKind.STATUS_CHANGED) == [("open", "resolved")]
        assert sent(db) == [(CUSTOMER_CHAT, "sendMessage"), (AGENTS_CHAT, "editMessageText")]
        assert "Ticket #1 is resolved" in db.outbox[0].params["text"]
        solution = db.state.solutions[ticket.id]
        assert (solution.reply, solution.resolved_at) == ("Unblocked it", T0)

    async def test_reopening_a_resolved_ticket(
        self, db: FakeDatabase, presenter: Presenter, ann: Agent
    ) -> None:
        ticket = await ticket_in_topic(db, status=TicketStatus.RESOLVED, resolved_at=T0)
        assert await change(db, ticket.id, "change_status", presenter, ann, TicketStatus.OPEN)
        assert db.row("tickets", ticket.id).status is TicketStatus.OPEN
        assert events(db, EventKind.STATUS_CHANGED) == [("resolved", "open")]
        assert sent(db) == [
            (AGENTS_CHAT, "reopenForumTopic"),
            (CUSTOMER_CHAT, "sendMessage"),
            (AGENTS_CHAT, "sendMessage"),  # a note in the topic
            (AGENTS_CHAT, "editMessageText"),  # the card
        ]
        assert "Ticket #1 is open again" in db.outbox[1].params["text"]

    async def test_the_same_status_again_changes_and_sends_nothing(
        self, db: FakeDatabase, presenter: Presenter, ann: Agent
    ) -> None:
        ticket = await ticket_in_topic(db, status=TicketStatus.OPEN)
        assert not await change(db, ticket.id, "change_status", presenter, ann, TicketStatus.OPEN)
        assert events(db, EventKind.STATUS_CHANGED) == []
        assert db.outbox == []

    async def test_a_closed_ticket_cannot_wait_for_the_customer(
        self, db: FakeDatabase, presenter: Presenter, ann: Agent
    ) -> None:
        ticket = await ticket_in_topic(db, status=TicketStatus.CLOSED, closed_at=T0)
        with pytest.raises(TicketClosed):
            await change(db, ticket.id, "change_status", presenter, ann, TicketStatus.WAITING)
        assert db.row("tickets", ticket.id).status is TicketStatus.CLOSED
        assert db.outbox == []

    async def test_an_unknown_ticket_is_refused(self, db: FakeDatabase) -> None:
        async with db.uow() as uow:
            with pytest.raises(TicketNotFound):
                await ticket_changes.load_ticket(uow, 404)


class TestAssign:
    async def test_the_new_assignee_hears_about_it(
        self, db: FakeDatabase, presenter: Presenter, ann: Agent
    ) -> None:
        bob = Agent(telegram_id=12, name="Bob", created_at=T0)
        await store(db, bob)
        ticket = await ticket_in_topic(db)
        assert await change(db, ticket.id, "assign", presenter, ann, bob)
        assert db.row("tickets", ticket.id).assignee_id == bob.id
        assert sent(db) == [(12, "sendMessage"), (AGENTS_CHAT, "editMessageText")]
        assert "Ann assigned ticket #1 to you" in db.outbox[0].params["text"]

    async def test_assigning_oneself_sends_no_direct_message(
        self, db: FakeDatabase, presenter: Presenter, ann: Agent
    ) -> None:
        ticket = await ticket_in_topic(db)
        assert await change(db, ticket.id, "assign", presenter, ann, ann)
        assert sent(db) == [(AGENTS_CHAT, "editMessageText")]

    async def test_unassigning(self, db: FakeDatabase, presenter: Presenter, ann: Agent) -> None:
        ticket = await ticket_in_topic(db, assignee_id=ann.id)
        assert await change(db, ticket.id, "assign", presenter, ann, None)
        assert db.row("tickets", ticket.id).assignee_id is None
        assert events(db, EventKind.ASSIGNED) == [(str(ann.id), None)]


class TestCorrections:
    async def test_a_new_priority_is_stored_with_a_label_for_retraining(
        self, db: FakeDatabase, presenter: Presenter, ann: Agent
    ) -> None:
        ticket = await ticket_in_topic(db, category="cards")
        assert await change(db, ticket.id, "set_priority", presenter, ann, Priority.URGENT)
        assert db.row("tickets", ticket.id).priority is Priority.URGENT
        (label,) = db.rows("labels")
        assert (label.category, label.priority, label.agent_id) == ("cards", "urgent", ann.id)
        assert label.text == "My card is blocked"

    async def test_without_a_category_there_is_no_label(
        self, db: FakeDatabase, presenter: Presenter, ann: Agent
    ) -> None:
        ticket = await ticket_in_topic(db)
        assert await change(db, ticket.id, "set_priority", presenter, ann, Priority.HIGH)
        assert db.rows("labels") == []

    async def test_the_category_renames_the_topic_and_brings_its_team(
        self, db: FakeDatabase, presenter: Presenter, ann: Agent
    ) -> None:
        team = Team(name="Billing", strategy=AssignStrategy.ROUND_ROBIN)
        await store(db, team)
        bob = Agent(telegram_id=12, name="Bob", team_ids=[team.id], created_at=T0)
        billing = Category(key="billing", title="Billing", team_id=team.id)
        await store(db, bob, billing)
        ticket = await ticket_in_topic(db, needs_human=True, category="cards")
        assert await change(db, ticket.id, "set_category", presenter, ann, billing)
        stored = db.row("tickets", ticket.id)
        assert (stored.category, stored.team_id, stored.needs_human) == ("billing", team.id, False)
        assert stored.assignee_id == bob.id  # the team assigns by round-robin
        assert sent(db) == [
            (AGENTS_CHAT, "editForumTopic"),  # the topic's name shows the category
            (AGENTS_CHAT, "editMessageText"),  # the triage queue's post: no longer unsure
            (12, "sendMessage"),  # Bob got it
            (AGENTS_CHAT, "editMessageText"),  # the card
        ]
        assert db.outbox[0].params["name"] == "#1 · billing · My card is blocked"
        (label,) = db.rows("labels")
        assert (label.category, label.team) == ("billing", "Billing")

    async def test_a_team_with_its_own_group_takes_the_ticket_there(
        self, db: FakeDatabase, presenter: Presenter, ann: Agent
    ) -> None:
        vip = Team(name="VIP", group_chat_id=-100777)
        await store(db, vip)
        ticket = await ticket_in_topic(db)
        assert await change(db, ticket.id, "set_team", presenter, ann, vip)
        stored = db.row("tickets", ticket.id)
        assert (stored.team_id, stored.agent_chat_id) == (vip.id, -100777)
        assert (stored.moved_from_chat_id, stored.moved_from_thread_id) == (AGENTS_CHAT, 5)
        assert -100777 in {chat for chat, _ in sent(db)}

    async def test_out_of_scope_keeps_the_team(
        self, db: FakeDatabase, presenter: Presenter, ann: Agent
    ) -> None:
        team = Team(name="Billing")
        await store(db, team)
        ticket = await ticket_in_topic(db, category="cards", team_id=team.id)
        assert await change(db, ticket.id, "mark_out_of_scope", presenter, ann)
        stored = db.row("tickets", ticket.id)
        assert (stored.category, stored.team_id) == (OUT_OF_SCOPE, team.id)
        (label,) = db.rows("labels")
        assert label.category == OUT_OF_SCOPE

    async def test_an_unchanged_category_changes_nothing(
        self, db: FakeDatabase, presenter: Presenter, ann: Agent
    ) -> None:
        cards = Category(key="cards", title="Cards")
        await store(db, cards)
        ticket = await ticket_in_topic(db, category="cards")
        assert not await change(db, ticket.id, "set_category", presenter, ann, cards)
        assert db.outbox == []
        assert db.rows("labels") == []
