"""Load benchmark: N customers x M messages through the real bot process and the emulator.

Prints one JSON object. Two runs by default:

* ``unlimited``: the emulator answers as fast as it can and the bot's limits are lifted. Measures
  ingestion (customer messages stored in their tickets with the cards queued, per second, read
  from the database) and end-to-end latency (message sent by the customer -> its copy in the
  ticket's topic), lost and duplicated messages, the bot's CPU per customer message over the
  burst (every call it caused included: steadier than rates when the machine is shared) and
  its peak RSS.
* ``telegram``: the emulator enforces Telegram-like limits (sliding windows: per private chat,
  per group per minute, overall per second) and the bot runs with the same limits. To keep the
  run short both are scaled by ``--scale`` (the ratios are what matters). Reports the achieved
  rate to the agents' group against the allowed one, 429s served, and the longest run of 429s
  in a row for one chat.

* ``backlog``: the same burst on a desk with history (``--tickets`` existing tickets, 100,000
  by default) and a backlog of ``--backlog`` queued calls (5,000) when the bot starts. The
  backlog is drained while no update comes in, so the bot's CPU time over it divided by the
  calls made is the sender's CPU per call; then the burst shows whether the per-message cost
  grew with the history.
* ``postgres``: the ``unlimited`` run with the bot on PostgreSQL (``HELPDESK_BENCH_POSTGRES_URL``
  or ``HELPDESK_TEST_POSTGRES_URL``; a fresh database each run).

* ``budget``: what the agents' group pays for one ticket: ``--budget-customers`` customers (5)
  each open a ticket with one message, then each writes a follow-up; after each round the bot is
  left to settle and the calls to the group are counted (by method), with the edits Telegram
  answered "message is not modified" (calls that cost the budget and change nothing). Limits
  are lifted, so nothing is coalesced by waiting: the counts are the most a ticket costs.

* ``outage``: ``--outage-customers`` customers (300) each write about one outage, spread evenly
  over ``--outage-seconds`` (60), with Telegram's real limits (1/s per private chat, 20/min per
  group, 30/s overall) on both sides. Measures when every customer had their acknowledgement
  (the group's queue is far behind by then: its calls are counted for the first minute and what
  is still queued for it when the last acknowledgement went out).

* ``teams``: ``--teams-customers`` customers (200) open tickets of four teams at once, with
  Telegram-like limits scaled by ``--teams-scale``: on one agents' group, then on one group per
  team. Reports when the last message was in its topic in each layout and the speed-up
  (``bench/team_groups.py``).

* ``workers``: webhook mode on PostgreSQL + Redis behind a round-robin balancer, with 1 and
  then 3 worker processes (limits lifted as in ``unlimited``), side by side. Needs
  ``HELPDESK_BENCH_POSTGRES_URL`` and ``HELPDESK_BENCH_REDIS_URL`` (falling back to the test
  suite's ``HELPDESK_TEST_*`` variables); each run gets a database of its own.

    python bench/load.py [--customers 40] [--messages 10]
                         [--mode both|all|unlimited|telegram|backlog|postgres|workers|
                                 budget|outage|teams]
                         [--tickets 100000] [--backlog 5000] [--workers 1,3]

``both`` runs ``unlimited``, ``telegram`` and ``budget``; ``all`` adds ``backlog`` and
``postgres``.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import platform
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bot.sandbox.emulator import BotApiEmulator  # noqa: E402
from tests.support.balancer import Balancer  # noqa: E402
from tests.support.db import empty_database  # noqa: E402
from tests.support.process import BotProcess  # noqa: E402
from tests.support.scenarios import switch_incidents_off  # noqa: E402
from tests.support.workers import start_webhook_workers  # noqa: E402

TOKEN = "777000:BENCH-token-for-the-emulator-only"


#: The bot's own rate limits lifted: the emulator answers as fast as it can.
UNLIMITED = {
    "HELPDESK_RATE_PRIVATE_PER_S": "100000",
    "HELPDESK_RATE_GROUP_PER_MIN": "10000000",
    "HELPDESK_RATE_GLOBAL_PER_S": "100000",
}


def bench_env(
    emulator: BotApiEmulator, group: dict[str, Any], admin: dict[str, Any], data_dir: Path
) -> dict[str, str]:
    """The environment of a bot process against ``emulator``, its data in ``data_dir``."""
    return {
        "HELPDESK_BOT_TOKEN": TOKEN,
        "HELPDESK_TELEGRAM_API_URL": emulator.base_url,
        "HELPDESK_AGENT_CHAT_ID": str(group["id"]),
        "HELPDESK_ADMIN_IDS": str(admin["id"]),
        "HELPDESK_DATA_DIR": str(data_dir),
        "HELPDESK_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


async def world(
    name: str, customers: int
) -> tuple[BotApiEmulator, dict[str, Any], dict[str, Any], list[dict[str, Any]], Path]:
    """A started emulator with the agents' group, its admin, ``customers`` people called
    ``name<i>``, and a fresh data directory for the bot."""
    emulator = BotApiEmulator(TOKEN, validate_updates=False)
    await emulator.start()
    group = emulator.add_supergroup("Agents")
    admin = emulator.add_user("Admin")
    people = [emulator.add_user(f"{name}{i}") for i in range(customers)]
    tmp = Path(tempfile.mkdtemp(prefix=f"helpdesk-{name.lower()}-"))
    return emulator, group, admin, people, tmp


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def peak_rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def stored_customer_messages(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(
                conn.execute(
                    "SELECT count(*) FROM ticket_messages WHERE direction = 'customer'"
                ).fetchone()[0]
            )
    except sqlite3.Error:
        return 0


async def stored_in_postgres(url: str) -> int:
    from sqlalchemy import text

    from storage import make_engine

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            query = "SELECT count(*) FROM ticket_messages WHERE direction = 'customer'"
            return int((await conn.execute(text(query))).scalar() or 0)
    finally:
        await engine.dispose()


async def run_once(
    mode: str,
    customers: int,
    messages: int,
    scale: float,
    *,
    workers: int = 0,
    db_url: str = "",
    redis_url: str = "",
    history: tuple[int, int] | None = None,
) -> dict[str, Any]:
    emulator, group, admin, people, tmp = await world("C", customers)
    prefilled: dict[str, Any] = {}
    if history is not None:
        tickets, backlog = history
        readers = [emulator.add_user(f"Backlog{i}")["id"] for i in range(max(1, backlog // 50))]
        # Alembic runs its own event loop: the database is prepared in a thread.
        prefilled = await asyncio.to_thread(
            make_history, tmp / "helpdesk.db", readers, tickets, backlog
        )
    env = bench_env(emulator, group, admin, tmp)
    limits = {"private_per_s": 1 * scale, "group_per_min": 20 * scale, "global_per_s": 30 * scale}
    if mode in ("unlimited", "workers"):
        env |= UNLIMITED
    else:
        emulator.set_rate_limits(
            int(limits["private_per_s"]), int(limits["group_per_min"]), int(limits["global_per_s"])
        )
        env |= {
            "HELPDESK_RATE_PRIVATE_PER_S": str(limits["private_per_s"]),
            "HELPDESK_RATE_GROUP_PER_MIN": str(limits["group_per_min"]),
            "HELPDESK_RATE_GLOBAL_PER_S": str(limits["global_per_s"]),
        }
    balancer: Balancer | None = None
    if db_url:
        env["HELPDESK_DATABASE_URL"] = db_url
    if workers:
        emulator.allow_http_webhooks = True
        cluster = {"HELPDESK_REDIS_URL": redis_url, "HELPDESK_REDIS_PREFIX": tmp.name}
        processes, balancer = await start_webhook_workers(
            env | cluster | {"HELPDESK_LOG_LEVEL": "INFO"}, tmp, workers
        )

        async def stored() -> int:
            return await stored_in_postgres(db_url)
    else:
        processes = [
            BotProcess(
                [sys.executable, "-m", "bot", "run"], env, cwd=tmp, log_path=tmp / "bot.log"
            )
        ]
        await processes[0].start()
        await processes[0].wait_ready(emulator, timeout=300)

        async def stored() -> int:
            if db_url:
                return await stored_in_postgres(db_url)
            return stored_customer_messages(tmp / "helpdesk.db")

    if prefilled:
        prefilled |= await drain_backlog(emulator, processes[0], prefilled["backlog_calls"])
    await switch_incidents_off(emulator, group["id"], admin, seconds=120)

    sent_at: dict[tuple[int, int], float] = {}
    total = customers * messages
    before = await stored()  # customer messages of the history, if any

    async def new_messages() -> int:
        return await stored() - before

    cpu0 = sum(cpu_seconds(p.pid) for p in processes)
    t0 = time.time()
    by_text: dict[str, tuple[int, int]] = {}
    for i in range(messages):
        for person in people:
            text = f"message {i} from {person['first_name']}"
            msg = emulator.user_sends_text(person, text)
            sent_at[(person["id"], msg["message_id"])] = time.time()
            by_text[text] = (person["id"], msg["message_id"])
    t_ingested = await poll_until(new_messages, total, 300)
    ingested = await new_messages()

    def copied() -> dict[tuple[int, int], list[float]]:
        return arrived_in_group(emulator, group["id"], by_text)

    deliver_deadline = time.time() + (120 if mode == "unlimited" else 600)
    while time.time() < deliver_deadline:
        done = copied()
        if all(k in done for k in sent_at):
            break
        await asyncio.sleep(0.1)
    done = copied()
    latencies = [min(done[k]) - sent_at[k] for k in sent_at if k in done]
    t_delivered = max((min(done[k]) for k in sent_at if k in done), default=time.time())
    cpu_ms = 1000 * (sum(cpu_seconds(p.pid) for p in processes) - cpu0)
    rss = [peak_rss_mb(p.pid) for p in processes]
    codes = [await p.terminate(timeout=15) for p in processes]
    if balancer is not None:
        await balancer.stop()

    result: dict[str, Any] = {
        "database": "postgresql" if db_url else "sqlite",
        "workers": max(workers, 1),
        "customers": customers,
        "messages_per_customer": messages,
        "customer_messages": total,
        "ingested": ingested,
        "ingest_per_s": round(ingested / max(t_ingested - t0, 1e-9), 1),
        "delivered_per_s": round(len(latencies) / max(t_delivered - t0, 1e-9), 1),
        "latency_ms_p50": round(1000 * (percentile(latencies, 50) or 0), 1),
        "latency_ms_p99": round(1000 * (percentile(latencies, 99) or 0), 1),
        # The bot's CPU (every worker's) from the first message until the last was copied,
        # per customer message: intake, processing and every call it caused.
        "bot_cpu_ms_per_message": round(cpu_ms / total, 2),
        "lost": sum(1 for k in sent_at if k not in done),
        "duplicated": sum(len(v) - 1 for k, v in done.items() if k in sent_at),
        "peak_rss_mb": rss[0] if len(rss) == 1 else rss,
        "exit_code": codes[0] if len(codes) == 1 else codes,
    }
    if prefilled:
        result["history"] = prefilled
    if mode == "telegram":
        group_calls = [
            c
            for c in emulator.calls
            if str(c.params.get("chat_id")) == str(group["id"])
            and c.response
            and c.response.get("ok")
            and c.method not in ("getChat", "getChatMember")
        ]
        stamps = sorted(c.timestamp for c in group_calls)
        # Steady state: skip the first minute-window's burst, which the limit allows at once.
        window = 60.0
        span = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
        allowed = limits["group_per_min"] / 60.0
        result["telegram"] = {
            "limits": limits,
            "group_calls": len(stamps),
            "group_span_s": round(span, 1),
            "group_rate_per_min": round(60 * (len(stamps) - 1) / span, 2) if span else None,
            "group_rate_share_of_allowed": round(((len(stamps) - 1) / span) / allowed, 3)
            if span > window / scale
            else None,
            "served_429": emulator.served_429,
            "noop_edits": len(noop_edits(emulator.calls)),
            "max_429_in_a_row_per_chat": max_429_run(emulator),
        }
    await emulator.stop()
    return result


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time a process has used so far."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_history(db: Path, readers: list[int], tickets: int, backlog: int) -> dict[str, Any]:
    """A desk that has seen ``tickets`` tickets (3 messages each, on average) and has
    ``backlog`` messages to ``readers`` queued, as the bot finds it when it starts."""
    from search import load_sqlite

    started = time.perf_counter()
    loaded = load_sqlite(db, tickets * 3, tickets, seed=7)
    now = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())
    with sqlite3.connect(db, isolation_level=None) as conn:
        conn.execute("BEGIN")
        # History is history: closed tickets, so the SLA scan and the automations have no
        # thousands of notices to send while the backlog is measured.
        conn.execute("UPDATE tickets SET status = 'closed', closed_at = updated_at")
        conn.executemany(
            "INSERT INTO outbox (chat_id, method, params, lane, status, attempts, created_at) "
            "VALUES (?, 'sendMessage', ?, 0, 'pending', 0, ?)",
            (
                (
                    readers[i % len(readers)],
                    json.dumps({"chat_id": readers[i % len(readers)], "text": f"b {i}"}),
                    now,
                )
                for i in range(backlog)
            ),
        )
        conn.execute("COMMIT")
    return {
        "tickets": tickets,
        "messages": tickets * 3,
        "db_mb": round(loaded["db_bytes"] / 2**20, 1),
        "backlog_calls": backlog,
        "prepared_s": round(time.perf_counter() - started, 1),
    }


async def drain_backlog(emulator: BotApiEmulator, bot: BotProcess, calls: int) -> dict[str, Any]:
    """Wait until the queued calls are made; the bot's CPU over that stretch per call."""

    def made() -> int:
        return sum(
            1
            for c in emulator.calls
            if c.method == "sendMessage" and str(c.params.get("text", "")).startswith("b ")
        )

    cpu0, done0, t0 = cpu_seconds(bot.pid), made(), time.time()
    deadline = t0 + 600
    while made() < calls and time.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.2)
    cpu1, done1, t1 = cpu_seconds(bot.pid), made(), time.time()
    measured = max(done1 - done0, 1)
    return {
        "backlog_sent": done1,
        "backlog_calls_per_s": round(measured / max(t1 - t0, 1e-9), 1),
        "sender_cpu_ms_per_call": round(1000 * (cpu1 - cpu0) / measured, 2),
        "sender_calls_measured": done1 - done0,
    }


