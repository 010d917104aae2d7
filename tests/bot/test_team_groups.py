"""Team groups through the real dispatcher and the emulator: ``/teams group`` verifies a chat
like the main group before a team's tickets move there."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.jobs import group_delay
from bot.services.triage_port import TriageVerdict
from models import Priority, Team
from models.delivery import OutboundCall
from tests.support.desk import Desk, make_desk, open_ticket, press, register


class TeamTriage:
    """Texts about money are the billing team's; everything else has no team."""

    async def classify(self, text: str) -> TriageVerdict:
        billing = "card" in text.lower() or "refund" in text.lower()
        return TriageVerdict(
            "billing" if billing else "general",
            "Billing" if billing else None,
            Priority.NORMAL,
            0.9,
            needs_human=False,
        )

    async def acknowledges(self, text: str | None, *, sticker: bool = False) -> bool:
        return False


@pytest.fixture
async def team_desk(tmp_path: Path, db_url: str) -> AsyncIterator[Desk]:
    """A desk whose triage sends money matters to the Billing team, on each database."""
    d = await make_desk(tmp_path, triage=TeamTriage(), database_url=db_url)
    yield d
    await d.close()


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
    async def test_an_admin_gives_a_team_a_forum_group_and_takes_it_back(self, desk: Desk) -> None:
        await add_team(desk)
        group = desk.emulator.add_supergroup("Billing agents")
        answer = await command(desk, desk.admin, f"/teams group Billing {group['id']}")
        assert await group_of(desk) == group["id"]
        assert str(group["id"]) in answer
        assert "Billing" in answer
        # The agents' command menu is there at once, an admin's with the admin commands.
        menus = desk.emulator.commands
        agents_menu = menus[(json.dumps({"chat_id": group["id"], "type": "chat"}), "")]
        assert "queue" in [c["command"] for c in agents_menu]
        scope = {"chat_id": group["id"], "type": "chat_member", "user_id": desk.admin["id"]}
        assert "teams" in [c["command"] for c in menus[(json.dumps(scope), "ru")]]
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

    async def test_the_main_group_and_a_private_chat_are_no_team_groups(self, desk: Desk) -> None:
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


async def billing_group(desk: Desk) -> int:
    """The Billing team with its own forum group (the admin is in it, as in the main group)."""
    await add_team(desk)
    group = desk.emulator.add_supergroup("Billing agents")
    desk.emulator.add_member(group["id"], desk.admin, "administrator")
    await command(desk, desk.admin, f"/teams group Billing {group['id']}")
    assert await group_of(desk) == group["id"]
    return int(group["id"])


