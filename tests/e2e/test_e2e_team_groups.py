"""Team groups end to end, with Telegram's limits: the real process verifies a team's group,
opens the team's tickets there, relays replies from it, and moves a ticket's topic when its
team changes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Running, cluster_env, redis_or_skip, start_world, without_incidents
from tests.support.db import empty_database
from tests.support.workers import webhook_cluster

pytestmark = pytest.mark.e2e


def bot_texts(run: Running, chat_id: int, thread_id: int | None = None) -> list[str]:
    return [
        m.get("text") or "" for m in run.emulator.messages_in(chat_id, thread_id, from_bot=True)
    ]


def links(message: dict[str, Any]) -> list[str]:
    return [e["url"] for e in message.get("entities", []) if e["type"] == "text_link"]


def ticket_topics(run: Running, chat_id: int) -> list[dict[str, Any]]:
    return [t for t in run.emulator.topics(chat_id) if t["name"].startswith("#")]


async def answered(run: Running, user: dict[str, Any], text: str, expected: str) -> None:
    """``user`` sends ``text`` in the main group; the bot's answer there says ``expected``."""
    run.emulator.user_sends_text(user, text, chat_id=run.group_id)
    await run.wait(
        lambda: any(expected in t for t in bot_texts(run, run.group_id)), f"answer {expected!r}"
    )


#: Telegram's own limits, on the bot's side and the emulator's.
TELEGRAM_LIMITS = {
    "HELPDESK_RATE_PRIVATE_PER_S": "1",
    "HELPDESK_RATE_GROUP_PER_MIN": "20",
    "HELPDESK_RATE_GLOBAL_PER_S": "30",
}


async def test_a_team_group_is_verified_hosts_its_tickets_and_takes_moved_ones(
    bot_factory: Any,
) -> None:
    run = await bot_factory(forum=True, **TELEGRAM_LIMITS)
    emu = run.emulator
    emu.set_rate_limits(1, 20, 30)
    plain = emu.add_supergroup("Chatter", is_forum=False)
    unadmin = emu.add_supergroup("Bot is a member only", bot_is_admin=False)
    await answered(
        run, run.admin, f"/teams group Billing {plain['id']}", "topics are switched off"
    )
    await answered(run, run.admin, f"/teams group Billing {unadmin['id']}", "not an administrator")
    bob = emu.add_user("Bob", username="bob")
    emu.add_member(run.group_id, bob)
    await answered(run, run.admin, f"/agent add {bob['id']} agent", "is registered as agent")
    await answered(run, bob, f"/teams group Billing {plain['id']}", "needs the admin role")

    billing = emu.add_supergroup("Billing agents")
    logistics = emu.add_supergroup("Logistics agents")
    for group in (billing, logistics):
        emu.add_member(group["id"], run.admin, "administrator")
    await answered(run, run.admin, f"/teams group Billing {billing['id']}", str(billing["id"]))
    await answered(
        run, run.admin, f"/teams group Logistics {logistics['id']}", str(logistics["id"])
    )

    # A billing matter opens in the Billing group, and nothing about it in the main group.
    ann = emu.add_user("Ann")
    emu.user_sends_text(ann, "I was charged twice for my subscription this month")
    await run.wait(lambda: ticket_topics(run, billing["id"]), "a topic in the Billing group", 60)
    assert run.ticket_topics() == []
    thread = ticket_topics(run, billing["id"])[0]["message_thread_id"]
    await run.wait(
        lambda: any("🎫" in t for t in bot_texts(run, billing["id"], thread)), "the card"
    )
    emu.user_sends_text(run.admin, "We are refunding it", chat_id=billing["id"], thread_id=thread)
    await run.wait(
        lambda: any(t.startswith("We are refunding it") for t in run.texts_to(ann)),
        "the reply at the customer's",
    )

    # Moved to Logistics: a new topic there with the card and a summary; the old one closed.
    emu.user_sends_text(run.admin, "/team Logistics", chat_id=billing["id"], thread_id=thread)
    await run.wait(lambda: ticket_topics(run, logistics["id"]), "a topic in the Logistics group")
    new_thread = ticket_topics(run, logistics["id"])[0]["message_thread_id"]
    await run.wait(
        lambda: emu.topic(billing["id"], thread)["is_closed"], "the old topic closed", 30
    )
    new_topic = emu.messages_in(logistics["id"], new_thread, from_bot=True)
    assert "🎫" in new_topic[0]["text"]
    summary = next(m for m in new_topic if "Moved here" in (m.get("text") or ""))
    assert "We are refunding it" in summary["text"]
    assert links(summary) == [f"https://t.me/c/{str(billing['id'])[4:]}/{thread}"]
    farewell = emu.messages_in(billing["id"], thread, from_bot=True)[-1]
    assert links(farewell) == [f"https://t.me/c/{str(logistics['id'])[4:]}/{new_thread}"]

    emu.user_sends_text(ann, "Is it done?")
    await run.wait(
        lambda: "Is it done?" in bot_texts(run, logistics["id"], new_thread),
        "the customer's next message in the new topic",
    )
    assert "Is it done?" not in bot_texts(run, billing["id"], thread)
    assert emu.served_429 == 0  # each group's traffic stayed within its own budget


