"""Agents' tools (bot.services.tools) and registry (bot.services.agents): tags, merges, bans,
finding a ticket; admins add, remove and limit agents."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.adapters.presenter import Presenter
from bot.services import agents, tools
from bot.services.ports import AbstractUnitOfWork, TelegramUser
from models import (
    Agent,
    Customer,
    EventKind,
    InvalidInput,
    MessageDirection,
    NotAllowed,
    Role,
    Ticket,
    TicketMessage,
    TicketNotFound,
    TicketStatus,
)
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, customer_and_ticket, sent, store

CUSTOMER_CHAT = 501
IN_TOPIC = {"agent_chat_id": AGENTS_CHAT, "agent_thread_id": 5, "card_message_id": 9}
ADA = TelegramUser(id=30, first_name="Ada")  # an admin
SUE = TelegramUser(id=21, first_name="Sue")  # a supervisor
BOB = TelegramUser(id=12, first_name="Bob")  # an agent


@pytest.fixture
async def staff(db: FakeDatabase) -> dict[int, Agent]:
    people = [
        Agent(telegram_id=ADA.id, name="Ada", role=Role.ADMIN, created_at=T0),
        Agent(telegram_id=SUE.id, name="Sue", role=Role.SUPERVISOR, created_at=T0),
        Agent(telegram_id=BOB.id, name="Bob", created_at=T0),
    ]
    await store(db, *people)
    return {a.telegram_id: a for a in people}


class TestTags:
    async def test_tags_are_added_once_and_removed(
        self, db: FakeDatabase, presenter: Presenter, staff: dict[int, Agent]
    ) -> None:
        _, ticket = await customer_and_ticket(db, **IN_TOPIC)
        bob = staff[BOB.id]
        for args, remove, changed in [
            ("#vip refund", False, ["vip", "refund"]),
            ("vip", False, []),
            ("refund other", True, ["refund"]),
        ]:
            async with db.uow() as uow:
                t = await uow.tickets.get(ticket.id)
                assert await tools.tag(uow, presenter, bob, t, args, T0, remove=remove) == changed
        assert db.row("tickets", ticket.id).tags == ["vip"]
        kinds = [(e.kind, e.old or e.new) for e in db.events if e.ticket_id == ticket.id][1:]
        assert kinds == [
            (EventKind.TAGGED, "vip"),
            (EventKind.TAGGED, "refund"),
            (EventKind.UNTAGGED, "refund"),
        ]
        assert sent(db) == [(AGENTS_CHAT, "editMessageText")] * 2  # nothing for "vip" again

    async def test_a_bad_tag_is_refused(
        self, db: FakeDatabase, presenter: Presenter, staff: dict[int, Agent]
    ) -> None:
        _, ticket = await customer_and_ticket(db, **IN_TOPIC)
        async with db.uow() as uow:
            t = await uow.tickets.get(ticket.id)
            with pytest.raises(InvalidInput):
                await tools.tag(uow, presenter, staff[BOB.id], t, "no/slash", T0)
        assert db.row("tickets", ticket.id).tags == []


class TestMerge:
    async def test_the_conversation_moves_to_the_target_and_the_ticket_closes(
        self, db: FakeDatabase, presenter: Presenter, staff: dict[int, Agent]
    ) -> None:
        customer, target = await customer_and_ticket(db, status=TicketStatus.RESOLVED, **IN_TOPIC)
        ticket = Ticket.open(customer_id=customer.id, subject="again", now=T0)
        await store(db, ticket)
        await store(db, TicketMessage(ticket.id, MessageDirection.CUSTOMER, T0, "hello"))
        async with db.uow() as uow:
            t = await uow.tickets.get(ticket.id)
            await tools.merge(uow, presenter, staff[BOB.id], t, "#1", T0)
        merged, into = db.row("tickets", ticket.id), db.row("tickets", target.id)
        assert (merged.merged_into_id, merged.status) == (target.id, TicketStatus.CLOSED)
        assert into.status is TicketStatus.OPEN  # reopened: it takes the conversation over
        assert [m.ticket_id for m in db.rows("messages")] == [target.id]
        assert (CUSTOMER_CHAT, "sendMessage") in sent(db)

    @pytest.mark.parametrize(("args", "error"), [("x", InvalidInput), ("#77", TicketNotFound)])
    async def test_refusals(
        self,
        db: FakeDatabase,
        presenter: Presenter,
        staff: dict[int, Agent],
        args: str,
        error: type[Exception],
    ) -> None:
        _, ticket = await customer_and_ticket(db)
        async with db.uow() as uow:
            t = await uow.tickets.get(ticket.id)
            with pytest.raises(error):
                await tools.merge(uow, presenter, staff[BOB.id], t, args, T0)
        assert db.row("tickets", ticket.id).merged_into_id is None

    async def test_another_customers_ticket_is_refused(
        self, db: FakeDatabase, presenter: Presenter, staff: dict[int, Agent]
    ) -> None:
        _, first = await customer_and_ticket(db)
        other = Customer(telegram_id=777, first_name="Eve", created_at=T0)
        await store(db, other)
        theirs = Ticket.open(customer_id=other.id, subject="mine", now=T0)
        await store(db, theirs)
        async with db.uow() as uow:
            t = await uow.tickets.get(theirs.id)
            with pytest.raises(InvalidInput):
                await tools.merge(uow, presenter, staff[BOB.id], t, str(first.number), T0)
        assert db.outbox == []


class TestBan:
    async def ban(
        self,
        db: FakeDatabase,
        presenter: Presenter,
        user: TelegramUser,
        target: tools.BanTarget,
        *,
        banned: bool,
    ) -> Customer:
        async with db.uow() as uow:
            return await tools.ban(uow, presenter, user, target, AGENTS_CHAT, 5, T0, banned=banned)

    async def test_a_supervisor_bans_with_a_reason_and_unbans(
        self, db: FakeDatabase, presenter: Presenter, staff: dict[int, Agent]
    ) -> None:
        customer, ticket = await customer_and_ticket(db)
        await self.ban(db, presenter, SUE, tools.BanTarget(ticket, None, "spam"), banned=True)
        stored = db.row("customers", customer.id)
        assert (stored.banned, stored.ban_reason) == (True, "spam")
        await self.ban(db, presenter, SUE, tools.BanTarget(None, CUSTOMER_CHAT, ""), banned=False)
        stored = db.row("customers", customer.id)
        assert (stored.banned, stored.ban_reason) == (False, None)
        assert sent(db) == [(AGENTS_CHAT, "sendMessage")] * 2

    async def test_refusals(
        self, db: FakeDatabase, presenter: Presenter, staff: dict[int, Agent]
    ) -> None:
        customer, ticket = await customer_and_ticket(db)
        with pytest.raises(NotAllowed):
            await self.ban(db, presenter, BOB, tools.BanTarget(ticket, None, "spam"), banned=True)
        with pytest.raises(InvalidInput, match="say why"):
            await self.ban(db, presenter, SUE, tools.BanTarget(ticket, None, ""), banned=True)
        with pytest.raises(InvalidInput, match="no customer"):
            await self.ban(db, presenter, SUE, tools.BanTarget(None, 999, "spam"), banned=True)
        assert not db.row("customers", customer.id).banned
        assert db.outbox == []


class TestFindTicket:
    async def test_by_number_with_its_assignee(
        self, db: FakeDatabase, staff: dict[int, Agent]
    ) -> None:
        await customer_and_ticket(db, assignee_id=staff[BOB.id].id)
        async with db.uow() as uow:
            ticket, assignee = await tools.find_ticket(uow, BOB, "#1")
            assert (ticket.number, assignee.name) == (1, "Bob")
            with pytest.raises(TicketNotFound):
                await tools.find_ticket(uow, BOB, "2")
            with pytest.raises(InvalidInput):
                await tools.find_ticket(uow, BOB, "two")
            with pytest.raises(NotAllowed):
                await tools.find_ticket(uow, TelegramUser(id=1, first_name="X"), "1")


def asked(target_id: int, actor: TelegramUser = ADA) -> agents.Asked:
    """An admin's request about the person ``target_id``, answered in the agents' group."""
    return agents.Asked(actor, target_id, AGENTS_CHAT, None)


class TestAgentRegistry:
    async def test_add_by_reply_then_role_capacity_and_remove(
        self, db: FakeDatabase, presenter: Presenter, staff: dict[int, Agent]
    ) -> None:
        cid = TelegramUser(id=40, first_name="Cid", last_name="Lee", username="cid")
        async with db.uow() as uow:
            await agents.add_agent(uow, presenter, asked(cid.id), None, cid, T0)
        async with db.uow() as uow:
            await agents.set_role(uow, presenter, asked(40), Role.SUPERVISOR, T0)
        async with db.uow() as uow:
            await agents.set_capacity(uow, presenter, asked(40), 3, T0)
        async with db.uow() as uow:
            await agents.remove_agent(uow, presenter, asked(40), T0)
        stored = next(a for a in db.rows("agents") if a.telegram_id == 40)
        assert (stored.name, stored.username, stored.role) == ("Cid Lee", "cid", Role.SUPERVISOR)
        assert (stored.capacity, stored.active) == (3, False)
        assert sent(db) == [(AGENTS_CHAT, "sendMessage")] * 4

    async def test_a_person_replied_to_names_only_themselves(
        self, db: FakeDatabase, presenter: Presenter, staff: dict[int, Agent]
    ) -> None:
        cid = TelegramUser(id=40, first_name="Cid", username="cid")
        async with db.uow() as uow:
            added = await agents.add_agent(uow, presenter, asked(41), Role.ADMIN, cid, T0)
        assert (added.telegram_id, added.name, added.username, added.role) == (
            41,
            "41",
            None,
            Role.ADMIN,
        )

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            (
                lambda uow, presenter: agents.set_role(uow, presenter, asked(99), Role.ADMIN, T0),
                "not a registered agent",
            ),
            (
                lambda uow, presenter: agents.remove_agent(uow, presenter, asked(ADA.id), T0),
                "cannot remove yourself",
            ),
            (
                lambda uow, presenter: agents.set_capacity(uow, presenter, asked(99), 3, T0),
                "not a registered agent",
            ),
            (
                lambda uow, presenter: agents.set_capacity(uow, presenter, asked(ADA.id), 0, T0),
                "from 1 to 1000",
            ),
            (
                lambda uow, presenter: agents.set_capacity(
                    uow, presenter, asked(ADA.id), 10**6, T0
                ),
                "from 1 to 1000",
            ),
        ],
        ids=["role of a stranger", "oneself", "capacity of a stranger", "no capacity", "huge"],
    )
    async def test_refusals(
        self,
        db: FakeDatabase,
        presenter: Presenter,
        staff: dict[int, Agent],
        change: Callable[[AbstractUnitOfWork, Presenter], Awaitable[Agent]],
        reason: str,
    ) -> None:
        # A missing subcommand or person, an unknown role and a capacity out of range are
        # refused by the handler's parser (tests/unit/test_command_parsing.py).
        async with db.uow() as uow:
            with pytest.raises(InvalidInput, match=reason):
                await change(uow, presenter)
        assert db.rows("agents") == list(staff.values())
        assert db.outbox == []

    async def test_only_admins(
        self, db: FakeDatabase, presenter: Presenter, staff: dict[int, Agent]
    ) -> None:
        async with db.uow() as uow:
            with pytest.raises(NotAllowed):
                await agents.add_agent(uow, presenter, asked(50, actor=SUE), None, None, T0)
        assert db.rows("agents") == list(staff.values())

    async def test_the_configured_admins_are_added_or_restored(self, db: FakeDatabase) -> None:
        await store(
            db, Agent(telegram_id=1, name="Old", role=Role.AGENT, active=False, created_at=T0)
        )
        async with db.uow() as uow:
            assert await agents.ensure_admins(uow, [1, 2], T0) == 1
        assert [(a.telegram_id, a.role, a.active) for a in db.rows("agents")] == [
            (1, Role.ADMIN, True),
            (2, Role.ADMIN, True),
        ]
