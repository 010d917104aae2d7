"""Admins shape teams and categories (bot.services.teams)."""

from __future__ import annotations

import pytest

from bot.services import teams
from bot.services.ports import ChatFacts, TelegramUser
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


async def team_command(
    db: FakeDatabase,
    args: str,
    actor: TelegramUser = ADA,
    replied: TelegramUser | None = None,
    chats: dict[int, ChatFacts] | None = None,
) -> tuple[str, list[teams.TeamView]]:
    rules = GroupRules(FakeChats(chats or {}), AGENTS_CHAT)
    async with db.uow() as uow:
        return await teams.team_command(uow, actor, args, replied, rules)


def bob(db: FakeDatabase) -> Agent:
    return next(a for a in db.rows("agents") if a.telegram_id == BOB.id)


class TestTeams:
    async def test_add_join_strategy_rename_and_list(self, db: FakeDatabase) -> None:
        await team_command(db, "add Card Support")
        await team_command(db, "join card support @bob")
        await team_command(db, "strategy Card Support rr")
        done, views = await team_command(db, "rename Card Support Cards")
        assert done == "rename"
        (team,) = db.rows("teams")
        assert (team.name, team.strategy) == ("Cards", AssignStrategy.ROUND_ROBIN)
        assert bob(db).team_ids == [team.id]
        assert [(v.team.name, [a.name for a in v.members]) for v in views] == [("Cards", ["Bob"])]

    async def test_joining_by_reply_and_leaving(self, db: FakeDatabase) -> None:
        await team_command(db, "add Cards")
        await team_command(db, "join Cards", replied=BOB)
        assert bob(db).team_ids == [1]
        await team_command(db, "leave Cards 12")
        assert bob(db).team_ids == []

    async def test_removing_a_team_frees_its_members_tickets_and_categories(
        self, db: FakeDatabase
    ) -> None:
        await team_command(db, "add Cards")
        await team_command(db, "join Cards @bob")
        await store(db, Category(key="cards", title="Cards", team_id=1))
        _, ticket = await customer_and_ticket(db, team_id=1)
        done, views = await team_command(db, "remove Cards")
        assert (done, views) == ("removed:cards", [])
        assert db.rows("teams") == []
        assert bob(db).team_ids == []
        assert db.row("tickets", ticket.id).team_id is None
        assert db.rows("categories")[0].team_id is None

    async def test_a_verified_group_is_stored_and_others_refused(self, db: FakeDatabase) -> None:
        await team_command(db, "add Cards")
        chats = {
            -1001: FORUM,
            -1002: ChatFacts("supergroup", False, "administrator", frozenset()),
            -1003: ChatFacts("supergroup", True, "member", frozenset()),
        }
        for chat_id, problem in [
            (AGENTS_CHAT, GroupProblem.MAIN_GROUP),
            (-1002, GroupProblem.NOT_FORUM),
            (-1003, GroupProblem.NOT_ADMIN),
            (-1009, GroupProblem.UNSEEN),
        ]:
            with pytest.raises(GroupRefused) as refused:
                await team_command(db, f"group Cards {chat_id}", chats=chats)
            assert refused.value.problem is problem
        assert db.rows("teams")[0].group_chat_id is None
        await team_command(db, "group Cards -1001", chats=chats)
        assert db.rows("teams")[0].group_chat_id == -1001
        await team_command(db, "group Cards off", chats=chats)
        assert db.rows("teams")[0].group_chat_id is None

    @pytest.mark.parametrize(
        ("args", "reason"),
        [
            ("add Cards", "exists already"),
            ("add none", "a team name"),
            ("join Nobody", "unknown team; teams: Cards"),
            ("join Cards @nobody", "is not a registered agent"),
            ("strategy Cards random", "expected"),
            ("explode", "usage"),
        ],
    )
    async def test_refusals(self, db: FakeDatabase, args: str, reason: str) -> None:
        await team_command(db, "add Cards")
        with pytest.raises(InvalidInput, match=reason):
            await team_command(db, args)
        assert [(t.name, t.strategy) for t in db.rows("teams")] == [
            ("Cards", AssignStrategy.MANUAL)
        ]
        assert bob(db).team_ids == []

    async def test_agents_list_only(self, db: FakeDatabase) -> None:
        assert (await team_command(db, "", actor=BOB))[0] == "list"
        with pytest.raises(NotAllowed):
            await team_command(db, "add Cards", actor=BOB)
        assert db.rows("teams") == []


class TestCategories:
    async def command(self, db: FakeDatabase, args: str) -> tuple[str, list[Category]]:
        async with db.uow() as uow:
            return await teams.category_command(uow, ADA, args)

    async def test_add_route_title_remove(self, db: FakeDatabase) -> None:
        await store(db, Team(name="Billing"))
        await self.command(db, "add refunds Billing")
        assert db.rows("categories")[0].team_id == 1
        await self.command(db, "team refunds none")
        await self.command(db, "title refunds Money back")
        (category,) = db.rows("categories")
        assert (category.key, category.title, category.team_id) == ("refunds", "Money back", None)
        done, left = await self.command(db, "remove refunds")
        assert (done, left, db.rows("categories")) == ("remove", [], [])

    @pytest.mark.parametrize(
        ("args", "reason"),
        [
            ("add Bad!", "one lower-case word"),
            ("team nothing Billing", "unknown category"),
            ("add refunds Nowhere", "unknown team"),
        ],
    )
    async def test_refusals(self, db: FakeDatabase, args: str, reason: str) -> None:
        with pytest.raises(InvalidInput, match=reason):
            await self.command(db, args)
        assert db.rows("categories") == []


async def test_team_views_follow_membership(db: FakeDatabase) -> None:
    await store(db, Team(name="B"), Team(name="A"))
    await store(db, Agent(telegram_id=40, name="Cid", team_ids=[1, 2], created_at=T0))
    async with db.uow() as uow:
        views = await teams.team_views(uow)
    assert [(v.team.name, [a.name for a in v.members]) for v in views] == [
        ("A", ["Cid"]),
        ("B", ["Cid"]),
    ]