class TestTicketsInATeamGroup:
    async def test_a_team_s_ticket_opens_in_its_group_and_others_stay_in_the_main_group(
        self, team_desk: Desk
    ) -> None:
        desk = team_desk
        billing = await billing_group(desk)
        main_before = len(desk.emulator.messages_in(desk.group_id, from_bot=True))
        _ann, ticket = await open_ticket(desk, text="My card was charged twice")
        assert ticket.agent_chat_id == billing
        assert ticket.agent_thread_id is not None
        topic = desk.emulator.topic(billing, ticket.agent_thread_id)
        assert topic["name"].startswith(f"#{ticket.number}")
        card = desk.emulator.message(billing, ticket.card_message_id)
        assert "charged twice" in card["text"]
        assert len(desk.emulator.messages_in(desk.group_id, from_bot=True)) == main_before
        _bob, other = await open_ticket(desk, "Bob", text="How do I change my address?")
        assert other.agent_chat_id == desk.group_id
        assert desk.emulator.topic(desk.group_id, other.agent_thread_id) is not None

    async def test_an_agent_s_reply_in_the_team_group_reaches_the_customer(
        self, team_desk: Desk
    ) -> None:
        desk = team_desk
        billing = await billing_group(desk)
        ann, ticket = await open_ticket(desk, text="Please refund my order")
        desk.emulator.user_sends_text(
            desk.admin,
            "The refund is on its way",
            chat_id=billing,
            thread_id=ticket.agent_thread_id,
        )
        await desk.step()
        assert desk.texts_to(ann)[-1].startswith("The refund is on its way")
        desk.emulator.user_sends_text(ann, "Thanks, and my card?")
        await desk.step()
        copies = desk.emulator.messages_in(billing, ticket.agent_thread_id, from_bot=True)
        assert copies[-1]["text"] == "Thanks, and my card?"

    async def test_card_buttons_work_in_the_team_group(self, team_desk: Desk) -> None:
        desk = team_desk
        billing = await billing_group(desk)
        _ann, ticket = await open_ticket(desk, text="My card was charged twice")
        card = desk.emulator.message(billing, ticket.card_message_id)
        await press(desk, desk.admin, card, "Claim")
        claimed = await desk.ticket(ticket.number)
        assert claimed.assignee_id is not None
        card = desk.emulator.message(billing, ticket.card_message_id)
        assert "Alice" in card["text"]

    async def test_a_member_who_is_no_agent_cannot_answer_in_the_team_group(
        self, team_desk: Desk
    ) -> None:
        desk = team_desk
        billing = await billing_group(desk)
        ann, ticket = await open_ticket(desk, text="My card was charged twice")
        eve = desk.emulator.add_user("Eve")
        desk.emulator.add_member(billing, eve)
        desk.emulator.user_sends_text(
            eve, "Send me your PIN", chat_id=billing, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        assert not any("PIN" in text for text in desk.texts_to(ann))
        async with desk.uow_factory() as uow:
            messages = await uow.messages.for_ticket(ticket.id)
        assert not any("PIN" in (m.text or "") for m in messages)
        card = desk.emulator.message(billing, ticket.card_message_id)
        await press(desk, eve, card, "Claim")
        assert (await desk.ticket(ticket.number)).assignee_id is None


def links(message: dict[str, Any]) -> list[str]:
    return [e["url"] for e in message.get("entities", []) if e["type"] == "text_link"]


def link_to(chat_id: int, thread_id: int) -> str:
    return f"https://t.me/c/{str(chat_id)[4:]}/{thread_id}"


class TestMovingBetweenGroups:
    async def test_the_card_s_team_button_moves_the_ticket_into_the_team_s_group(
        self, team_desk: Desk
    ) -> None:
        desk = team_desk
        billing = await billing_group(desk)
        ann, ticket = await open_ticket(desk, text="Where is my parcel?")
        old_thread = ticket.agent_thread_id
        assert ticket.agent_chat_id == desk.group_id
        desk.emulator.user_sends_text(
            desk.admin, "It left the warehouse", chat_id=desk.group_id, thread_id=old_thread
        )
        await desk.step()
        card = desk.emulator.message(desk.group_id, ticket.card_message_id)
        await press(desk, desk.admin, card, "Team")
        await press(
            desk, desk.admin, desk.emulator.message(desk.group_id, card["message_id"]), "Billing"
        )

        moved = await desk.ticket(ticket.number)
        assert moved.agent_chat_id == billing
        assert moved.moved_from_thread_id is None  # the old topic was closed
        new_topic = desk.emulator.messages_in(billing, moved.agent_thread_id, from_bot=True)
        assert new_topic[0]["message_id"] == moved.card_message_id
        assert desk.emulator.pinned(billing) == [moved.card_message_id]
        summary = new_topic[1]
        assert "Moved here (team: Billing)" in summary["text"]
        assert "Where is my parcel?" in summary["text"]
        assert "It left the warehouse" in summary["text"]
        assert links(summary) == [link_to(desk.group_id, old_thread)]

        assert desk.emulator.topic(desk.group_id, old_thread)["is_closed"]
        farewell = desk.emulator.messages_in(desk.group_id, old_thread, from_bot=True)[-1]
        assert "Moved to another group (team: Billing)" in farewell["text"]
        assert links(farewell) == [link_to(billing, moved.agent_thread_id)]

        desk.emulator.user_sends_text(ann, "Any news?")
        await desk.step()
        latest = desk.emulator.messages_in(billing, moved.agent_thread_id, from_bot=True)[-1]
        assert latest["text"] == "Any news?"
        desk.emulator.user_sends_text(
            desk.admin, "Tomorrow", chat_id=billing, thread_id=moved.agent_thread_id
        )
        await desk.step()
        assert desk.texts_to(ann)[-1] == "Tomorrow"

    async def test_from_a_main_group_without_topics_the_old_card_says_where_it_went(
        self, tmp_path: Path
    ) -> None:
        desk = await make_desk(tmp_path, forum=False, triage=TeamTriage())
        try:
            billing = await billing_group(desk)
            _ann, ticket = await open_ticket(desk, text="Where is my parcel?")
            assert ticket.agent_thread_id is None
            card = desk.emulator.message(desk.group_id, ticket.card_message_id)
            assert card.get("reply_markup")
            await press(desk, desk.admin, card, "Team")
            card = desk.emulator.message(desk.group_id, ticket.card_message_id)
            await press(desk, desk.admin, card, "Billing")

            moved = await desk.ticket(ticket.number)
            assert moved.agent_chat_id == billing
            assert moved.agent_thread_id is not None
            old_card = desk.emulator.message(desk.group_id, ticket.card_message_id)
            assert not old_card.get("reply_markup")  # no stale buttons
            [farewell] = [
                m
                for m in desk.emulator.messages_in(desk.group_id, from_bot=True)
                if "Moved to another group" in (m.get("text") or "")
            ]
            assert "team: Billing" in farewell["text"]
            assert farewell["reply_to_message"]["message_id"] == ticket.card_message_id
        finally:
            await desk.close()

    async def test_messages_still_queued_for_the_old_group_arrive_in_the_new_topic_in_order(
        self, team_desk: Desk
    ) -> None:
        desk = team_desk
        billing = await billing_group(desk)
        ann, ticket = await open_ticket(desk, text="Where is my parcel?")
        old_thread = ticket.agent_thread_id
        for text in ("one", "two", "three"):
            desk.emulator.user_sends_text(ann, text)
        await desk.step(drain=False)  # the main group is behind: the copies wait
        desk.emulator.user_sends_text(
            desk.admin, "/team Billing", chat_id=desk.group_id, thread_id=old_thread
        )
        await desk.step()
        moved = await desk.ticket(ticket.number)
        new_topic = desk.emulator.messages_in(billing, moved.agent_thread_id, from_bot=True)
        texts = [m.get("text") or "" for m in new_topic]
        assert texts[-3:] == ["one", "two", "three"]
        old_topic = desk.emulator.messages_in(desk.group_id, old_thread, from_bot=True)
        assert not any(m.get("text") in ("one", "two", "three") for m in old_topic)
        async with desk.uow_factory() as uow:
            assert await uow.outbox.failed() == []

    async def test_moving_back_to_a_team_without_a_group_returns_to_the_main_group(
        self, team_desk: Desk
    ) -> None:
        desk = team_desk
        billing = await billing_group(desk)
        _ann, ticket = await open_ticket(desk, text="My card was charged twice")
        assert ticket.agent_chat_id == billing
        desk.emulator.user_sends_text(
            desk.admin, "/team none", chat_id=billing, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        moved = await desk.ticket(ticket.number)
        assert moved.agent_chat_id == desk.group_id
        assert desk.emulator.topic(billing, ticket.agent_thread_id)["is_closed"]
        card = desk.emulator.message(desk.group_id, moved.card_message_id)
        assert "charged twice" in card["text"]


class TestEachGroupsBudget:
    async def test_a_team_group_far_behind_shows_in_health_and_hears_it_there_alone(
        self, desk: Desk
    ) -> None:
        billing = await billing_group(desk)
        async with desk.uow_factory() as uow:
            for i in range(4):
                call = OutboundCall(billing, "sendMessage", {"chat_id": billing, "text": f"q{i}"})
                await uow.outbox.add(call, datetime.now(UTC) - timedelta(minutes=10))
            await uow.commit()
        desk.emulator.user_sends_text(desk.admin, "/health")
        await desk.step(drain=False)  # /health answers at once, before the outbox drains
        health = desk.to_user(desk.admin)[-1]["text"]
        found = re.search(r"Group of Billing: 4 waiting \(oldest (\d+) s\)", health)
        assert found, health
        assert 600 <= int(found.group(1)) < 660
        main_before = len(desk.emulator.messages_in(desk.group_id, from_bot=True))
        await group_delay(desk.uow_factory, desk.presenter, lambda: None)
        await desk.step()
        texts = [m.get("text") or "" for m in desk.emulator.messages_in(billing, from_bot=True)]
        assert texts[0].startswith("⏳ This group is about 10 minutes behind")
        assert texts[1:] == ["q0", "q1", "q2", "q3"]
        assert len(desk.emulator.messages_in(desk.group_id, from_bot=True)) == main_before


class TestAGroupGivenUp:
    async def test_tickets_left_in_a_former_team_group_are_still_answered_there(
        self, team_desk: Desk
    ) -> None:
        desk = team_desk
        billing = await billing_group(desk)
        ann, ticket = await open_ticket(desk, text="My card was charged twice")
        await command(desk, desk.admin, "/teams group Billing off")
        assert await group_of(desk) is None
        desk.emulator.user_sends_text(
            desk.admin, "Refunded", chat_id=billing, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        assert desk.texts_to(ann)[-1] == "Refunded"
        _bob, other = await open_ticket(desk, "Bob", text="Please refund my card payment")
        assert other.agent_chat_id == desk.group_id
