"""Agents at work in their group (bot.services.desk): ticket commands typed in a topic, card
buttons, chatter outside tickets."""

from __future__ import annotations

import pytest

from bot.adapters.presenter import Presenter
from bot.services import desk
from bot.services.conversation import DeskConfig, Incoming
from bot.services.ports import TelegramUser
from models import (
    Agent,
    Category,
    InvalidInput,
    MessageDirection,
    NoTicketHere,
    Priority,
    Team,
    Ticket,
    TicketClosed,
    TicketMerged,
    TicketStatus,
)
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, customer_and_ticket, sent, store

CONFIG = DeskConfig(AGENTS_CHAT)
THREAD = 5
IN_TOPIC = {"agent_chat_id": AGENTS_CHAT, "agent_thread_id": THREAD, "card_message_id": 9}
ANN = TelegramUser(id=11, first_name="Ann", language_code="en")
ACK = (AGENTS_CHAT, "setMessageReaction")
HIGH = desk.ChangePriority(Priority.HIGH)
RESOLVED = desk.ChangeStatus(TicketStatus.RESOLVED)


@pytest.fixture
async def agents(db: FakeDatabase) -> tuple[Agent, Agent]:
    ann = Agent(telegram_id=ANN.id, name="Ann", created_at=T0)
    bob = Agent(telegram_id=12, name="Bob", username="bob", created_at=T0)
    await store(db, ann, bob)
    return ann, bob


@pytest.fixture
async def ticket(db: FakeDatabase, agents: tuple[Agent, Agent]) -> Ticket:
    _, ticket = await customer_and_ticket(db, status=TicketStatus.OPEN, **IN_TOPIC)
    return ticket


async def command(
    db: FakeDatabase,
    presenter: Presenter,
    typed: str,
    change: desk.TicketCommand,
    thread: int | None = THREAD,
) -> bool:
    """``change`` as the handler parses it from the command ``typed`` in the topic."""
    msg = Incoming(ANN, AGENTS_CHAT, 70, T0, text=typed, thread_id=thread)
    async with db.uow() as uow:
        return await desk.ticket_command(uow, presenter, CONFIG, msg, change, T0)


class TestTicketCommands:
    async def test_priority_is_set_and_the_command_acknowledged(
        self, db: FakeDatabase, presenter: Presenter, ticket: Ticket
    ) -> None:
        assert await command(
            db, presenter, "/priority Urgent", desk.ChangePriority(Priority.URGENT)
        )
        assert db.row("tickets", ticket.id).priority is Priority.URGENT
        assert sent(db) == [(AGENTS_CHAT, "editMessageText"), ACK]
        assert db.outbox[-1].params["reaction"] == [{"type": "emoji", "emoji": "👌"}]

    async def test_assign_by_username_then_to_nobody(
        self, db: FakeDatabase, presenter: Presenter, agents: tuple[Agent, Agent], ticket: Ticket
    ) -> None:
        _, bob = agents
        assert await command(db, presenter, "/assign @bob", desk.Assign(who="@bob"))
        assert db.row("tickets", ticket.id).assignee_id == bob.id
        assert await command(db, presenter, "/assign none", desk.Assign())
        assert db.row("tickets", ticket.id).assignee_id is None

    async def test_a_note_is_kept_inside_with_its_own_reaction(
        self, db: FakeDatabase, presenter: Presenter, ticket: Ticket
    ) -> None:
        assert await command(
            db, presenter, "/note called the bank", desk.WriteNote("called the bank")
        )
        (note,) = db.rows("messages")
        assert (note.direction, note.text) == (MessageDirection.NOTE, "called the bank")
        assert db.outbox[-1].params["reaction"] == [{"type": "emoji", "emoji": "✍"}]

    async def test_the_team_by_name_and_none(
        self, db: FakeDatabase, presenter: Presenter, ticket: Ticket
    ) -> None:
        await store(db, Team(name="Cards"))
        assert await command(db, presenter, "/team cards", desk.MoveToTeam("cards"))
        assert db.row("tickets", ticket.id).team_id == 1
        assert await command(db, presenter, "/team none", desk.MoveToTeam(None))
        assert db.row("tickets", ticket.id).team_id is None

    @pytest.mark.parametrize(
        ("typed", "change", "reason"),
        [
            ("/assign @nobody", desk.Assign(who="@nobody"), "is not a registered agent"),
            (
                "/category nothing",
                desk.Recategorise("nothing"),
                "unknown category; categories: none yet",
            ),
            ("/c nothing", desk.SendCanned("nothing"), "no such canned answer"),
        ],
    )
    async def test_refusals_change_nothing(
        self,
        db: FakeDatabase,
        presenter: Presenter,
        ticket: Ticket,
        typed: str,
        change: desk.TicketCommand,
        reason: str,
    ) -> None:
        # A missing or malformed argument and an unknown command word are refused by the
        # handler's parser before the use case runs (tests/unit/test_command_parsing.py).
        before = db.row("tickets", ticket.id)
        with pytest.raises(InvalidInput, match=reason):
            await command(db, presenter, typed, change)
        assert db.row("tickets", ticket.id) == before
        assert db.outbox == []

    async def test_outside_a_ticket_and_in_a_merged_one(
        self, db: FakeDatabase, presenter: Presenter, ticket: Ticket
    ) -> None:
        with pytest.raises(NoTicketHere):
            await command(db, presenter, "/priority high", HIGH, thread=None)
        async with db.uow() as uow:
            loaded = await uow.tickets.get(ticket.id)
            loaded.merged_into_id = 99
            await uow.commit()
        with pytest.raises(TicketMerged):
            await command(db, presenter, "/priority high", HIGH)
        assert db.row("tickets", ticket.id).priority is Priority.NORMAL


