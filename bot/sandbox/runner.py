"""``helpdesk sandbox``: the emulator, the real bot in this process, and the page, as one unit.

Start order: the page's port first (the most likely thing to fail), then the emulator, then the
bot; the URL is announced once the bot polls. Stop order is the reverse, on SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import webbrowser
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from bot.app import run_bot
from bot.config import Settings, load_settings
from bot.logs import get_logger
from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.mailbox import DESK_FROM, PretendMailbox, serve_smtp
from bot.sandbox.view import Persona
from bot.sandbox.web import Sandbox, make_app
from models import Agent, Role
from storage import make_engine, uow_factory

log = get_logger(__name__)

#: A made-up token in Telegram's shape; it only ever reaches the built-in emulator.
SANDBOX_TOKEN = "7000000001:sandbox-token-never-sent-to-telegram"
DB_NAME = "helpdesk.db"
READY_TIMEOUT = 60.0


class SandboxError(Exception):
    """The sandbox cannot start; the message is one line for the person at the terminal."""


def sandbox_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for the bot in the sandbox: the emulator's token, a database in ``data_dir``
    and no Telegram rate limits to wait for. Other ``HELPDESK_`` variables still apply."""
    values: dict[str, Any] = {
        "bot_token": SANDBOX_TOKEN,
        "data_dir": data_dir,
        "database_url": f"sqlite+aiosqlite:///{(data_dir / DB_NAME).resolve()}",
        "metrics_port": 0,
        "telegram_webhook_url": None,
        "rate_private_per_s": 100,
        "rate_group_per_min": 6000,
        "rate_global_per_s": 300,
        "polling_timeout": 10,
        **overrides,
    }
    return load_settings(**values)


def build_world(emulator: BotApiEmulator) -> Sandbox:
    """The pretend Telegram: two customers, an admin and an agent in a forum supergroup; and
    the pretend mailboxes (Ann has one too: an agent may ``/link`` it to her Telegram)."""
    alice = emulator.add_user("Alice", "alice_agent", "en", "Admin")
    bob = emulator.add_user("Bob", "bob_agent", "en", "Agent")
    group = emulator.add_supergroup("Support agents", is_forum=True, owner=alice)
    emulator.add_member(group["id"], bob)
    ann = emulator.add_user("Ann", "ann_customer", "en", "Lee")
    boris = emulator.add_user("Boris", "boris_customer", "ru", "Petrov")
    return Sandbox(
        emulator,
        group,
        [
            Persona(ann, "customer"),
            Persona(boris, "customer"),
            Persona(alice, "admin"),
            Persona(bob, "agent"),
        ],
        mailbox=PretendMailbox(changed=emulator.touch),
    )


async def register_agents(settings: Settings, people: list[Persona], now: datetime) -> None:
    """Put the pretend agents into the agent registry, by name, before the bot starts."""
    engine = make_engine(settings.database_url)
    try:
        async with uow_factory(engine)() as uow:
            for persona in people:
                if persona.role == "customer":
                    continue
                if await uow.agents.by_telegram_id(persona.id) is None:
                    agent = Agent(
                        telegram_id=persona.id,
                        name=persona.name,
                        role=Role(persona.role),
                        username=persona.user.get("username"),
                        created_at=now,
                    )
                    await uow.agents.add(agent)
            await uow.commit()
    finally:
        await engine.dispose()


async def serve_page(sandbox: Sandbox, host: str, port: int) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(make_app(sandbox), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise SandboxError(
            f"cannot listen on {host}:{port} ({exc.strerror}); try --port"
        ) from None
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, f"http://{bound_host}:{bound_port}/"


def free_port(host: str) -> int:
    """A port nobody listens on now (the API server takes it a moment later)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


async def _wait_polling(emulator: BotApiEmulator, bot: asyncio.Task[None]) -> None:
    """Until the bot asks for updates; fails if the bot stops first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_TIMEOUT
    while not emulator.calls_of("getUpdates"):
        if bot.done():
            bot.result()  # raises what stopped it
            raise SandboxError("the bot stopped before it was ready")
        if loop.time() > deadline:
            raise SandboxError(f"the bot did not start within {READY_TIMEOUT:.0f}s")
        await asyncio.sleep(0.05)


async def run_sandbox(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    open_browser: bool = True,
    announce: Callable[[str], None] = lambda _url: None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the sandbox until SIGINT/SIGTERM (or ``stop``). ``settings`` come from
    :func:`sandbox_settings` with the database migrated; the emulator's address, the group and
    the admin are filled in here."""
    stop = stop or asyncio.Event()
    emulator = BotApiEmulator(
        SANDBOX_TOKEN, bot_username="helpdesk_sandbox_bot", bot_first_name="Help Desk"
    )
    sandbox = build_world(emulator)
    page, url = await serve_page(sandbox, host, port)
    bot: asyncio.Task[None] | None = None
    smtp: asyncio.Server | None = None
    try:
        await emulator.start("127.0.0.1", 0)
        smtp = await serve_smtp(sandbox.mailbox, "127.0.0.1")
        smtp_port = smtp.sockets[0].getsockname()[1]
        admins = [p.id for p in sandbox.people if p.role == "admin"]
        api_port = free_port(host)
        page_port = url.rstrip("/").rpartition(":")[2]
        settings = settings.model_copy(
            update={
                "telegram_api_url": emulator.base_url,
                "agent_chat_id": sandbox.group_id,
                "admin_ids": admins,
                # The chat widget, on the page's pretend company site (``/site``).
                "api_host": host,
                "api_port": api_port,
                "widget_origins": [f"http://{h}:{page_port}" for h in ("127.0.0.1", "localhost")],
                # Rating links in the resolved mails point at the same server.
                "public_url": f"http://{host}:{api_port}",
                # The email channel, on the page's pretend mailboxes: the desk's mails go to an
                # SMTP server inside the sandbox; mails come in through the intake's entry
                # point (``mail_in`` below), so the IMAP address is never connected to.
                "email_imap_url": SecretStr("imap://sandbox:sandbox@127.0.0.1:9/INBOX"),
                "email_smtp_url": SecretStr(f"smtp://127.0.0.1:{smtp_port}"),
                "email_from": DESK_FROM,
            }
        )
        sandbox.widget_script = f"http://{host}:{api_port}/widget/widget.js"
        await register_agents(settings, sandbox.people, datetime.now(UTC))
        bot = asyncio.create_task(
            run_bot(settings, stop, mail_in=sandbox.mailbox.attach), name="sandbox-bot"
        )
        await _wait_polling(emulator, bot)
        log.info("sandbox ready", url=url, data_dir=str(settings.data_dir))
        announce(url)
        if open_browser:
            await asyncio.to_thread(webbrowser.open, url)
        await bot
    finally:
        if bot is not None and not bot.done():
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(bot, 10)
        await page.cleanup()
        if smtp is not None:
            smtp.close()
            await smtp.wait_closed()
        await emulator.stop()
