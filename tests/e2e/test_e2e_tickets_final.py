"""Closed and merged tickets end to end (the real ``helpdesk run`` against the emulator): old
buttons change nothing, a merged ticket cannot be reopened, and a service message in a topic
does not reach the customer."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Running
from tests.support.desk import button_data

pytestmark = pytest.mark.e2e


def cards(run: Running) -> list[dict[str, Any]]:
    """Ticket cards, oldest first (as they are now: edits included)."""
    return [
        m
        for m in run.emulator.messages_in(run.group_id, from_bot=True)
        if "🎫" in (m.get("text") or "")
    ]


def in_topic(run: Running, thread: int, text: str) -> bool:
    return any(
        text in (m.get("text") or "") for m in run.emulator.messages_in(run.group_id, thread)
    )


async def pressed(run: Running, user: dict[str, Any], message: dict[str, Any], data: str) -> str:
    """``user`` presses ``data`` (shown or not) under ``message``; the bot's answer."""
    query = run.emulator.user_presses(
        user, message["chat"]["id"], message["message_id"], data, check_button=False
    )
    answer = await run.wait(
        lambda: run.emulator.callback_answer(query["id"]), "the press is answered"
    )
    return str(answer.get("text") or "")


async def ticket_of(run: Running, customer: dict[str, Any], text: str) -> tuple[dict, int]:
    """``customer`` writes ``text``; returns the new card and the ticket's topic."""
    known = len(cards(run))
    run.emulator.user_sends_text(customer, text)
    await run.wait(lambda: len(cards(run)) > known, "a new ticket card", 60)
    card = cards(run)[-1]
    return card, int(card["message_thread_id"])


async def test_a_closed_tickets_old_buttons_change_nothing(forum_bot: Running) -> None:
    run, emu = forum_bot, forum_bot.emulator
    ann = emu.add_user("Ann")
    card, thread = await ticket_of(run, ann, "My invoice is wrong")
    claim, priority = button_data(card, "Claim"), button_data(card, "Priority")
    emu.user_sends_text(run.admin, "/close", chat_id=run.group_id, thread_id=thread)
    await run.wait(lambda: "Reopen" in str(cards(run)[-1].get("reply_markup")), "closed card")
    closed = cards(run)[-1]
    for data in (claim, priority):
        assert "This ticket is closed" in await pressed(run, run.admin, card, data)
    assert cards(run)[-1] == closed  # no assignee, no menu: the card did not change


async def test_a_merged_ticket_cannot_be_reopened_by_button_or_forged_callback(
    forum_bot: Running,
) -> None:
    run, emu = forum_bot, forum_bot.emulator
    ann = emu.add_user("Ann")
    _first, first_thread = await ticket_of(run, ann, "The app crashes at start")
    emu.user_sends_text(run.admin, "/close", chat_id=run.group_id, thread_id=first_thread)
    await run.wait(lambda: "Reopen" in str(cards(run)[-1].get("reply_markup")), "closed card")
    second, thread = await ticket_of(run, ann, "Also my invoice is wrong")
    emu.user_sends_text(run.admin, "/merge 1", chat_id=run.group_id, thread_id=thread)
    await run.wait(lambda: in_topic(run, first_thread, "#2 was merged"), "the merge")

    ticket_id = int(button_data(second, "Claim").split(":")[2])
    forged = f"t1:st:{ticket_id}:open"
    assert "#2 was merged into #1" in await pressed(run, run.admin, second, forged)
    emu.user_sends_text(ann, "/mytickets")
    await run.wait(lambda: "Your tickets" in run.texts_to(ann)[-1], "the customer's list")
    listing = emu.messages_in(ann["id"], from_bot=True)[-1]
    assert f"c1:r:{ticket_id}" not in str(listing["reply_markup"])
    assert "merged into #1" in await pressed(run, ann, listing, f"c1:r:{ticket_id}")
    emu.user_sends_text(run.admin, "/reopen", chat_id=run.group_id, thread_id=thread)
    await run.wait(lambda: in_topic(run, thread, "was merged into #1;"), "the /reopen answer")
    assert emu.topic(run.group_id, thread)["is_closed"]


async def test_a_service_message_in_a_topic_does_not_reach_the_customer(
    forum_bot: Running,
) -> None:
    run, emu = forum_bot, forum_bot.emulator
    ann = emu.add_user("Ann")
    card, thread = await ticket_of(run, ann, "Where is my parcel?")
    await run.wait(lambda: run.texts_to(ann), "the customer's confirmation")
    to_ann = len(run.texts_to(ann))
    pin = emu.pin_content(run.group_id, card["message_id"])
    emu.user_service_message(run.admin, run.group_id, pin, thread)
    emu.user_service_message(run.admin, run.group_id, {"forum_topic_closed": {}}, thread)
    emu.post_as_chat(run.group_id, "posted as the group", thread_id=thread)
    emu.user_sends_text(
        run.admin, "Your parcel is on its way", chat_id=run.group_id, thread_id=thread
    )
    await run.wait(
        lambda: "Your parcel is on its way" in run.texts_to(ann), "the agent's real answer"
    )
    assert len(run.texts_to(ann)) == to_ann + 1
