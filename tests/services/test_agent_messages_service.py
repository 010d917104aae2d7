"""What agents write about a ticket (bot.services.agent_messages): which ticket a message is
about, replies and canned answers to the customer, notes, collisions, edits."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.adapters.presenter import Presenter
from bot.services import agent_messages
from bot.services.conversation import DeskConfig, Incoming
from bot.services.ports import TelegramUser
from models import (
    Agent,
    CannedAnswer,
    MessageDirection,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, customer_and_ticket, sent, store

CONFIG = DeskConfig(AGENTS_CHAT)
CUSTOMER_CHAT = 501
THREAD = 5
IN_TOPIC = {"agent_chat_id": AGENTS_CHAT, "agent_thread_id": THREAD, "card_message_id": 9}
ANN = TelegramUser(id=11, first_name="Ann")


@pytest.fixture
async def people(db: FakeDatabase) -> tuple[Agent, Agent]:
    ann = Agent(telegram_id=11, name="Ann", created_at=T0)
    bob = Agent(telegram_id=12, name="Bob", created_at=T0)
    await store(db, ann, bob)
    return ann, bob


def written(message_id: int, text: str = "Try again now", at: datetime = T0) -> Incoming:
    """Ann's message in the ticket's topic."""
    return Incoming(ANN, AGENTS_CHAT, message_id, at, text=text, thread_id=THREAD)


async def write(
    db: FakeDatabase,
    presenter: Presenter,
    agent: Agent,
    msg: Incoming,
    *,
    note: bool = False,
) -> TicketMessage | None:
    async with db.uow() as uow:
        ticket = await agent_messages.ticket_for_agent_message(uow, CONFIG, msg)
        assert ticket is not None
        return await agent_messages.agent_message(
            uow, presenter, CONFIG, agent, ticket, msg, msg.sent_at, note=note
        )


class TestWhichTicket:
    async def find(self, db: FakeDatabase, msg: Incoming) -> Ticket | None:
        async with db.uow() as uow:
            return await agent_messages.ticket_for_agent_message(uow, CONFIG, msg)

    async def test_by_topic_by_card_and_by_a_replied_copy(self, db: FakeDatabase) -> None:
        _, ticket = await customer_and_ticket(db, **IN_TOPIC)
        await store(
            db,
            TicketMessage(
                ticket.id,
                MessageDirection.CUSTOMER,
                T0,
                "hi",
                agent_chat_id=AGENTS_CHAT,
                agent_message_id=40,
            ),
        )
        assert (await self.find(db, written(1))).id == ticket.id
        by_card = Incoming(ANN, AGENTS_CHAT, 2, T0, text="x", reply_to_message_id=9)
        by_copy = Incoming(ANN, AGENTS_CHAT, 3, T0, text="x", reply_to_message_id=40)
        assert (await self.find(db, by_card)).id == ticket.id
        assert (await self.find(db, by_copy)).id == ticket.id
        assert await self.find(db, Incoming(ANN, AGENTS_CHAT, 4, T0, text="x")) is None

    async def test_a_merged_tickets_messages_go_to_its_target(self, db: FakeDatabase) -> None:
        _, target = await customer_and_ticket(db)
        _, merged = await customer_and_ticket(db, merged_into_id=target.id, **IN_TOPIC)
        assert (await self.find(db, written(1))).id == target.id
        async with db.uow() as uow:
            found = await agent_messages.ticket_for_agent_message(
                uow, CONFIG, written(1), follow_merges=False
            )
        assert found.id == merged.id


class TestReply:
    async def test_a_reply_goes_to_the_customer_and_answers_the_ticket(
        self, db: FakeDatabase, presenter: Presenter, people: tuple[Agent, Agent]
    ) -> None:
        ann, _ = people
        _, ticket = await customer_and_ticket(db, status=TicketStatus.OPEN, **IN_TOPIC)
        message = await write(db, presenter, ann, written(70))
        stored = db.row("messages", message.id)
        assert (stored.direction, stored.customer_chat_id, stored.author_agent_id) == (
            MessageDirection.AGENT,
            CUSTOMER_CHAT,
            ann.id,
        )
        answered = db.row("tickets", ticket.id)
        assert (answered.first_response_at, answered.assignee_id, answered.status) == (
            T0,
            ann.id,  # the first to answer takes an unassigned ticket
            TicketStatus.WAITING,
        )
        assert sent(db) == [(CUSTOMER_CHAT, "copyMessage"), (AGENTS_CHAT, "editMessageText")]

    async def test_a_note_stays_inside(
        self, db: FakeDatabase, presenter: Presenter, people: tuple[Agent, Agent]
    ) -> None:
        ann, _ = people
        _, ticket = await customer_and_ticket(db, **IN_TOPIC)
        message = await write(db, presenter, ann, written(70, "// called the bank"), note=True)
        assert db.row("messages", message.id).direction is MessageDirection.NOTE
        assert db.row("tickets", ticket.id).first_response_at is None
        assert db.outbox == []

    async def test_the_same_message_twice_is_stored_once(
        self, db: FakeDatabase, presenter: Presenter, people: tuple[Agent, Agent]
    ) -> None:
        ann, _ = people
        await customer_and_ticket(db, **IN_TOPIC)
        await write(db, presenter, ann, written(70))
        before = len(db.outbox)
        assert await write(db, presenter, ann, written(70)) is None
        assert len(db.rows("messages")) == 1
        assert len(db.outbox) == before

    async def test_someone_elses_ticket_is_flagged_or_blocked(
        self, db: FakeDatabase, presenter: Presenter, people: tuple[Agent, Agent]
    ) -> None:
        ann, bob = people
        await customer_and_ticket(db, assignee_id=bob.id, **IN_TOPIC)
        await write(db, presenter, ann, written(70))
        assert [m.direction for m in db.rows("messages")] == [MessageDirection.AGENT]
        assert (AGENTS_CHAT, "sendMessage") in sent(db)  # the warning in the topic
        async with db.uow() as uow:
            await uow.desk_settings.set("setting:collision", "block")
            await uow.commit()
        before = len(db.outbox)
        await write(db, presenter, ann, written(71))
        assert db.rows("messages")[-1].direction is MessageDirection.NOTE  # kept, not sent
        assert CUSTOMER_CHAT not in {chat for chat, _ in sent(db)[before:]}

    async def test_two_agents_answering_at_once_are_flagged(
        self, db: FakeDatabase, presenter: Presenter, people: tuple[Agent, Agent]
    ) -> None:
        ann, bob = people
        _, ticket = await customer_and_ticket(db, **IN_TOPIC)
        await store(
            db,
            TicketMessage(ticket.id, MessageDirection.AGENT, T0, "On it", author_agent_id=bob.id),
        )
        await write(db, presenter, ann, written(70, at=T0 + timedelta(minutes=1)))
        warning = db.outbox[0]
        assert (warning.chat_id, warning.method) == (AGENTS_CHAT, "sendMessage")
        assert "Bob" in warning.params["text"]
        assert (CUSTOMER_CHAT, "copyMessage") in sent(db)  # flagged, still sent

    async def test_answering_twice_oneself_is_no_collision(
        self, db: FakeDatabase, presenter: Presenter, people: tuple[Agent, Agent]
    ) -> None:
        ann, _ = people
        await customer_and_ticket(db, **IN_TOPIC)
        await write(db, presenter, ann, written(70))
        await write(db, presenter, ann, written(71, at=T0 + timedelta(seconds=30)))
        assert AGENTS_CHAT not in {c.chat_id for c in db.outbox if c.method == "sendMessage"}

    async def test_a_canned_answer_is_rendered_for_the_customer(
        self, db: FakeDatabase, presenter: Presenter, people: tuple[Agent, Agent]
    ) -> None:
        ann, _ = people
        _, ticket = await customer_and_ticket(db, **IN_TOPIC)
        await store(
            db,
            CannedAnswer("hello", "en", "Hi {name}, {agent} here about {ticket}.", created_at=T0),
        )
        async with db.uow() as uow:
            loaded = await uow.tickets.get(ticket.id)
            await agent_messages.send_canned(uow, presenter, CONFIG, ann, loaded, "hello", T0)
        (message,) = db.rows("messages")
        assert message.text == "Hi Ann, Ann here about #1."
        assert sent(db)[0] == (CUSTOMER_CHAT, "sendMessage")
        assert db.row("tickets", ticket.id).first_response_at == T0


class TestEdit:
    async def test_an_edit_reaches_the_customers_copy(
        self, db: FakeDatabase, presenter: Presenter, people: tuple[Agent, Agent]
    ) -> None:
        ann, _ = people
        await customer_and_ticket(db, **IN_TOPIC)
        message = await write(db, presenter, ann, written(70))
        before = len(db.outbox)
        async with db.uow() as uow:
            edited = written(70, "Try again in an hour")
            assert await agent_messages.agent_edited(uow, presenter, edited, T0)
            assert not await agent_messages.agent_edited(uow, presenter, edited, T0)
        stored = db.row("messages", message.id)
        assert (stored.text, stored.edited) == ("Try again in an hour", True)
        assert [chat for chat, _ in sent(db)[before:]] == [CUSTOMER_CHAT]