async def poll_until(
    count: Callable[[], Awaitable[int]], target: int, seconds: float, every: float = 0.02
) -> float:
    """Poll ``count()`` (state in another process: nothing to await) until it reaches
    ``target`` or time is up; returns the time it got there (or gave up)."""
    deadline = time.time() + seconds
    while await count() < target and time.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(every)
    return time.time()


def max_429_run(emulator: BotApiEmulator) -> int:
    """The longest run of consecutive 429 answers to calls for one chat."""
    runs: dict[str, int] = {}
    best = 0
    for call in emulator.calls:
        chat = str(call.params.get("chat_id"))
        if call.method == "getUpdates" or chat == "None":
            continue
        if call.status == 429:
            runs[chat] = runs.get(chat, 0) + 1
            best = max(best, runs[chat])
        elif call.status is not None:
            runs[chat] = 0
    return best


def arrived_in_group(
    emulator: BotApiEmulator, group_id: int, by_text: dict[str, tuple[int, int]]
) -> dict[tuple[int, int], list[float]]:
    """When each customer message (keyed by its text in ``by_text``) reached the group: as a
    copy of its own, quoted on its ticket's card, or joined with others while the group was
    behind."""
    seen: dict[tuple[int, int], list[float]] = {}
    for call in emulator.calls:
        if not call.ok or str(call.params.get("chat_id")) != str(group_id):
            continue
        if call.method in ("copyMessage", "copyMessages"):
            ids = call.params.get("message_ids") or [call.params.get("message_id")]
            keys = [(int(call.params["from_chat_id"]), int(mid)) for mid in ids]
        elif call.method == "sendMessage":
            keys = [by_text[t] for t in shown_texts(call.params) if t in by_text]
        else:
            continue
        for key in keys:
            seen.setdefault(key, []).append(call.timestamp)
    return seen


