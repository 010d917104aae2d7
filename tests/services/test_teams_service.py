"""Admins shape teams and categories (bot.services.teams, bot.services.categories)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from bot.services import categories, teams
from bot.services.ports import AbstractUnitOfWork, ChatFacts, TelegramUser
from bot.services.teams import GroupRules
from models import (
    Agent,
    AssignStrategy,
    Category,
    GroupProblem,
    GroupRefused,
    InvalidInput,
    NotAllowed,
    Team,
)
from tests.support.fake_uow import FakeDatabase
from tests.support.services import (
    ADA,
    AGENTS_CHAT,
    BOB,
    T0,
    customer_and_ticket,
    store,
    store_staff,
)

T = TypeVar("T")
UseCase = Callable[[AbstractUnitOfWork], Awaitable[Any]]
FORUM = ChatFacts("supergroup", True, "administrator", frozenset({"can_manage_topics"}))


class FakeChats:
    """The bot's view of chats: ``facts`` by chat id (unknown chats are unseen)."""

    def __init__(self, facts: dict[int, ChatFacts]) -> None:
        self.facts = facts

    async def inspect(self, chat_id: int) -> ChatFacts | None:
        return self.facts.get(chat_id)


@pytest.fixture(autouse=True)
async def staff(db: FakeDatabase) -> None:
    await store_staff(db)


def rules(chats: dict[int, ChatFacts]) -> GroupRules:
    return GroupRules(FakeChats(chats), AGENTS_CHAT)


async def run(db: FakeDatabase, use_case: Callable[[AbstractUnitOfWork], Awaitable[T]]) -> T:
    """One use case in its own unit of work, as one command runs."""
    async with db.uow() as uow:
        return await use_case(uow)


def add(name: str, actor: TelegramUser = ADA) -> UseCase:
    return lambda uow: teams.add_team(uow, actor, name)


def join(text: str, replied: TelegramUser | None = None) -> UseCase:
    return lambda uow: teams.set_membership(uow, ADA, text, replied, member=True)


def strategy(text: str) -> UseCase:
    return lambda uow: teams.set_strategy(uow, ADA, text)


def bob(db: FakeDatabase) -> Agent:
    return next(a for a in db.rows("agents") if a.telegram_id == BOB.id)


