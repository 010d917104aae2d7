"""The ``teams`` mode of ``bench/load.py``: one desk split across team groups against the same
desk in one group, with Telegram-like limits (scaled by ``--scale`` on both sides).

``--teams-customers`` customers (200) each open a ticket about a matter of one of four teams
(Billing, Accounts, Tech support, Logistics, which the seed model recognises), all at once. The
run is made twice: every team in the main group, then each team in a group of its own (set with
``/teams group`` before the burst). Measured: when the last customer message was in its topic
(its ticket's card quotes it), counted from the first message sent; the ratio of the two is the
speed-up of splitting the desk. Each group's budget is its own, so with four groups the burst
should drain about four times faster (the goal is at least three).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from load import (
    arrived_in_group,
    bench_env,
    percentile,
    world,
)

from tests.support.process import BotProcess
from tests.support.scenarios import switch_incidents_off

#: What each team's customers write (the seed model puts each with its team, confidently).
TEAM_TEXTS = {
    "Billing": [
        "I was charged twice for my subscription this month",
        "Why did you bill me twice this month?",
        "My invoice shows a wrong amount",
    ],
    "Accounts": [
        "I cannot log in, my password reset email never arrives",
        "How do I change the email address of my account?",
        "My account is locked after too many attempts",
    ],
    "Tech support": [
        "The app crashes when I open the settings page",
        "The app freezes on startup after the update",
        "The page does not load in my browser",
    ],
    "Logistics": [
        "The courier left my package at the wrong address",
        "My order has not been delivered after two weeks",
        "Tracking number does not work for my shipment",
    ],
}


async def compare_layouts(customers: int, scale: float) -> dict[str, Any]:
    """The burst on one group and on one group per team; the speed-up of the second."""
    one = await burst(customers, scale, split=False)
    four = await burst(customers, scale, split=True)
    slow, fast = one.get("last_in_topic_after_s"), four.get("last_in_topic_after_s")
    return {
        "customers": customers,
        "teams": len(TEAM_TEXTS),
        "one_group": one,
        "group_per_team": four,
        "speedup": round(slow / fast, 2) if slow and fast else None,
        "goal_speedup": 3.0,
    }


async def burst(customers: int, scale: float, *, split: bool) -> dict[str, Any]:
    """``customers`` new tickets at once, spread over the four teams; ``split``: each team
    works in a group of its own."""
    emulator, main, admin, people, tmp = await world("Teams", customers)
    limits = {"private_per_s": 1 * scale, "group_per_min": 20 * scale, "global_per_s": 30 * scale}
    emulator.set_rate_limits(
        int(limits["private_per_s"]), int(limits["group_per_min"]), int(limits["global_per_s"])
    )
    env = bench_env(emulator, main, admin, tmp) | {
        "HELPDESK_RATE_PRIVATE_PER_S": str(limits["private_per_s"]),
        "HELPDESK_RATE_GROUP_PER_MIN": str(limits["group_per_min"]),
        "HELPDESK_RATE_GLOBAL_PER_S": str(limits["global_per_s"]),
    }
    bot = BotProcess([sys.executable, "-m", "bot", "run"], env, cwd=tmp, log_path=tmp / "bot.log")
    await bot.start()
    try:
        await bot.wait_ready(emulator, timeout=300)
        await switch_incidents_off(emulator, main["id"], admin, seconds=120)
        groups = [int(main["id"])]
        if split:
            for team in TEAM_TEXTS:
                group = emulator.add_supergroup(f"{team} agents")
                emulator.add_member(group["id"], admin, "administrator")
                emulator.user_sends_text(
                    admin, f"/teams group {team} {group['id']}", chat_id=main["id"]
                )
                await emulator.wait_for(
                    lambda emu, g=group["id"]: any(
                        str(g) in (m.get("text") or "")
                        for m in emu.messages_in(main["id"], from_bot=True)
                    ),
                    120,
                    interval=0.2,
                    description=f"{team}'s group set",
                )
                groups.append(int(group["id"]))
        by_text: dict[str, tuple[int, int]] = {}
        teams = list(TEAM_TEXTS)
        t0 = time.time()
        for i, person in enumerate(people):
            texts = TEAM_TEXTS[teams[i % len(teams)]]
            text = f"{texts[(i // len(teams)) % len(texts)]} (order {i})"
            sent = emulator.user_sends_text(person, text)
            by_text[text] = (person["id"], sent["message_id"])

        def arrived() -> dict[tuple[int, int], float]:
            seen: dict[tuple[int, int], float] = {}
            for group_id in groups:
                for key, stamps in arrived_in_group(emulator, group_id, by_text).items():
                    seen[key] = min([*stamps, seen.get(key, stamps[0])])
            return seen

        deadline = time.time() + 900 * max(1.0, 5.0 / scale)  # one group at 20/min: ~30 min
        while len(arrived()) < customers and time.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.5)
        done = arrived()
        waits = [t - t0 for t in done.values()]
        return {
            "groups": len(groups) - 1 if split else 1,
            "limits": limits,
            "in_topic": len(done),
            "lost": customers - len(done),
            "last_in_topic_after_s": round(max(waits), 1) if waits else None,
            "in_topic_s_p50": round(percentile(waits, 50) or 0, 1),
            "tickets_per_group": [
                sum(1 for t in emulator.topics(g) if t["name"].startswith("#")) for g in groups
            ],
            "served_429": emulator.served_429,
        }
    finally:
        await bot.terminate(timeout=15)
        await emulator.stop()