def shown_texts(params: dict[str, Any]) -> list[str]:
    """Customer texts a bot message to the group shows: the first message a ticket card
    quotes, or texts joined while the group was behind (one per line, after its time)."""
    text = str(params.get("text") or "")
    quoted = re.search(r"<blockquote[^>]*>(.*?)</blockquote>", text, re.DOTALL)
    if quoted:
        return [html.unescape(quoted.group(1))]
    lines = text.splitlines()
    if lines and lines[0].startswith("💬"):
        return [html.unescape(re.sub(r"^<i>[^<]*</i> ", "", line)) for line in lines[1:]]
    return []


def noop_edits(calls: list[Any]) -> list[Any]:
    """Edits Telegram refused because they changed nothing (they cost the budget all the same)."""
    return [
        c
        for c in calls
        if c.response and "not modified" in str(c.response.get("description", "")).lower()
    ]


def pending_work(db: Path) -> int:
    """Updates not yet processed plus calls not yet made, read from the bot's SQLite file."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return sum(
                int(conn.execute(query).fetchone()[0])
                for query in (
                    "SELECT count(*) FROM inbox WHERE status = 'pending'",
                    "SELECT count(*) FROM outbox WHERE status = 'pending'",
                )
            )
    except sqlite3.Error:
        return 1


async def settle(emulator: BotApiEmulator, db: Path, seconds: float = 120) -> None:
    """Wait until the bot has nothing left to do and has made no call for a moment."""

    def made() -> int:
        return sum(1 for c in emulator.calls if c.method != "getUpdates")

    deadline = time.time() + seconds
    quiet_since, seen = time.time(), made()
    while time.time() < deadline:
        await asyncio.sleep(0.2)
        if made() != seen:
            quiet_since, seen = time.time(), made()
        elif pending_work(db) == 0 and time.time() - quiet_since > 1.0:
            return
    raise TimeoutError("the bot did not settle")


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument(
        "--mode",
        choices=[
            "both",
            "all",
            "unlimited",
            "telegram",
            "backlog",
            "postgres",
            "workers",
            "budget",
            "outage",
            "teams",
        ],
        default="both",
    )
    parser.add_argument("--tickets", type=int, default=100_000, help="history for backlog")
    parser.add_argument("--backlog", type=int, default=5_000, help="queued calls for backlog")
    parser.add_argument("--tg-customers", type=int, default=6)
    parser.add_argument("--tg-messages", type=int, default=5)
    parser.add_argument("--scale", type=float, default=6.0, help="multiply Telegram's limits")
    parser.add_argument("--workers", default="1,3", help="worker counts for --mode workers")
    parser.add_argument("--budget-customers", type=int, default=5)
    parser.add_argument("--outage-customers", type=int, default=300)
    parser.add_argument("--outage-seconds", type=float, default=60.0)
    parser.add_argument("--teams-customers", type=int, default=200)
    parser.add_argument(
        "--teams-scale", type=float, default=5.0, help="multiply Telegram's limits (teams)"
    )
    args = parser.parse_args()
    out: dict[str, Any] = {"machine": machine()}
    if args.mode in ("both", "all", "unlimited"):
        out["unlimited"] = await run_once("unlimited", args.customers, args.messages, 1.0)
    if args.mode in ("all", "postgres"):
        out["postgres"] = await on_postgres(args.customers, args.messages)
    if args.mode in ("all", "backlog"):
        out["backlog"] = await run_once(
            "unlimited",
            args.customers,
            args.messages,
            1.0,
            history=(args.tickets, args.backlog),
        )
    if args.mode in ("both", "all", "telegram"):
        out["telegram_like"] = await run_once(
            "telegram", args.tg_customers, args.tg_messages, args.scale
        )
    if args.mode in ("all", "outage"):
        from budget import outage

        out["outage"] = await outage(args.outage_customers, args.outage_seconds)
    if args.mode in ("both", "all", "budget"):
        from budget import group_budget

        out["group_budget"] = await group_budget(args.budget_customers)
    if args.mode in ("all", "teams"):
        from team_groups import compare_layouts

        out["team_groups"] = await compare_layouts(args.teams_customers, args.teams_scale)
    if args.mode == "workers":
        out["workers"] = await compare_workers(
            [int(n) for n in args.workers.split(",")], args.customers, args.messages
        )
    print(json.dumps(out, indent=2))


async def on_postgres(customers: int, messages: int) -> dict[str, Any]:
    db = os.environ.get("HELPDESK_BENCH_POSTGRES_URL") or os.environ.get(
        "HELPDESK_TEST_POSTGRES_URL"
    )
    if not db:
        return {"skipped": "set HELPDESK_BENCH_POSTGRES_URL (or HELPDESK_TEST_POSTGRES_URL)"}
    async for url in empty_database("postgres", Path(tempfile.gettempdir()), db):
        return await run_once("unlimited", customers, messages, 1.0, db_url=url)
    raise AssertionError("empty_database yielded nothing")


async def compare_workers(counts: list[int], customers: int, messages: int) -> dict[str, Any]:
    db = os.environ.get("HELPDESK_BENCH_POSTGRES_URL") or os.environ.get(
        "HELPDESK_TEST_POSTGRES_URL"
    )
    redis = os.environ.get("HELPDESK_BENCH_REDIS_URL") or os.environ.get("HELPDESK_TEST_REDIS_URL")
    if not db or not redis:
        return {"skipped": "set HELPDESK_BENCH_POSTGRES_URL and HELPDESK_BENCH_REDIS_URL"}
    results: dict[str, Any] = {"database": "postgresql", "coordination": "redis"}
    for n in counts:
        async for url in empty_database("postgres", Path(tempfile.gettempdir()), db):
            results[f"{n}_workers"] = await run_once(
                "workers", customers, messages, 1.0, workers=n, db_url=url, redis_url=redis
            )
    return results


if __name__ == "__main__":
    asyncio.run(main())
