"""Agent tools end to end: auto-assignment with a direct message, a suggested canned answer
sent with one tap."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.e2e.conftest import Running
from tests.support.desk import button_data
from tests.support.net import free_port

pytestmark = pytest.mark.e2e


def card(run: Running) -> dict[str, Any]:
    return next(
        m
        for m in run.emulator.messages_in(run.group_id, from_bot=True)
        if "🎫" in (m.get("text") or "")
    )


def group_says(run: Running, text: str) -> bool:
    return any(text in (m.get("text") or "") for m in run.emulator.messages_in(run.group_id))


async def test_auto_assignment_and_a_canned_answer_in_one_tap(forum_bot: Running) -> None:
    run, emu = forum_bot, forum_bot.emulator
    bob = emu.add_user("Bob", username="bob")
    emu.add_member(run.group_id, bob)
    hello = emu.user_sends_text(bob, "Hi, I am new here", chat_id=run.group_id)
    emu.user_sends_text(run.admin, "/agent add", chat_id=run.group_id, reply_to=hello)
    await run.wait(lambda: group_says(run, "Bob is registered as agent"), "Bob registered")
    for command in [
        f"/teams join Billing {bob['id']}",
        "/teams strategy Billing round_robin",
        "/canned add charge en billing\nSorry about the double charge, {name}: "
        "the second payment is refunded within 3 days ({ticket}).",
    ]:
        emu.user_sends_text(run.admin, command, chat_id=run.group_id)
    await run.wait(lambda: group_says(run, "Canned answer “charge” saved"), "canned answer saved")
    assert group_says(run, "round-robin")

    ann = emu.add_user("Ann")
    emu.user_sends_text(ann, "I was charged twice for my subscription this month")
    await run.wait(lambda: run.texts_to(bob), "a direct message to the assignee", 60)
    dm = emu.messages_in(bob["id"], from_bot=True)[-1]
    assert "Ticket #1 was assigned to you" in dm["text"]
    await run.wait(lambda: "Assignee: Bob" in card(run)["text"], "the assignee on the card")
    topic_button = dm["reply_markup"]["inline_keyboard"][0][0]
    thread = run.ticket_topics()[0]["message_thread_id"]
    assert topic_button["url"].endswith(f"/{thread}")

    await run.wait(lambda: "💬 charge" in str(card(run).get("reply_markup")), "suggestion")
    emu.user_presses(bob, run.group_id, card(run)["message_id"], button_data(card(run), "charge"))
    expected = (
        "Sorry about the double charge, Ann: the second payment is refunded within 3 days (#1)."
    )
    await run.wait(lambda: expected in run.texts_to(ann), "the canned answer at the customer")
    await run.wait(lambda: "💬" not in str(card(run).get("reply_markup")), "suggestions gone")
    assert "Status: Waiting for customer" in card(run)["text"]


async def test_the_running_bot_serves_metrics_and_health(bot_factory: Any) -> None:
    port = free_port()
    run = await bot_factory(HELPDESK_METRICS_PORT=str(port))
    try:
        run.emulator.user_sends_text(run.emulator.add_user("Ann"), "My card was declined")
        await run.wait(lambda: run.ticket_topics(), "a ticket topic", 60)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/health") as response:
                assert response.status == 200
                assert (await response.json())["status"] == "ok"
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                text = await response.text()
        assert 'helpdesk_tickets{status="new"} 1.0' in text
        assert "helpdesk_triage_seconds_count 1.0" in text
    finally:
        await run.process.terminate(timeout=10)
        await run.emulator.stop()
