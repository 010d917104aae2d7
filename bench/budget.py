"""The agents' group's budget in bench/load.py: what one ticket costs the group (``budget``),
and 300 customers writing about one outage within a minute (``outage``); see load.py's
docstring. Run through ``python bench/load.py --mode budget|outage``."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from load import (
    UNLIMITED,
    bench_env,
    noop_edits,
    pending_work,
    percentile,
    poll_until,
    settle,
    world,
)

from bot.sandbox.emulator import BotApiEmulator
from tests.support.process import BotProcess
from tests.support.scenarios import DISTINCT_PROBLEMS


async def group_budget(customers: int) -> dict[str, Any]:
    """Group calls per new ticket and per follow-up message (see the module's docstring)."""
    emulator, group, admin, people, tmp = await world("Budget", customers)
    bot = BotProcess(
        [sys.executable, "-m", "bot", "run"],
        bench_env(emulator, group, admin, tmp) | UNLIMITED,
        cwd=tmp,
        log_path=tmp / "bot.log",
    )
    await bot.start()
    rounds: dict[str, Any] = {}
    try:
        await bot.wait_ready(emulator, timeout=300)
        await settle(emulator, tmp / "helpdesk.db")
        # Different problems (the same one from everybody would be an incident, not tickets).
        for name in ("new_ticket", "follow_up"):
            before = len(emulator.calls)
            for i, person in enumerate(people):
                problem = DISTINCT_PROBLEMS[i % len(DISTINCT_PROBLEMS)]
                emulator.user_sends_text(
                    person,
                    problem if name == "new_ticket" else f"Any news? I still need: {problem}",
                )
            await settle(emulator, tmp / "helpdesk.db")
            calls = [
                c
                for c in emulator.calls[before:]
                if str(c.params.get("chat_id")) == str(group["id"])
                and c.method not in ("getChat", "getChatMember", "getChatAdministrators")
            ]
            by_method: dict[str, int] = {}
            for call in calls:
                by_method[call.method] = by_method.get(call.method, 0) + 1
            rounds[name] = {
                "group_calls_per_message": round(len(calls) / customers, 2),
                "by_method": by_method,
                "noop_edits": len(noop_edits(calls)),
            }
    finally:
        code = await bot.terminate(timeout=15)
        await emulator.stop()
    return {"customers": customers, "limits": "lifted", **rounds, "exit_code": code}


#: What customers write during the outage: paraphrases of one complaint.
OUTAGE_TEXTS = [
    "The app is down, I cannot log in",
    "I can't log in to the app, it keeps failing",
    "App not working since this morning, login fails",
    "Is the app down? Login does not work for me",
    "Cannot log into the app at all, please help",
]


async def outage(customers: int, seconds: float) -> dict[str, Any]:
    """Everyone writes about one outage (see the module's docstring), then an agent answers
    them all at once in the incident's topic."""
    emulator, group, admin, people, tmp = await world("Outage", customers)
    limits = {"private_per_s": 1, "group_per_min": 20, "global_per_s": 30}
    emulator.set_rate_limits(
        limits["private_per_s"], limits["group_per_min"], limits["global_per_s"]
    )
    bot = BotProcess(
        [sys.executable, "-m", "bot", "run"],
        bench_env(emulator, group, admin, tmp),
        cwd=tmp,
        log_path=tmp / "bot.log",
    )
    await bot.start()
    try:
        await bot.wait_ready(emulator, timeout=300)
        await settle(emulator, tmp / "helpdesk.db")
        before = len(emulator.calls)
        wrote: dict[int, float] = {}
        t0 = time.time()
        for i, person in enumerate(people):
            await asyncio.sleep(max(0.0, t0 + i * seconds / customers - time.time()))
            emulator.user_sends_text(person, f"{OUTAGE_TEXTS[i % len(OUTAGE_TEXTS)]} ({i})")
            wrote[person["id"]] = time.time()

        def first_to_each(since: int) -> dict[int, float]:
            first: dict[int, float] = {}
            for call in emulator.calls[since:]:
                chat = call.params.get("chat_id")
                if call.method == "sendMessage" and call.ok and chat is not None:
                    first.setdefault(int(chat), call.timestamp)
            return {p: t for p, t in first.items() if p in wrote}

        await poll_until(lambda: _count(first_to_each(before)), customers, 600, every=0.5)
        acks = first_to_each(before)
        waits = [acks[p] - wrote[p] for p in acks]
        group_calls = [
            c
            for c in emulator.calls[before:]
            if str(c.params.get("chat_id")) == str(group["id"]) and c.ok
        ]
        alerts = [
            c.timestamp
            for c in group_calls
            if c.method == "createForumTopic" and str(c.params.get("name", "")).startswith("🚨")
        ]
        result: dict[str, Any] = {
            "customers": customers,
            "written_over_s": seconds,
            "limits": limits,
            "acknowledged": len(acks),
            "all_acknowledged_after_s": round(max(acks.values()) - t0, 1) if acks else None,
            "ack_wait_s_p50": round(percentile(waits, 50) or 0, 1),
            "ack_wait_s_max": round(max(waits), 1) if waits else None,
            "incident_alert_after_s": round(min(alerts) - t0, 1) if alerts else None,
            "incidents": len(alerts),
            "group_calls_first_minute": sum(1 for c in group_calls if c.timestamp - t0 <= 60),
            "group_calls_until_all_acknowledged": len(group_calls),
            "still_queued_when_all_acknowledged": pending_work(tmp / "helpdesk.db"),
        }
        topics = [t for t in emulator.topics(group["id"]) if t["name"].startswith("🚨")]
        if topics:
            threads = [t["message_thread_id"] for t in topics]
            result["bulk_reply"] = await bulk_reply(emulator, group, admin, threads, wrote)
        result["served_429"] = emulator.served_429
        return result
    finally:
        await bot.terminate(timeout=15)
        await emulator.stop()


async def bulk_reply(
    emulator: BotApiEmulator,
    group: dict[str, Any],
    agent: dict[str, Any],
    threads: list[int],
    customers: dict[int, float],
) -> dict[str, Any]:
    """An agent answers in each incident's topic: how fast the answer reaches the customers
    (a copy of the agent's message in each private chat)."""
    since = len(emulator.calls)
    start = time.time()
    for thread in threads:
        emulator.user_sends_text(
            agent,
            "We found the cause and fixed it: please try again.",
            chat_id=group["id"],
            thread_id=thread,
        )

    def answers() -> list[tuple[int, float]]:
        return [
            (int(c.params["chat_id"]), c.timestamp)
            for c in emulator.calls[since:]
            if c.ok
            and c.method == "copyMessage"
            and str(c.params.get("from_chat_id")) == str(group["id"])
            and int(c.params["chat_id"]) in customers
        ]

    async def reached() -> int:
        return len({chat for chat, _ in answers()})

    await poll_until(reached, len(customers), 120, every=0.5)
    got = answers()
    sent = sorted(t for _, t in got)
    span = sent[-1] - sent[0] if len(sent) > 1 else 0.0
    return {
        "incident_topics_answered": len(threads),
        "customers": len(customers),
        "reached": len({chat for chat, _ in got}),
        "sent_twice": len(got) - len({chat for chat, _ in got}),
        "all_reached_after_s": round(sent[-1] - start, 1) if sent else None,
        "rate_per_s": round((len(sent) - 1) / span, 1) if span else None,
        "share_of_global_limit": round((len(sent) - 1) / span / 30, 3) if span else None,
    }


async def _count(found: dict[int, float]) -> int:
    return len(found)
