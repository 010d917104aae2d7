"""REST API benchmark: list and get tickets over HTTP with 100,000 tickets; prints ONE JSON object.

Loads ``--tickets`` tickets (two messages each, generated as in ``bench/search.py``) into SQLite
(a temp file, schema by the migrations) and, when a URL is given (``--postgres`` or
HELPDESK_TEST_POSTGRES_URL), into a fresh PostgreSQL database. Serves the API from a separate
process (``python bench/api.py --serve URL PORT``: the app as ``helpdesk run`` serves it, one
worker), then ``--clients`` concurrent clients make ``--requests`` requests of each kind:

* ``list``: ``GET /tickets`` pages of 50: a third unfiltered, a third by status, a third a
  later page (``cursor``);
* ``get``: ``GET /tickets/{number}`` of a random ticket.

Reports requests/s and p50/p99 latency (ms) per kind and backend, once with one client (the
latency of a request alone; the goal is p99 <= 50 ms for a page of 50) and once with
``--clients`` at a time (throughput; their latency includes waiting for each other: one worker
process answers them all).

    python bench/api.py [--tickets 100000] [--requests 2000] [--clients 8] [--backend both]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# bench/triage.py would shadow the triage package: the bench directory stays off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import make_url  # noqa: E402


def _bench_module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_search = _bench_module("search")
POSTGRES_ENV, load_postgres, load_sqlite = (
    _search.POSTGRES_ENV,
    _search.load_postgres,
    _search.load_sqlite,
)

PAGE = 50
SCRIPT = Path(__file__).resolve()


async def serve(url: str, port: int) -> None:
    """The API alone (no Telegram), as the bot process serves it, until killed."""
    from bot.api.app import ApiDeps
    from bot.api.app import serve as serve_api
    from bot.app import make_presenter
    from bot.logs import setup_logging
    from bot.runtime import heap
    from bot.services.conversation import DeskConfig
    from bot.texts import make_i18n
    from storage import make_engine, uow_factory

    setup_logging("text", "WARNING")  # stdout says "ready" and nothing else
    engine = make_engine(url)
    presenter = make_presenter(make_i18n("en"), DeskConfig(agent_chat_id=-1001))
    deps = ApiDeps(uow_factory(engine), presenter, rate_per_min=10**9)
    runner = await serve_api(deps, "127.0.0.1", port)
    heap.settle()  # as the bot does once it has started
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await engine.dispose()


async def make_key(url: str) -> str:
    from bot.services.apikeys import create_key
    from storage import make_engine, uow_factory

    engine = make_engine(url)
    try:
        async with uow_factory(engine)() as uow:
            new = await create_key(
                uow, f"bench-{uuid.uuid4().hex[:8]}", "tickets:read", datetime.now(UTC)
            )
            await uow.commit()
        return new.key
    finally:
        await engine.dispose()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _summary(latencies: list[float], seconds: float, errors: int) -> dict[str, Any]:
    ms = sorted(x * 1000 for x in latencies)
    cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {
        "requests": len(ms),
        "errors": errors,
        "rps": round(len(ms) / seconds, 1),
        "p50_ms": round(cuts[49], 2),
        "p99_ms": round(cuts[98], 2),
        "max_ms": round(ms[-1], 2),
    }


async def hammer(
    base: str, key: str, kind: str, n_tickets: int, requests: int, clients: int, seed: int
) -> dict[str, Any]:
    import aiohttp

    rng = random.Random(seed)
    paths: list[tuple[str, dict[str, str]]] = []
    for i in range(requests):
        if kind == "get":
            paths.append((f"/tickets/{rng.randint(1, n_tickets)}", {}))
        elif i % 3 == 0:
            paths.append(("/tickets", {}))
        elif i % 3 == 1:
            status = rng.choice(["new", "open", "waiting", "resolved", "closed"])
            paths.append(("/tickets", {"status": status}))
        else:
            paths.append(("/tickets", {"cursor": str(rng.randint(PAGE, n_tickets))}))
    latencies: list[float] = []
    errors = 0
    queue = iter(paths)
    headers = {"Authorization": f"Bearer {key}"}

    async def client(http: aiohttp.ClientSession) -> None:
        nonlocal errors
        for path, params in queue:
            started = time.perf_counter()
            async with http.get(base + path, params=params) as response:
                body = await response.read()
            latencies.append(time.perf_counter() - started)
            if response.status != 200:
                errors += 1
            elif kind == "list" and not params.get("cursor") and body.count(b'"number"') != PAGE:
                errors += 1  # a first page must be full

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as http:
        for path, params in paths[:20]:  # warm up (connections, caches)
            async with http.get(base + path, params=params) as response:
                await response.read()
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        seconds = time.perf_counter() - started
    return _summary(latencies, seconds, errors)


async def bench_url(url: str, n_tickets: int, args: argparse.Namespace) -> dict[str, Any]:
    key = await make_key(url)
    port = _free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        "--serve",
        url,
        str(port),
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert server.stdout is not None
        line = await asyncio.wait_for(server.stdout.readline(), 60)
        if line.strip() != b"ready":
            raise SystemExit(f"the API server did not start: {line!r}")
        base = f"http://127.0.0.1:{port}/api/v1"
        out: dict[str, Any] = {}
        for kind in ("list", "get"):
            out[kind] = {}
            for clients in (1, args.clients):
                out[kind][f"clients_{clients}"] = await hammer(
                    base, key, kind, n_tickets, args.requests, clients, args.seed
                )
        return out
    finally:
        server.terminate()
        await server.wait()


async def bench_sqlite(n_tickets: int, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="helpdesk-api-") as tmp:
        loaded = await asyncio.to_thread(
            load_sqlite, Path(tmp) / "bench.db", n_tickets * 2, n_tickets, args.seed
        )
        url = loaded.pop("url")
        return {**loaded, **(await bench_url(url, n_tickets, args))}


async def bench_postgres(
    base_url: str, n_tickets: int, args: argparse.Namespace
) -> dict[str, Any]:
    name = f"helpdesk_bench_{uuid.uuid4().hex[:10]}"
    await _search._admin(base_url, f'CREATE DATABASE "{name}"')
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    try:
        loaded = await load_postgres(url, n_tickets * 2, n_tickets, args.seed)
        loaded.pop("url")
        return {**loaded, **(await bench_url(url, n_tickets, args))}
    finally:
        await _search._admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000, help="per kind")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backend", choices=["both", "sqlite", "postgres"], default="both")
    parser.add_argument("--postgres", default=os.environ.get(POSTGRES_ENV), help="server URL")
    parser.add_argument("--serve", nargs=2, metavar=("URL", "PORT"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.serve:
        await serve(args.serve[0], int(args.serve[1]))
        return {}
    out: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "params": {
            "tickets": args.tickets,
            "requests_per_kind": args.requests,
            "clients": args.clients,
            "page_size": PAGE,
            "goal": "p99 <= 50 ms for a page of 50",
        },
    }
    if args.backend in ("both", "sqlite"):
        out["sqlite"] = await bench_sqlite(args.tickets, args)
    if args.backend in ("both", "postgres"):
        if args.postgres:
            out["postgres"] = await bench_postgres(args.postgres, args.tickets, args)
        else:
            out["postgres"] = {"skipped": f"no --postgres URL and {POSTGRES_ENV} unset"}
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    asyncio.run(main())