class TestCardButtons:
    async def press(
        self,
        db: FakeDatabase,
        presenter: Presenter,
        agent: Agent,
        ticket: Ticket,
        press: desk.CardPress,
    ) -> bool:
        async with db.uow() as uow:
            return await desk.card_button(uow, presenter, agent, CONFIG, ticket.id, press, T0)

    async def test_status_priority_category_and_claim(
        self, db: FakeDatabase, presenter: Presenter, agents: tuple[Agent, Agent], ticket: Ticket
    ) -> None:
        ann, _ = agents
        await store(db, Category(key="cards", title="Cards"))
        assert await self.press(db, presenter, ann, ticket, HIGH)
        assert await self.press(db, presenter, ann, ticket, desk.PickCategory(1))
        assert await self.press(db, presenter, ann, ticket, desk.Claim())
        assert await self.press(db, presenter, ann, ticket, RESOLVED)
        stored = db.row("tickets", ticket.id)
        assert (stored.priority, stored.category, stored.assignee_id, stored.status) == (
            Priority.HIGH,
            "cards",
            ann.id,
            TicketStatus.RESOLVED,
        )

    async def test_a_closed_ticket_only_reopens(
        self, db: FakeDatabase, presenter: Presenter, agents: tuple[Agent, Agent]
    ) -> None:
        ann, _ = agents
        _, closed = await customer_and_ticket(db, status=TicketStatus.CLOSED, closed_at=T0)
        with pytest.raises(TicketClosed):
            await self.press(db, presenter, ann, closed, HIGH)
        assert await self.press(db, presenter, ann, closed, desk.ChangeStatus(TicketStatus.OPEN))
        assert db.row("tickets", closed.id).status is TicketStatus.OPEN

    @pytest.mark.parametrize(
        ("press", "reason"),
        [(desk.PickCategory(9), "no such category"), (desk.PickTeam(9), "no such team")],
    )
    async def test_stale_buttons_are_refused(
        self,
        db: FakeDatabase,
        presenter: Presenter,
        agents: tuple[Agent, Agent],
        ticket: Ticket,
        press: desk.CardPress,
        reason: str,
    ) -> None:
        # A button whose data names no action is refused when its data is parsed
        # (tests/unit/test_command_parsing.py).
        before = db.row("tickets", ticket.id)
        with pytest.raises(InvalidInput, match=reason):
            await self.press(db, presenter, agents[0], ticket, press)
        assert db.row("tickets", ticket.id) == before
        assert db.outbox == []


async def test_chatter_outside_tickets_teaches_an_agents_name(
    db: FakeDatabase, presenter: Presenter
) -> None:
    await store(db, Agent(telegram_id=ANN.id, name=str(ANN.id), created_at=T0))
    msg = Incoming(ANN, AGENTS_CHAT, 70, T0, text="coffee?")
    async with db.uow() as uow:
        assert not await desk.agent_writes(uow, presenter, CONFIG, msg, T0)
    (agent,) = db.rows("agents")
    assert (agent.name, agent.language) == ("Ann", "en")
    assert db.outbox == []


class TestHistory:
    async def test_the_tickets_events_and_its_merged_tickets_are_told_in_the_topic(
        self, db: FakeDatabase, presenter: Presenter, ticket: Ticket
    ) -> None:
        await command(db, presenter, "/priority high", HIGH)
        merged = Ticket.open(customer_id=ticket.customer_id, subject="me again", now=T0)
        merged.merged_into_id = ticket.id
        other = Ticket.open(customer_id=ticket.customer_id, subject="unrelated", now=T0)
        await store(db, merged, other)
        before = len(db.outbox)
        assert not await command(db, presenter, "/history", desk.ShowHistory())
        [told] = db.outbox[before:]
        lines = told.params["text"].splitlines()
        assert lines[0] == f"History of ticket #{ticket.number}:"
        assert any("Ann" in line and "high" in line.lower() for line in lines)
        assert sum(f"#{merged.number}: " in line for line in lines) == 1
        assert not any(f"#{other.number}" in line for line in lines)
        assert told.chat_id == AGENTS_CHAT
