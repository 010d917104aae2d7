"""Similar solved tickets end to end: the real bot process, the emulator, the CLI rebuild."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Running, bot_env
from tests.support.cli import helpdesk
from tests.support.desk import button_data

pytestmark = pytest.mark.e2e

SOLVED = [
    ("Ann", "My card was charged twice for one order", "Sorry! The double charge is refunded."),
    ("Bob", "I was charged twice on my card yesterday", "We refunded the second charge today."),
    ("Cid", "Charged two times for the same card payment", "The duplicate payment is reversed."),
]


def topic_of(run: Running, number: int) -> int:
    return next(
        t["message_thread_id"] for t in run.ticket_topics() if t["name"].startswith(f"#{number} ")
    )


def bot_posts(run: Running, thread: int, marker: str) -> list[dict[str, Any]]:
    return [
        m
        for m in run.emulator.messages_in(run.group_id, thread, from_bot=True)
        if marker in (m.get("text") or "")
    ]


async def has_post(run: Running, number: int, marker: str, what: str) -> dict[str, Any]:
    await run.wait(
        lambda: (
            run.ticket_topics()
            and any(t["name"].startswith(f"#{number} ") for t in run.ticket_topics())
        ),
        f"topic #{number}",
        60,
    )
    thread = topic_of(run, number)
    await run.wait(lambda: bot_posts(run, thread, marker), what, 60)
    return bot_posts(run, thread, marker)[-1]


def press(run: Running, message: dict[str, Any], label: str) -> None:
    run.emulator.user_presses(
        run.admin, run.group_id, message["message_id"], button_data(message, label)
    )


async def test_three_solved_then_a_fourth_gets_them_and_sends_a_reply(
    forum_bot: Running, tmp_path: Path
) -> None:
    run, emu = forum_bot, forum_bot.emulator
    for number, (name, question, answer) in enumerate(SOLVED, start=1):
        customer = emu.add_user(name)
        emu.user_sends_text(customer, question)
        card = await has_post(run, number, "🎫", f"card of #{number}")
        emu.user_sends_text(
            run.admin, answer, chat_id=run.group_id, thread_id=topic_of(run, number)
        )
        await run.wait(lambda c=customer, a=answer: a in run.texts_to(c), "the answer delivered")
        press(run, card, "Resolve")
        await run.wait(
            lambda c=customer: any("resolved" in t for t in run.texts_to(c)), "resolved"
        )

    dee = emu.add_user("Dee")
    emu.user_sends_text(dee, "My card got charged twice, please help")
    listing = await has_post(run, 4, "Similar solved tickets", "the similar list on #4")
    for number, (_name, _question, answer) in enumerate(SOLVED, start=1):
        assert f"#{number}" in listing["text"]
        assert answer in listing["text"]

    press(run, listing, "#2")
    draft = await has_post(run, 4, "📝", "the draft in #4 topic")
    assert SOLVED[1][2] in draft["text"]
    press(run, draft, "Send as is")
    await run.wait(lambda: SOLVED[1][2] in run.texts_to(dee), "the reply sent to Dee")

    # The table rebuilt from history by the CLI while the bot runs: the bot follows it.
    env = bot_env(emu, run.group, run.admin, run.data_dir)
    result = helpdesk("triage", "reindex", env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["solutions"] == 3
    eve = emu.add_user("Eve")
    emu.user_sends_text(eve, "charged twice on my card, what now?")
    again = await has_post(run, 5, "Similar solved tickets", "the list after the rebuild")
    assert "#1" in again["text"]
