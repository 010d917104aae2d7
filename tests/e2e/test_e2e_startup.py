"""Start-up tells the truth in one line: the real ``helpdesk run`` against the emulator.

A wrong configuration exits 2 with one line naming the variable; a service that does not answer
yet is retried with one line per attempt and no traceback.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.emulator import BotApiEmulator
from tests.e2e.conftest import TOKEN, bot_env, start_world
from tests.support.mailservers import PASSWORD, dovecot
from tests.support.net import free_port
from tests.support.process import BotProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
async def world() -> AsyncIterator[tuple[BotApiEmulator, dict[str, Any], dict[str, Any]]]:
    emulator, group, admin = await start_world()
    yield emulator, group, admin
    await emulator.stop()


def bot_process(
    tmp_path: Path,
    world: tuple[BotApiEmulator, dict[str, Any], dict[str, Any]],
    **extra: str,
) -> BotProcess:
    emulator, group, admin = world
    env = bot_env(emulator, group, admin, tmp_path / "data", HELPDESK_LOG_LEVEL="INFO", **extra)
    return BotProcess([sys.executable, "-m", "bot", "run"], env, cwd=tmp_path)


async def exits_with_one_line(process: BotProcess) -> str:
    async with process:
        code = await process.wait(timeout=60)
    lines = process.output.strip().splitlines()
    assert code == 2, process.output
    assert len(lines) == 1, process.output
    return lines[0]


class TestConfigurationErrorsExit2:
    async def test_a_token_telegram_refuses_names_the_variable_not_the_token(
        self, tmp_path: Path, world: Any
    ) -> None:
        wrong = "424242:a-revoked-token-that-telegram-refuses"
        line = await exits_with_one_line(bot_process(tmp_path, world, HELPDESK_BOT_TOKEN=wrong))
        assert line.startswith("helpdesk: HELPDESK_BOT_TOKEN: Telegram refused the token")
        assert wrong not in line
        assert TOKEN not in line
        emulator = world[0]
        assert [c.method for c in emulator.calls] == ["getMe"]

    async def test_a_positive_agents_chat_id_is_a_private_chat_and_refused(
        self, tmp_path: Path, world: Any
    ) -> None:
        emulator, _group, admin = world
        line = await exits_with_one_line(
            bot_process(tmp_path, world, HELPDESK_AGENT_CHAT_ID=str(admin["id"]))
        )
        assert line.startswith(f"helpdesk: HELPDESK_AGENT_CHAT_ID: {admin['id']} is a person's")
        assert emulator.messages_in(admin["id"], from_bot=True) == []

    async def test_an_unknown_agents_chat_id_is_refused(self, tmp_path: Path, world: Any) -> None:
        line = await exits_with_one_line(
            bot_process(tmp_path, world, HELPDESK_AGENT_CHAT_ID="-1009999999999")
        )
        assert line.startswith("helpdesk: HELPDESK_AGENT_CHAT_ID: -1009999999999 is not a chat")
        assert "chat not found" in line

    async def test_a_group_the_bot_left_is_refused(self, tmp_path: Path, world: Any) -> None:
        emulator, group, _admin = world
        emulator.kick_bot(group["id"])
        line = await exits_with_one_line(bot_process(tmp_path, world))
        assert "HELPDESK_AGENT_CHAT_ID" in line
        assert "not a member" in line

    async def test_a_mailbox_that_refuses_the_login_names_the_variable_not_the_password(
        self, tmp_path: Path, world: Any
    ) -> None:
        with dovecot() as mailbox:
            wrong = mailbox.url.replace(PASSWORD, "not-the-password")
            line = await exits_with_one_line(
                bot_process(
                    tmp_path,
                    world,
                    HELPDESK_EMAIL_IMAP_URL=wrong,
                    HELPDESK_EMAIL_SMTP_URL="smtp://127.0.0.1:25",
                    HELPDESK_EMAIL_FROM="support@desk.test",
                )
            )
        assert line.startswith(
            "helpdesk: HELPDESK_EMAIL_IMAP_URL: the IMAP server refused the login"
        )
        assert "not-the-password" not in line

    async def test_an_unsupported_database_url_names_the_accepted_drivers(
        self, tmp_path: Path, world: Any
    ) -> None:
        line = await exits_with_one_line(
            bot_process(tmp_path, world, HELPDESK_DATABASE_URL="mysql://x")
        )
        assert line.startswith("helpdesk: HELPDESK_DATABASE_URL: unsupported database URL")
        assert "sqlite+aiosqlite://, postgresql+asyncpg://" in line


class TestUnreachableServicesAreRetried:
    @pytest.mark.parametrize(
        ("variable", "value", "service"),
        [
            ("HELPDESK_TELEGRAM_API_URL", "http://127.0.0.1:{port}", "Telegram is unreachable"),
            (
                "HELPDESK_DATABASE_URL",
                "postgresql+asyncpg://hd:s3cret@127.0.0.1:{port}/hd",
                "the database postgresql+asyncpg://hd:****@127.0.0.1:{port}/hd is unreachable",
            ),
            ("HELPDESK_REDIS_URL", "redis://127.0.0.1:{port}/0", "Redis is unreachable"),
        ],
    )
    async def test_one_line_per_attempt_without_traceback_until_stopped(
        self, tmp_path: Path, world: Any, variable: str, value: str, service: str
    ) -> None:
        port = free_port()
        process = bot_process(tmp_path, world, **{variable: value.format(port=port)})
        async with process:
            await process.wait_for_output("attempt 2,", timeout=30)
            assert await process.terminate(timeout=10) == 0
        attempts = [line for line in process.output.splitlines() if "attempt" in line]
        assert len(attempts) >= 2, process.output
        assert all(service.format(port=port) in line for line in attempts), process.output
        assert "Traceback" not in process.output
        assert "s3cret" not in process.output


async def test_missing_rights_warn_once_in_the_log_and_once_in_the_group(tmp_path: Path) -> None:
    """A forum where the bot may not manage topics runs as a plain group; the group reads why,
    once: a restart with the same shortfall posts nothing new."""
    emulator = BotApiEmulator(TOKEN)
    await emulator.start()
    try:
        group = emulator.add_supergroup("Agents", is_forum=True, bot_can_manage_topics=False)
        admin = emulator.add_user("Alice", username="alice", language_code="en")
        emulator.add_member(group["id"], admin, "administrator")

        def posted() -> list[str]:
            return [
                m["text"]
                for m in emulator.messages_in(group["id"], from_bot=True)
                if "Start-up check" in (m.get("text") or "")
            ]

        for run in range(2):
            process = BotProcess(
                [sys.executable, "-m", "bot", "run"],
                bot_env(emulator, group, admin, tmp_path / "data"),
                cwd=tmp_path,
            )
            async with process:
                await process.wait_ready(emulator, timeout=60)
                if run == 0:
                    await emulator.wait_for(lambda _e: posted(), timeout=10)
                else:
                    await asyncio.sleep(2)  # time enough for a second post to go out
                assert await process.terminate(timeout=10) == 0
            warnings = [
                line for line in process.output.splitlines() if "running in plain group" in line
            ]
            assert len(warnings) == 1, process.output
            assert "can_manage_topics" in warnings[0]
        assert posted() == [
            "⚠️ Start-up check: the bot lacks the right “Manage topics”. The desk runs as a "
            "plain group: ticket cards and replies are posted in the main chat, and agents "
            "answer by replying to a card."
        ]
    finally:
        await emulator.stop()
