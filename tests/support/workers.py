"""Several ``helpdesk run --webhook`` workers behind a round-robin balancer, as a deployment
with one public webhook URL runs them (the e2e kill test and ``bench/load.py --mode workers``).

Each worker applies pending migrations at start (workers take turns), so the first one, started
alone, also trains the seed model; the others start from a copy of it, as workers sharing a
model volume would.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.support.balancer import Balancer
from tests.support.net import free_port
from tests.support.process import BotProcess

SECRET = "workers-secret-token-0123456789"


async def webhook_workers(
    env: dict[str, str], tmp: Path, count: int
) -> tuple[Balancer, list[BotProcess]]:
    """``count`` workers with ``env`` (database, Redis, bot settings) plus what each needs of
    its own, not started yet, and the balancer (started) in front of them."""
    ports = [free_port() for _ in range(count)]
    balancer = Balancer([f"http://127.0.0.1:{port}" for port in ports])
    public_port = free_port()
    await balancer.start(public_port)
    return balancer, [
        BotProcess(
            [sys.executable, "-m", "bot", "run", "--webhook"],
            env
            | {
                "HELPDESK_DATA_DIR": str(tmp / f"w{i}"),
                "HELPDESK_WORKER_NAME": f"w{i}",
                "HELPDESK_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{public_port}/telegram/hook",
                "HELPDESK_TELEGRAM_WEBHOOK_SECRET": SECRET,
                "HELPDESK_TELEGRAM_WEBHOOK_HOST": "127.0.0.1",
                "HELPDESK_TELEGRAM_WEBHOOK_PORT": str(port),
            },
            cwd=tmp,
            log_path=tmp / f"w{i}.log",
        )
        for i, port in enumerate(ports)
    ]


async def start_webhook_workers(
    env: dict[str, str], tmp: Path, count: int
) -> tuple[list[BotProcess], Balancer]:
    """Start ``count`` workers (see :func:`webhook_workers`); returns them (started, endpoint
    up) and the balancer in front of them."""
    balancer, workers = await webhook_workers(env, tmp, count)
    await _start(workers, tmp)
    return workers, balancer


@asynccontextmanager
async def webhook_cluster(
    env: dict[str, str], tmp: Path, count: int, *, stop_timeout: float = 10
) -> AsyncIterator[tuple[list[BotProcess], Balancer]]:
    """:func:`start_webhook_workers` for the length of a ``with``: then the workers still
    running are stopped (``stop_timeout`` each) and the balancer too, whatever happened, a
    failed start included."""
    balancer, workers = await webhook_workers(env, tmp, count)
    try:
        await _start(workers, tmp)
        yield workers, balancer
    finally:
        for worker in workers:
            if worker.running:
                await worker.terminate(timeout=stop_timeout)
        await balancer.stop()


async def _start(workers: list[BotProcess], tmp: Path) -> None:
    """The first worker alone (it migrates and trains the seed model), then the others with
    a copy of its model."""
    await workers[0].start()
    await workers[0].wait_for_output("webhook endpoint up", timeout=120)
    for i, worker in enumerate(workers[1:], start=1):
        shutil.copytree(tmp / "w0" / "models", tmp / f"w{i}" / "models")
        await worker.start()
    for worker in workers[1:]:
        await worker.wait_for_output("webhook endpoint up", timeout=120)