class TestTeams:
    async def test_add_join_strategy_rename_and_list(self, db: FakeDatabase) -> None:
        await run(db, add("Card Support"))
        await run(db, join("card support @bob"))
        await run(db, strategy("Card Support rr"))
        views = await run(db, lambda uow: teams.rename_team(uow, ADA, "Card Support Cards"))
        (team,) = db.rows("teams")
        assert (team.name, team.strategy) == ("Cards", AssignStrategy.ROUND_ROBIN)
        assert bob(db).team_ids == [team.id]
        assert [(v.team.name, [a.name for a in v.members]) for v in views] == [("Cards", ["Bob"])]

    async def test_joining_by_reply_and_leaving(self, db: FakeDatabase) -> None:
        await run(db, add("Cards"))
        await run(db, join("Cards", replied=BOB))
        assert bob(db).team_ids == [1]
        await run(db, lambda uow: teams.set_membership(uow, ADA, "Cards 12", None, member=False))
        assert bob(db).team_ids == []

    async def test_removing_a_team_frees_its_members_tickets_and_categories(
        self, db: FakeDatabase
    ) -> None:
        await run(db, add("Cards"))
        await run(db, join("Cards @bob"))
        await store(db, Category(key="cards", title="Cards", team_id=1))
        _, ticket = await customer_and_ticket(db, team_id=1)
        orphans, views = await run(db, lambda uow: teams.remove_team(uow, ADA, "Cards"))
        assert (orphans, views) == (["cards"], [])
        assert db.rows("teams") == []
        assert bob(db).team_ids == []
        assert db.row("tickets", ticket.id).team_id is None
        assert db.rows("categories")[0].team_id is None

    async def test_a_verified_group_is_stored_and_others_refused(self, db: FakeDatabase) -> None:
        await run(db, add("Cards"))
        chats = rules(
            {
                -1001: FORUM,
                -1002: ChatFacts("supergroup", False, "administrator", frozenset()),
                -1003: ChatFacts("supergroup", True, "member", frozenset()),
            }
        )

        def group(text: str) -> UseCase:
            return lambda uow: teams.set_group(uow, ADA, text, chats)

        for chat_id, problem in [
            (AGENTS_CHAT, GroupProblem.MAIN_GROUP),
            (-1002, GroupProblem.NOT_FORUM),
            (-1003, GroupProblem.NOT_ADMIN),
            (-1009, GroupProblem.UNSEEN),
        ]:
            with pytest.raises(GroupRefused) as refused:
                await run(db, group(f"Cards {chat_id}"))
            assert refused.value.problem is problem
        assert db.rows("teams")[0].group_chat_id is None
        await run(db, group("Cards -1001"))
        assert db.rows("teams")[0].group_chat_id == -1001
        await run(db, group("Cards off"))
        assert db.rows("teams")[0].group_chat_id is None

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            (add("Cards"), "exists already"),
            (add("none"), "a team name"),
            (join("Nobody"), "unknown team; teams: Cards"),
            (join("Cards @nobody"), "is not a registered agent"),
            (strategy("Cards random"), "expected"),
        ],
        ids=["exists", "reserved name", "unknown team", "unknown agent", "unknown strategy"],
    )
    async def test_refusals(self, db: FakeDatabase, change: UseCase, reason: str) -> None:
        # An unknown subcommand is refused by the handler's parser
        # (tests/unit/test_command_parsing.py).
        await run(db, add("Cards"))
        with pytest.raises(InvalidInput, match=reason):
            await run(db, change)
        assert [(t.name, t.strategy) for t in db.rows("teams")] == [
            ("Cards", AssignStrategy.MANUAL)
        ]
        assert bob(db).team_ids == []

    async def test_agents_list_only(self, db: FakeDatabase) -> None:
        await store(db, Team(name="Cards"))
        views = await run(db, lambda uow: teams.list_teams(uow, BOB))
        assert [v.team.name for v in views] == ["Cards"]
        with pytest.raises(NotAllowed):
            await run(db, add("Night", actor=BOB))
        assert [t.name for t in db.rows("teams")] == ["Cards"]


class TestCategories:
    async def test_add_route_title_remove(self, db: FakeDatabase) -> None:
        await store(db, Team(name="Billing"))
        await run(db, lambda uow: categories.add(uow, ADA, "refunds", "Billing"))
        assert db.rows("categories")[0].team_id == 1
        await run(db, lambda uow: categories.route(uow, ADA, "refunds", None))
        await run(db, lambda uow: categories.retitle(uow, ADA, "refunds", "Money back"))
        (category,) = db.rows("categories")
        assert (category.key, category.title, category.team_id) == ("refunds", "Money back", None)
        left = await run(db, lambda uow: categories.remove(uow, ADA, "refunds"))
        assert (left, db.rows("categories")) == ([], [])

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            (lambda uow: categories.add(uow, ADA, "Bad!", None), "one lower-case word"),
            (lambda uow: categories.route(uow, ADA, "nothing", "Billing"), "unknown category"),
            (lambda uow: categories.add(uow, ADA, "refunds", "Nowhere"), "unknown team"),
        ],
        ids=["bad key", "unknown category", "unknown team"],
    )
    async def test_refusals(self, db: FakeDatabase, change: UseCase, reason: str) -> None:
        with pytest.raises(InvalidInput, match=reason):
            await run(db, change)
        assert db.rows("categories") == []

    async def test_agents_list_only(self, db: FakeDatabase) -> None:
        await store(db, Category(key="cards", title="Cards"))
        shown = await run(db, lambda uow: categories.categories(uow, BOB))
        assert [c.key for c in shown] == ["cards"]
        with pytest.raises(NotAllowed):
            await run(db, lambda uow: categories.add(uow, BOB, "refunds", None))
        assert [c.key for c in db.rows("categories")] == ["cards"]


async def test_team_views_follow_membership(db: FakeDatabase) -> None:
    await store(db, Team(name="B"), Team(name="A"))
    await store(db, Agent(telegram_id=40, name="Cid", team_ids=[1, 2], created_at=T0))
    async with db.uow() as uow:
        views = await teams.team_views(uow)
    assert [(v.team.name, [a.name for a in v.members]) for v in views] == [
        ("A", ["Cid"]),
        ("B", ["Cid"]),
    ]
