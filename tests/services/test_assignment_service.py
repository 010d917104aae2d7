"""Who works on what (bot.services.assignment): auto-assignment by strategy, claiming,
availability."""

from __future__ import annotations

import pytest

from bot.adapters.presenter import Presenter
from bot.services import assignment
from bot.services.ports import TelegramUser
from models import (
    Agent,
    AlreadyAssigned,
    AssignStrategy,
    EventKind,
    InvalidInput,
    NotAllowed,
    Team,
    TicketNotFound,
    TicketStatus,
)
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, customer_and_ticket, sent, store


async def team_of(db: FakeDatabase, strategy: AssignStrategy, *agents: Agent) -> Team:
    team = Team(name="Billing", strategy=strategy)
    await store(db, team)
    for agent in agents:
        agent.team_ids = [team.id]
    await store(db, *agents)
    return team


def agent(telegram_id: int, name: str, **fields: object) -> Agent:
    return Agent(telegram_id=telegram_id, name=name, created_at=T0, **fields)  # type: ignore[arg-type]


async def auto_assign(db: FakeDatabase, presenter: Presenter, ticket_id: int) -> Agent | None:
    async with db.uow() as uow:
        ticket = await uow.tickets.get(ticket_id)
        chosen = await assignment.auto_assign(uow, presenter, ticket, T0)
        await uow.commit()
    return chosen


class TestAutoAssign:
    async def test_round_robin_takes_turns_and_remembers_the_last(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        ann, bob = agent(11, "Ann"), agent(12, "Bob")
        team = await team_of(db, AssignStrategy.ROUND_ROBIN, ann, bob)
        picks = []
        for _ in range(3):
            _, ticket = await customer_and_ticket(db, team_id=team.id)
            picks.append((await auto_assign(db, presenter, ticket.id)).name)
            assert db.row("tickets", ticket.id).assignee_id is not None
        assert picks == ["Ann", "Bob", "Ann"]
        assert db.settings[f"assign:last:{team.id}"] == str(ann.id)
        # Each chosen agent got a direct message (their private chat is their Telegram id).
        assert sent(db) == [(11, "sendMessage"), (12, "sendMessage"), (11, "sendMessage")]

    async def test_least_open_skips_the_busier_and_the_away(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        ann, bob, cid = agent(11, "Ann"), agent(12, "Bob"), agent(13, "Cid", away=True)
        team = await team_of(db, AssignStrategy.LEAST_OPEN, ann, bob, cid)
        await customer_and_ticket(db, team_id=team.id, assignee_id=ann.id)  # Ann has one
        _, ticket = await customer_and_ticket(db, team_id=team.id)
        assert (await auto_assign(db, presenter, ticket.id)).name == "Bob"
        stored = db.row("tickets", ticket.id)
        assert stored.assignee_id == bob.id
        assigned = [e for e in db.events if e.kind is EventKind.ASSIGNED]
        assert [(e.ticket_id, e.new, e.actor.kind) for e in assigned] == [
            (ticket.id, str(bob.id), "system")
        ]

    async def test_a_full_agent_gets_nothing(self, db: FakeDatabase, presenter: Presenter) -> None:
        ann = agent(11, "Ann", capacity=1)
        team = await team_of(db, AssignStrategy.ROUND_ROBIN, ann)
        await customer_and_ticket(db, team_id=team.id, assignee_id=ann.id)
        _, ticket = await customer_and_ticket(db, team_id=team.id)
        assert await auto_assign(db, presenter, ticket.id) is None
        assert db.row("tickets", ticket.id).assignee_id is None
        assert db.outbox == []

    async def test_manual_teams_and_done_tickets_are_left_alone(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        manual = await team_of(db, AssignStrategy.MANUAL, agent(11, "Ann"))
        _, ticket = await customer_and_ticket(db, team_id=manual.id)
        assert await auto_assign(db, presenter, ticket.id) is None
        rr = await team_of(db, AssignStrategy.ROUND_ROBIN, agent(12, "Bob"))
        _, done = await customer_and_ticket(db, team_id=rr.id, status=TicketStatus.RESOLVED)
        assert await auto_assign(db, presenter, done.id) is None
        assert db.outbox == []
        assert db.settings == {}


class TestClaim:
    async def test_the_first_claim_wins_and_the_card_follows(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        ann = agent(11, "Ann")
        await store(db, ann)
        _, ticket = await customer_and_ticket(db)
        async with db.uow() as uow:
            assert await assignment.claim(uow, presenter, ann, ticket.id, T0) is True
        assert db.row("tickets", ticket.id).assignee_id == ann.id
        assert sent(db) == [(AGENTS_CHAT, "editMessageText")]
        assert db.outbox[0].ticket_id == ticket.id

    async def test_a_second_agent_is_told_who_has_it(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        ann, bob = agent(11, "Ann"), agent(12, "Bob")
        await store(db, ann, bob)
        _, ticket = await customer_and_ticket(db, assignee_id=ann.id)
        async with db.uow() as uow:
            with pytest.raises(AlreadyAssigned) as refused:
                await assignment.claim(uow, presenter, bob, ticket.id, T0)
        assert refused.value.assignee == "Ann"
        assert db.row("tickets", ticket.id).assignee_id == ann.id
        assert db.outbox == []

    async def test_claiming_ones_own_ticket_changes_nothing(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        ann = agent(11, "Ann")
        await store(db, ann)
        _, ticket = await customer_and_ticket(db, assignee_id=ann.id)
        events = len(db.events)
        async with db.uow() as uow:
            assert await assignment.claim(uow, presenter, ann, ticket.id, T0) is False
        assert len(db.events) == events
        assert db.outbox == []

    async def test_an_unknown_ticket_is_refused(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        ann = agent(11, "Ann")
        await store(db, ann)
        async with db.uow() as uow:
            with pytest.raises(TicketNotFound):
                await assignment.claim(uow, presenter, ann, 404, T0)


class TestAway:
    async def test_away_is_stored_and_announced(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        await store(db, agent(11, "Ann"))
        user = TelegramUser(id=11, first_name="Ann", last_name="Lee")
        async with db.uow() as uow:
            await assignment.set_away(uow, presenter, user, True, AGENTS_CHAT, 7, T0)
        (stored,) = db.rows("agents")
        assert (stored.away, stored.name) == (True, "Ann Lee")
        assert sent(db) == [(AGENTS_CHAT, "sendMessage")]
        assert "Ann Lee is away" in db.outbox[0].params["text"]
        assert db.outbox[0].params["message_thread_id"] == 7

    async def test_a_stranger_cannot_go_away(self, db: FakeDatabase, presenter: Presenter) -> None:
        async with db.uow() as uow:
            with pytest.raises(NotAllowed):
                await assignment.set_away(
                    uow,
                    presenter,
                    TelegramUser(id=99, first_name="X"),
                    True,
                    AGENTS_CHAT,
                    None,
                    T0,
                )
        assert db.outbox == []


class TestParseStrategy:
    @pytest.mark.parametrize(
        ("text", "strategy"),
        [
            ("rr", AssignStrategy.ROUND_ROBIN),
            ("Least", AssignStrategy.LEAST_OPEN),
            ("round-robin", AssignStrategy.ROUND_ROBIN),
        ],
    )
    def test_aliases(self, text: str, strategy: AssignStrategy) -> None:
        assert assignment.parse_strategy(text) is strategy

    def test_an_unknown_strategy_is_refused(self) -> None:
        with pytest.raises(InvalidInput):
            assignment.parse_strategy("random")