#: New tickets the seed model gives to Billing, and to Accounts (a team without a group).
BILLING_TEXTS = [
    "I was charged twice for my subscription this month",
    "Why did you bill me twice this month?",
    "My invoice shows a wrong amount",
]
ACCOUNT_TEXTS = [
    "I cannot log in, my password reset email never arrives",
    "How do I change the email address of my account?",
    "My account is locked after too many attempts",
]


@pytest.mark.postgres
@pytest.mark.timeout(420)
async def test_two_workers_keep_each_group_within_its_own_budget(tmp_path: Path) -> None:
    """Two webhook workers (PostgreSQL + Redis) with Telegram's limits: more new tickets than
    a minute's budget in the Billing group and in the main group at once; every ticket opens
    once in its group, and Telegram never has to refuse a call (the workers share each group's
    budget through Redis)."""
    redis_url = redis_or_skip()
    async for db_url in empty_database("postgres", tmp_path):
        await run_two_workers(tmp_path, db_url, redis_url)


async def run_two_workers(tmp_path: Path, db_url: str, redis_url: str) -> None:
    emu, group, admin = await start_world(webhook=True)
    env = cluster_env(emu, group, admin, tmp_path, db_url, redis_url, **TELEGRAM_LIMITS)
    try:
        async with webhook_cluster(env, tmp_path, 2) as (workers, _balancer):
            run = Running(emu, workers[0], group, admin, tmp_path / "w0")
            await without_incidents(run)
            billing = emu.add_supergroup("Billing agents")
            emu.add_member(billing["id"], admin, "administrator")
            await answered(run, admin, f"/teams group Billing {billing['id']}", str(billing["id"]))
            emu.set_rate_limits(1, 20, 30)
            # A topic and a card each before the pins: 24 calls, more than a minute's 20, in each
            # of the two groups at once.
            count = 12
            people = [emu.add_user(f"B{i}") for i in range(count)]
            people += [emu.add_user(f"A{i}") for i in range(count)]
            for i in range(count):
                emu.user_sends_text(people[i], f"{BILLING_TEXTS[i % 3]} (case {i})")
                emu.user_sends_text(people[count + i], f"{ACCOUNT_TEXTS[i % 3]} (case {i})")

            def cards(chat_id: int) -> list[str]:
                return [t for t in bot_texts(run, chat_id) if "🎫" in t]

            await run.wait(
                lambda: len(cards(billing["id"])) == count and len(cards(run.group_id)) == count,
                "every ticket's card in its group",
                240,
            )
            await asyncio.sleep(3)  # anything sent twice would show up now
            assert len(ticket_topics(run, billing["id"])) == count
            assert len(run.ticket_topics()) == count
            assert len(set(cards(billing["id"]))) == count
            assert all("(case" in t for t in cards(billing["id"]))
            assert emu.served_429 == 0
    finally:
        await emu.stop()
