"""Team groups through the real dispatcher and the emulator: ``/teams group`` verifies a chat
like the main group before a team's tickets move there."""

from __future__ import annotations

from typing import Any

import pytest

from models import Team
from tests.support.desk import Desk, register


async def add_team(desk: Desk, name: str = "Billing") -> None:
    async with desk.uow_factory() as uow:
        await uow.teams.add(Team(name=name))
        await uow.commit()


async def group_of(desk: Desk, name: str = "Billing") -> int | None:
    async with desk.uow_factory() as uow:
        team = await uow.teams.by_name(name)
        assert team is not None
        return team.group_chat_id


async def command(desk: Desk, user: dict[str, Any], text: str) -> str:
    """``user`` sends ``text`` in the main group; returns the bot's newest answer there."""
    desk.emulator.user_sends_text(user, text, chat_id=desk.group_id)
    await desk.step()
    answers = desk.emulator.messages_in(desk.group_id, from_bot=True)
    return str(answers[-1].get("text") or "")


class TestSettingAGroup:
    async def test_an_admin_gives_a_team_a_forum_group_and_takes_it_back(
        self, desk: Desk
    ) -> None:
        await add_team(desk)
        group = desk.emulator.add_supergroup("Billing agents")
        answer = await command(desk, desk.admin, f"/teams group Billing {group['id']}")
        assert await group_of(desk) == group["id"]
        assert str(group["id"]) in answer and "Billing" in answer
        await command(desk, desk.admin, "/teams group Billing off")
        assert await group_of(desk) is None


class TestRefusals:
    @pytest.mark.parametrize(
        ("kind", "reason"),
        [
            ("not_admin", "not an administrator"),
            ("not_forum", "topics are switched off"),
            ("no_topic_right", "may not manage topics"),
            ("unseen", "cannot see that chat"),
        ],
    )
    async def test_a_chat_that_is_not_like_the_main_group_is_refused_with_its_reason(
        self, desk: Desk, kind: str, reason: str
    ) -> None:
        await add_team(desk)
        emulator = desk.emulator
        if kind == "not_admin":
            chat_id = emulator.add_supergroup("Billing", bot_is_admin=False)["id"]
        elif kind == "not_forum":
            chat_id = emulator.add_supergroup("Billing", is_forum=False)["id"]
        elif kind == "no_topic_right":
            chat_id = emulator.add_supergroup("Billing", bot_can_manage_topics=False)["id"]
        else:
            chat_id = -1009999999999
        answer = await command(desk, desk.admin, f"/teams group Billing {chat_id}")
        assert reason in answer
        assert await group_of(desk) is None

    async def test_the_main_group_and_a_private_chat_are_no_team_groups(
        self, desk: Desk
    ) -> None:
        await add_team(desk)
        answer = await command(desk, desk.admin, f"/teams group Billing {desk.group_id}")
        assert "main group" in answer
        answer = await command(desk, desk.admin, f"/teams group Billing {desk.admin['id']}")
        assert "negative number" in answer
        assert await group_of(desk) is None

    async def test_an_agent_who_is_no_admin_is_refused(self, desk: Desk) -> None:
        await add_team(desk)
        group = desk.emulator.add_supergroup("Billing agents")
        bob = await register(desk, "Bob", "agent")
        answer = await command(desk, bob, f"/teams group Billing {group['id']}")
        assert "admin role" in answer
        assert await group_of(desk) is None
