"""Triage end to end: prediction on the card, a supervisor's correction, retraining."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Running, bot_env
from tests.support.cli import helpdesk
from tests.support.desk import button_data

pytestmark = pytest.mark.e2e


def card(run: Running) -> dict[str, Any]:
    return next(
        m
        for m in run.emulator.messages_in(run.group_id, from_bot=True)
        if "🎫" in (m.get("text") or "")
    )


async def card_shown(run: Running) -> None:
    await run.wait(
        lambda: any("🎫" in (m.get("text") or "") for m in run.emulator.messages_in(run.group_id)),
        "card",
        60,
    )


async def test_prediction_correction_and_retrain(forum_bot: Running, tmp_path: Path) -> None:
    run, emu = forum_bot, forum_bot.emulator
    sue = emu.add_user("Sue", username="sue")
    emu.add_member(run.group_id, sue)
    emu.user_sends_text(run.admin, f"/agent add {sue['id']} supervisor", chat_id=run.group_id)
    ann = emu.add_user("Ann")
    emu.user_sends_text(ann, "I was charged twice for my subscription this month")
    await card_shown(run)
    await run.wait(
        lambda: "Category: billing" in card(run)["text"], "predicted category on the card"
    )
    assert "Team: Billing" in card(run)["text"]

    emu.user_presses(
        sue, run.group_id, card(run)["message_id"], button_data(card(run), "Category")
    )
    await run.wait(lambda: "refunds" in json.dumps(card(run).get("reply_markup")), "category menu")
    emu.user_presses(sue, run.group_id, card(run)["message_id"], button_data(card(run), "refunds"))
    await run.wait(lambda: "Category: refunds" in card(run)["text"], "corrected category")
    assert await run.process.terminate() == 0

    with sqlite3.connect(run.data_dir / "helpdesk.db") as db:
        rows = db.execute(
            "SELECT l.text, l.category, a.telegram_id FROM labelled_examples l "
            "JOIN agents a ON a.id = l.agent_id"
        ).fetchall()
    assert rows == [("I was charged twice for my subscription this month", "refunds", sue["id"])]

    env = bot_env(emu, run.group, run.admin, run.data_dir)
    result = helpdesk("triage", "retrain", env=env, cwd=tmp_path, timeout=180)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["corrections"] == 1
    assert report["current"] is not None  # compared with the model the bot trained at start
    promoted_by_rule = all(
        report["candidate"][k] >= report["current"][k] - 0.01
        for k in ("macro_f1", "accuracy_when_confident")
    )
    assert report["promoted"] == promoted_by_rule
    listed = helpdesk("triage", "models", env=env, cwd=tmp_path)
    versions = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(versions) == 2
    current = [v["id"] for v in versions if v["current"]]
    assert (current == [report["version"]]) == report["promoted"]


async def test_a_greeting_is_not_sure_and_other_is_stored(forum_bot: Running) -> None:
    run, emu = forum_bot, forum_bot.emulator
    ann = emu.add_user("Ann")
    emu.user_sends_text(ann, "hello")
    await card_shown(run)
    await run.wait(lambda: "not sure" in card(run)["text"], "not-sure card")
    await run.wait(
        lambda: any(
            "Not sure about" in (m.get("text") or "")
            for m in emu.messages_in(run.group_id, from_bot=True)
        ),
        "triage queue notice",
    )
    emu.user_presses(
        run.admin,
        run.group_id,
        card(run)["message_id"],
        button_data(card(run), "Other / not a category"),
    )
    await run.wait(
        lambda: "Category: Other / not a category" in card(run)["text"], "corrected category"
    )
    assert await run.process.terminate() == 0
    with sqlite3.connect(run.data_dir / "helpdesk.db") as db:
        rows = db.execute("SELECT text, category FROM labelled_examples").fetchall()
    assert rows == [("hello", "oos")]


async def test_thanks_after_resolve_stays_resolved_and_a_question_reopens(
    forum_bot: Running,
) -> None:
    run, emu = forum_bot, forum_bot.emulator
    ann = emu.add_user("Ann")
    emu.user_sends_text(ann, "My card payment was declined twice today")
    await card_shown(run)
    emu.user_presses(
        run.admin, run.group_id, card(run)["message_id"], button_data(card(run), "Resolve")
    )
    await run.wait(lambda: any("resolved" in t for t in run.texts_to(ann)), "resolved notice")
    [topic] = run.ticket_topics()

    def in_topic() -> list[str]:
        return [
            m.get("text") or "" for m in emu.messages_in(run.group_id, topic["message_thread_id"])
        ]

    emu.user_sends_text(ann, "спасибо!")
    await run.wait(
        lambda: any("A thank-you from the customer" in t for t in in_topic()), "thank-you note", 60
    )
    assert "спасибо!" in in_topic()
    assert not any("open again" in t for t in run.texts_to(ann))
    await run.wait(lambda: "Resolved" in card(run)["text"], "card still resolved")

    emu.user_sends_text(ann, "Sorry, one more thing: how do I get an invoice for it?")
    await run.wait(lambda: any("open again" in t for t in run.texts_to(ann)), "reopened")
    assert await run.process.terminate() == 0
    with sqlite3.connect(run.data_dir / "helpdesk.db") as db:
        tickets = db.execute("SELECT number, status FROM tickets").fetchall()
        texts = [row[0] for row in db.execute("SELECT text FROM ticket_messages ORDER BY id")]
    assert tickets == [(1, "open")]
    assert "спасибо!" in texts


def mapped_files(pid: int) -> set[str]:
    """Files the process has mapped: every compiled extension module it imported."""
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split(maxsplit=5)[5] for line in lines if len(line.split(maxsplit=5)) == 6}


async def test_the_bot_serves_without_scikit_learn_or_scipy(forum_bot: Running) -> None:
    """Triage, canned suggestions, similar tickets and the thank-you decision in the real
    process; scikit-learn and scipy (both load compiled modules when imported) never do."""
    run, emu = forum_bot, forum_bot.emulator
    ann = emu.add_user("Ann")
    emu.user_sends_text(ann, "I was charged twice for my subscription this month")
    await card_shown(run)
    await run.wait(lambda: "Category: billing" in card(run)["text"], "predicted category")
    thread = run.ticket_topics()[0]["message_thread_id"]
    emu.user_sends_text(
        run.admin, "Refunded the second charge", chat_id=run.group_id, thread_id=thread
    )
    emu.user_sends_text(run.admin, "/status waiting", chat_id=run.group_id, thread_id=thread)
    await run.wait(
        lambda: "Refunded the second charge" in run.texts_to(ann), "the reply to the customer"
    )
    emu.user_sends_text(ann, "спасибо, всё работает!")
    await run.wait(
        lambda: any(
            "спасибо, всё работает!" in (m.get("text") or "")
            for m in emu.messages_in(run.group_id, from_bot=True)
        ),
        "the thank-you in the topic",
    )
    with sqlite3.connect(run.data_dir / "helpdesk.db") as db:
        [(status,)] = db.execute("SELECT status FROM tickets").fetchall()
    assert status.lower() == "waiting"  # a thank-you: the waiting ticket is not bumped

    pid = run.process.pid
    assert pid is not None
    heavy = sorted(
        path
        for path in mapped_files(pid)
        if any(part in path for part in ("/sklearn/", "/scipy/", "scikit_learn", "scipy.libs"))
    )
    assert heavy == []
    assert any("/numpy/" in path for path in mapped_files(pid))  # the check sees extensions
