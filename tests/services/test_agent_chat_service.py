"""The start-up check's verdict on the agents' group, told once (bot.services.agent_chat)."""

from __future__ import annotations

import pytest

from bot.adapters.presenter import Presenter
from bot.services.agent_chat import (
    NOTICE_KEY,
    AgentChatCheck,
    Shortfall,
    announce_shortfalls,
    assess,
)
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, sent

ALL_RIGHTS = {"can_manage_topics", "can_pin_messages"}


class TestAssess:
    def test_an_administrator_with_every_right_in_a_forum_lacks_nothing(self) -> None:
        check = assess(is_forum=True, status="administrator", rights=ALL_RIGHTS)
        assert check == AgentChatCheck(forum=True)

    def test_the_owner_holds_every_right(self) -> None:
        assert assess(is_forum=True, status="creator", rights=set()).shortfalls == ()

    @pytest.mark.parametrize(
        ("is_forum", "status", "rights", "forum", "shortfalls"),
        [
            (True, "member", set(), False, (Shortfall.NOT_ADMIN,)),
            (False, "administrator", ALL_RIGHTS, False, (Shortfall.NO_TOPICS,)),
            (False, "member", set(), False, (Shortfall.NOT_ADMIN, Shortfall.NO_TOPICS)),
            (
                True,
                "administrator",
                {"can_pin_messages"},
                False,
                (Shortfall.CANNOT_MANAGE_TOPICS,),
            ),
            (True, "administrator", {"can_manage_topics"}, True, (Shortfall.CANNOT_PIN,)),
        ],
    )
    def test_what_is_missing_decides_the_mode(
        self,
        is_forum: bool,
        status: str,
        rights: set[str],
        forum: bool,
        shortfalls: tuple[Shortfall, ...],
    ) -> None:
        check = assess(is_forum=is_forum, status=status, rights=rights)
        assert (check.forum, check.shortfalls) == (forum, shortfalls)
        assert check.mode == ("topics" if forum else "plain group")


NOT_ADMIN = AgentChatCheck(forum=False, shortfalls=(Shortfall.NOT_ADMIN,))


async def announce(db: FakeDatabase, presenter: Presenter, check: AgentChatCheck) -> bool:
    async with db.uow() as uow:
        return await announce_shortfalls(uow, presenter, check, T0)


class TestAnnounceShortfalls:
    async def test_the_group_reads_the_warning_once(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        assert await announce(db, presenter, NOT_ADMIN)
        assert sent(db) == [(AGENTS_CHAT, "sendMessage")]
        assert "not an administrator" in db.outbox[0].params["text"]
        assert db.settings[NOTICE_KEY] == "NOT_ADMIN"
        assert not await announce(db, presenter, NOT_ADMIN)  # a restart: nothing new
        assert len(db.outbox) == 1

    async def test_a_changed_shortfall_is_told_again(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        await announce(db, presenter, NOT_ADMIN)
        no_pin = AgentChatCheck(forum=True, shortfalls=(Shortfall.CANNOT_PIN,))
        assert await announce(db, presenter, no_pin)
        assert len(db.outbox) == 2
        assert "Pin messages" in db.outbox[1].params["text"]

    async def test_once_fixed_nothing_is_sent_and_a_new_shortfall_is_told(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        await announce(db, presenter, NOT_ADMIN)
        assert not await announce(db, presenter, AgentChatCheck(forum=True))
        assert db.settings[NOTICE_KEY] == ""
        assert await announce(db, presenter, NOT_ADMIN)  # lost the rights again
        assert len(db.outbox) == 2

    async def test_a_desk_that_lacks_nothing_says_nothing(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        assert not await announce(db, presenter, AgentChatCheck(forum=True))
        assert db.outbox == []
