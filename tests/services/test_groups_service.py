"""Where a ticket lives among the agents' groups (bot.services.groups)."""

from __future__ import annotations

import pytest

from bot.adapters.presenter import Presenter
from bot.services import groups
from models import MessageDirection, Team, Ticket, TicketMessage
from models.delivery import OutboundCall, Ref, RefKind
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, customer_and_ticket, store

BILLING_GROUP = -1002000000002


@pytest.fixture
async def billing(db: FakeDatabase) -> Team:
    """A team with its own agents' group."""
    team = Team(name="Billing", group_chat_id=BILLING_GROUP)
    await store(db, team)
    return team


class TestGroupFor:
    async def test_a_team_with_its_own_group_works_there(
        self, db: FakeDatabase, billing: Team
    ) -> None:
        plain = Team(name="Sales")
        await store(db, plain)
        async with db.uow() as uow:
            assert await groups.group_for(uow, billing.id, AGENTS_CHAT) == BILLING_GROUP
            assert await groups.group_for(uow, plain.id, AGENTS_CHAT) == AGENTS_CHAT
            assert await groups.group_for(uow, None, AGENTS_CHAT) == AGENTS_CHAT

    async def test_a_new_ticket_is_placed_in_its_teams_group(
        self, db: FakeDatabase, billing: Team
    ) -> None:
        _, ticket = await customer_and_ticket(db, team_id=billing.id)
        async with db.uow() as uow:
            await groups.place(uow, ticket, AGENTS_CHAT)
        assert ticket.agent_chat_id == BILLING_GROUP

    async def test_team_groups_are_listed_once_each(self, db: FakeDatabase, billing: Team) -> None:
        await store(db, Team(name="Refunds", group_chat_id=BILLING_GROUP), Team(name="Sales"))
        async with db.uow() as uow:
            assert await groups.team_groups(uow) == [BILLING_GROUP]


class TestIsAgentsGroup:
    async def test_the_main_group_and_a_teams_group_are(
        self, db: FakeDatabase, billing: Team
    ) -> None:
        async with db.uow() as uow:
            assert await groups.is_agents_group(uow, AGENTS_CHAT, AGENTS_CHAT)
            assert await groups.is_agents_group(uow, BILLING_GROUP, AGENTS_CHAT)
            assert not await groups.is_agents_group(uow, -1009999, AGENTS_CHAT)

    async def test_a_former_teams_group_is_while_tickets_live_there(
        self, db: FakeDatabase
    ) -> None:
        await customer_and_ticket(db, agent_chat_id=BILLING_GROUP)
        async with db.uow() as uow:
            assert await groups.is_agents_group(uow, BILLING_GROUP, AGENTS_CHAT)

    async def test_a_private_chat_never_is(self, db: FakeDatabase) -> None:
        await customer_and_ticket(db, agent_chat_id=501)  # even with a (broken) ticket there
        async with db.uow() as uow:
            assert not await groups.is_agents_group(uow, 501, AGENTS_CHAT)


async def change_team(db: FakeDatabase, presenter: Presenter, ticket: Ticket, team: Team) -> bool:
    """The ticket's team becomes ``team``; whether it moved (committed)."""
    async with db.uow() as uow:
        moving = await uow.tickets.get(ticket.id)
        assert moving is not None
        moving.team_id = team.id
        moved = await groups.follow_team(uow, presenter, moving, T0)
        await uow.commit()
    return moved


class TestFollowTeam:
    async def test_the_ticket_moves_with_its_summary_and_waiting_copies(
        self, db: FakeDatabase, presenter: Presenter, billing: Team
    ) -> None:
        _, ticket = await customer_and_ticket(db, agent_chat_id=AGENTS_CHAT, agent_thread_id=7)
        waiting = OutboundCall(
            chat_id=AGENTS_CHAT,
            method="copyMessage",
            params={
                "chat_id": AGENTS_CHAT,
                "message_thread_id": Ref(RefKind.THREAD, ticket.id),
                "message_id": 3,
            },
            ticket_id=ticket.id,
        )
        edit = OutboundCall(AGENTS_CHAT, "editMessageText", {"text": "card"}, ticket_id=ticket.id)
        async with db.uow() as uow:
            await uow.outbox.add(waiting, T0)
            await uow.outbox.add(edit, T0)
            await uow.messages.add(
                TicketMessage(
                    ticket.id, MessageDirection.CUSTOMER, T0, "hello", agent_message_id=40
                )
            )
            await uow.commit()
        assert await change_team(db, presenter, ticket, billing)
        stored = db.row("tickets", ticket.id)
        assert (stored.agent_chat_id, stored.agent_thread_id) == (BILLING_GROUP, None)
        assert (stored.moved_from_chat_id, stored.moved_from_thread_id) == (AGENTS_CHAT, 7)
        new = db.outbox[2:]
        assert {c.chat_id for c in new} == {BILLING_GROUP}
        summary = [c for c in new if "hello" in str(c.params.get("text"))]
        assert len(summary) == 1
        assert "Billing" in summary[0].params["text"]
        carried = [c for c in new if c.method == "copyMessage"]  # the copy, not the edit
        assert [c.params["message_id"] for c in carried] == [3]
        assert new[-1].method == "copyMessage"  # queued anew after the summary

    async def test_a_card_in_a_group_without_topics_loses_its_buttons(
        self, db: FakeDatabase, presenter: Presenter, billing: Team
    ) -> None:
        _, ticket = await customer_and_ticket(db, agent_chat_id=AGENTS_CHAT, card_message_id=55)
        assert await change_team(db, presenter, ticket, billing)
        old = [c for c in db.outbox if c.chat_id == AGENTS_CHAT]
        assert [c.method for c in old] == ["editMessageReplyMarkup", "sendMessage"]
        assert old[0].params["message_id"] == 55
        assert old[1].params["reply_parameters"]["message_id"] == 55

    async def test_a_ticket_already_in_its_teams_group_stays(
        self, db: FakeDatabase, presenter: Presenter, billing: Team
    ) -> None:
        _, ticket = await customer_and_ticket(
            db, team_id=billing.id, agent_chat_id=BILLING_GROUP, agent_thread_id=7
        )
        async with db.uow() as uow:
            assert not await groups.follow_team(uow, presenter, ticket, T0)
            await uow.commit()
        assert db.outbox == []
        assert db.row("tickets", ticket.id).agent_thread_id == 7

    async def test_a_ticket_worked_in_its_incident_stays_with_it(
        self, db: FakeDatabase, presenter: Presenter, billing: Team
    ) -> None:
        _, ticket = await customer_and_ticket(db, agent_chat_id=AGENTS_CHAT, incident_id=1)
        ticket.team_id = billing.id
        async with db.uow() as uow:
            assert not await groups.follow_team(uow, presenter, ticket, T0)
        assert ticket.agent_chat_id == AGENTS_CHAT
