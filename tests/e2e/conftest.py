"""End-to-end: the real ``helpdesk run`` process against the emulator over HTTP."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.emulator import BotApiEmulator
from tests.support.process import BotProcess
from tests.support.scenarios import switch_incidents_off

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "424242:E2E-token-for-the-emulator-only"


@dataclass
class Running:
    emulator: BotApiEmulator
    process: BotProcess
    group: dict[str, Any]
    admin: dict[str, Any]
    data_dir: Path

    @property
    def group_id(self) -> int:
        return int(self.group["id"])

    def ticket_topics(self) -> list[dict[str, Any]]:
        """Forum topics of tickets (named ``#<number> · ...``), not the triage queue's."""
        return [t for t in self.emulator.topics(self.group_id) if t["name"].startswith("#")]

    def texts_to(self, user: dict[str, Any]) -> list[str]:
        return [
            m.get("text") or m.get("caption") or ""
            for m in self.emulator.messages_in(user["id"], from_bot=True)
        ]

    async def wait(self, predicate: Callable[[], Any], what: str, seconds: float = 20) -> Any:
        # The emulator shares this event loop: polling every few milliseconds with a predicate
        # that scans every message starves it, and slow answers become client timeouts.
        return await self.emulator.wait_for(
            lambda _e: predicate(), timeout=seconds, description=what, interval=0.2
        )


def bot_env(
    emulator: BotApiEmulator,
    group: dict[str, Any],
    admin: dict[str, Any],
    data_dir: Path,
    **extra: str,
) -> dict[str, str]:
    return {
        "HELPDESK_BOT_TOKEN": TOKEN,
        "HELPDESK_TELEGRAM_API_URL": emulator.base_url,
        "HELPDESK_AGENT_CHAT_ID": str(group["id"]),
        "HELPDESK_ADMIN_IDS": str(admin["id"]),
        "HELPDESK_DATA_DIR": str(data_dir),
        "HELPDESK_LOG_LEVEL": "DEBUG",
        # Telegram's limits are the sender's business (bench/load.py measures them); here they
        # would only make every test wait (20 group messages a minute).
        "HELPDESK_RATE_PRIVATE_PER_S": "100",
        "HELPDESK_RATE_GROUP_PER_MIN": "6000",
        "HELPDESK_RATE_GLOBAL_PER_S": "300",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def redis_or_skip() -> str:
    """The test Redis (several workers need it), or a skip saying how to give one."""
    url = os.environ.get("HELPDESK_TEST_REDIS_URL")
    if not url:
        pytest.skip("needs HELPDESK_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    return url


def cluster_env(
    emulator: BotApiEmulator,
    group: dict[str, Any],
    admin: dict[str, Any],
    data_dir: Path,
    db_url: str,
    redis_url: str,
    **extra: str,
) -> dict[str, str]:
    """:func:`bot_env` for workers sharing ``db_url`` and ``redis_url`` (keys of their own)."""
    return bot_env(
        emulator,
        group,
        admin,
        data_dir,
        HELPDESK_DATABASE_URL=db_url,
        HELPDESK_REDIS_URL=redis_url,
        HELPDESK_REDIS_PREFIX=f"helpdesk-e2e-{uuid.uuid4().hex[:8]}",
        **extra,
    )


async def start_world(
    *, forum: bool = True, webhook: bool = False
) -> tuple[BotApiEmulator, dict[str, Any], dict[str, Any]]:
    """A started emulator with the agents' group and its admin Alice."""
    emulator = BotApiEmulator(TOKEN)
    emulator.allow_http_webhooks = webhook
    await emulator.start()
    group = emulator.add_supergroup("Agents", is_forum=forum)
    admin = emulator.add_user("Alice", username="alice", language_code="en")
    emulator.add_member(group["id"], admin, "administrator")
    return emulator, group, admin


async def start_bot(
    tmp_path: Path, *, forum: bool = True, webhook: bool = False, **extra: str
) -> Running:
    emulator, group, admin = await start_world(forum=forum, webhook=webhook)
    data_dir = tmp_path / "data"
    process = BotProcess(
        [sys.executable, "-m", "bot", "run", *(["--webhook"] if webhook else [])],
        bot_env(emulator, group, admin, data_dir, **extra),
        cwd=tmp_path,
        log_path=tmp_path / "bot.log",
    )
    await process.start()
    if webhook:
        await process.wait_ready(emulator, timeout=60, predicate=lambda emu: emu.webhook)
    else:
        await process.wait_ready(emulator, timeout=60)
    return Running(emulator, process, group, admin, data_dir)


@pytest.fixture
async def bot_factory(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Starts bots; whatever a test leaves running is stopped afterwards (the process, then
    the emulator and its sockets)."""
    started: list[Running] = []

    async def factory(**kwargs: Any) -> Running:
        running = await start_bot(tmp_path, **kwargs)
        started.append(running)
        return running

    factory.started = started  # type: ignore[attr-defined]
    yield factory
    for running in started:
        await _stop(running)


@pytest.fixture
async def forum_bot(bot_factory: Any) -> AsyncIterator[Running]:
    running = await bot_factory(forum=True)
    yield running
    await _stop(running)


@pytest.fixture
async def plain_bot(bot_factory: Any) -> AsyncIterator[Running]:
    running = await bot_factory(forum=False)
    yield running
    await _stop(running)


async def _stop(running: Running) -> None:
    if running.process.running:
        await running.process.terminate(timeout=10)
    await running.emulator.stop()


async def without_incidents(run: Running) -> None:
    """Incidents off for a test about delivery (see ``switch_incidents_off``)."""
    await switch_incidents_off(run.emulator, run.group_id, run.admin)
