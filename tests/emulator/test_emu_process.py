"""BotProcess runs a real aiogram bot against the HTTP emulator (a small end-to-end test)."""

from __future__ import annotations

import signal
import sys
import textwrap
from pathlib import Path

import pytest

from bot.sandbox.emulator import BotApiEmulator
from tests.support.process import BotProcess

TINY_BOT = textwrap.dedent(
    """
    import asyncio
    import logging
    import os

    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.filters import CommandStart

    dp = Dispatcher()


    @dp.message(CommandStart())
    async def start(message):
        await message.answer(f"Hello, {message.from_user.first_name}!")


    async def main():
        logging.basicConfig(level=logging.INFO)
        api = TelegramAPIServer.from_base(os.environ["HELPDESK_TELEGRAM_API_URL"])
        bot = Bot(os.environ["HELPDESK_BOT_TOKEN"], session=AiohttpSession(api=api))
        await dp.start_polling(bot, polling_timeout=2)


    asyncio.run(main())
    """
)


def script(tmp_path: Path, name: str, source: str) -> list[str]:
    path = tmp_path / name
    path.write_text(source)
    return [sys.executable, str(path)]


async def test_real_aiogram_bot_answers_start_and_stops_on_sigterm(
    http_emulator: BotApiEmulator, tmp_path: Path
) -> None:
    alice = http_emulator.add_user("Alice")
    env = {
        "HELPDESK_BOT_TOKEN": http_emulator.token or "",
        "HELPDESK_TELEGRAM_API_URL": http_emulator.base_url,
        "HELPDESK_DATA_DIR": str(tmp_path),
    }
    log = tmp_path / "bot.log"
    proc = BotProcess(script(tmp_path, "tiny_bot.py", TINY_BOT), env, cwd=tmp_path, log_path=log)
    await proc.start()
    try:
        await proc.wait_ready(http_emulator, timeout=30)
        http_emulator.user_sends_text(alice, "/start")
        reply = await http_emulator.wait_for_message(alice["id"], timeout=10)
    finally:
        code = await proc.terminate(timeout=10)

    assert reply["text"] == "Hello, Alice!"
    assert code == 0
    assert "Start polling" in proc.output
    assert "Start polling" in log.read_text()


async def test_terminate_reports_a_process_that_ignores_sigterm(tmp_path: Path) -> None:
    stubborn = script(
        tmp_path,
        "stubborn.py",
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ignoring SIGTERM', flush=True)\n"
        "time.sleep(60)\n",
    )
    proc = BotProcess(stubborn, {})
    await proc.start()
    await proc.wait_for_output("ignoring SIGTERM")
    with pytest.raises(AssertionError, match=r"did not exit within 0\.5s") as caught:
        await proc.terminate(timeout=0.5)
    assert "ignoring SIGTERM" in str(caught.value)
    assert proc.returncode == -signal.SIGKILL


async def test_wait_ready_fails_fast_when_the_process_dies(tmp_path: Path) -> None:
    emulator = BotApiEmulator()
    crash = script(tmp_path, "crash.py", "raise SystemExit('no token configured')\n")
    async with BotProcess(crash, {}) as proc:
        with pytest.raises(AssertionError, match="no token configured"):
            await proc.wait_ready(emulator, timeout=10)
        assert proc.returncode == 1


async def test_kill_is_immediate(tmp_path: Path) -> None:
    sleeper = script(tmp_path, "sleeper.py", "import time\ntime.sleep(60)\n")
    proc = BotProcess(sleeper, {})
    await proc.start()
    proc.kill()
    assert await proc.wait(timeout=5) == -signal.SIGKILL
