"""Start-up checks: the configuration is proven against the services it names, in one line each.

Every check ends one of three ways. It passes. Or the configuration is wrong (a refused token,
an agents' chat that is not a group the bot is in): :class:`StartupError` carries one line
naming the variable, never its secret value, and the command line exits 2 with it; retrying
would not help. Or a service does not answer (Telegram, PostgreSQL, Redis): the check logs one
line saying which and why, waits with a growing back-off and tries again, until it answers or
the process is told to stop (:class:`Stopped`). No traceback reaches the operator either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import User
from sqlalchemy.engine import make_url

from bot.adapters.chats import read_chat
from bot.logs import get_logger, one_line
from bot.runtime.coordination import Coordinator
from bot.runtime.mail_intake import MAILBOX_DOWN, MailboxError, close_mailbox, open_mailbox
from bot.services.agent_chat import AgentChatCheck, Shortfall, assess
from models.mail import MailServer
from storage import migrate

log = get_logger(__name__)
T = TypeVar("T")

#: Seconds between attempts: doubling from 1 s, then every 60 s.
FIRST_DELAY, MAX_DELAY = 1.0, 60.0

TELEGRAM_DOWN = (TelegramNetworkError, TelegramServerError, TelegramRetryAfter, ClientDecodeError)


class StartupError(Exception):
    """The configuration is wrong; the message is one line naming the variable."""

    def __init__(self, line: str, code: int = 2) -> None:
        super().__init__(line)
        self.code = code


class Stopped(Exception):
    """Told to stop while waiting for a service."""


def delays(first: float = FIRST_DELAY, cap: float = MAX_DELAY) -> Iterator[float]:
    delay = first
    while True:
        yield delay
        delay = min(cap, delay * 2)


async def until_reachable(
    what: str,
    attempt: Callable[[], Awaitable[T]],
    down: tuple[type[BaseException], ...],
    stop: asyncio.Event,
    backoff: Iterator[float] | None = None,
) -> T:
    """``attempt()`` until it does not raise one of ``down``; one warning line per failure."""
    backoff = backoff or delays()
    number = 0
    while True:
        number += 1
        try:
            return await attempt()
        except down as exc:
            delay = next(backoff)
            log.warning(
                f"{what} is unreachable ({one_line(exc)}); attempt {number}, next in {delay:g} s"
            )
        try:
            await asyncio.wait_for(stop.wait(), delay)
        except TimeoutError:
            continue
        raise Stopped(what)


async def check_token(bot: Bot, stop: asyncio.Event) -> User:
    """``getMe``: a token Telegram refuses is a configuration error, not an outage."""
    try:
        return await until_reachable("Telegram", bot.get_me, TELEGRAM_DOWN, stop)
    except (TelegramUnauthorizedError, TelegramNotFound) as exc:
        raise StartupError(
            f"HELPDESK_BOT_TOKEN: Telegram refused the token ({exc.message}); copy it again "
            "from @BotFather (/mybots → API Token)"
        ) from None


async def check_agent_chat(bot: Bot, chat_id: int, stop: asyncio.Event) -> AgentChatCheck:
    """``getChat`` and the bot's own membership in ``HELPDESK_AGENT_CHAT_ID``.

    Anything but a group or supergroup the bot is in stops the start: ticket cards and the
    customers' messages would otherwise go to a person's private chat or nowhere. A group where
    the bot lacks rights is used in the mode those rights allow (see :func:`assess`).
    """
    name = f"HELPDESK_AGENT_CHAT_ID: {chat_id}"
    if chat_id > 0:
        raise StartupError(
            f"{name} is a person's private chat (a positive id), not the agents' group; group "
            "ids are negative (supergroups start with -100)"
        )

    try:
        facts = await until_reachable(
            "Telegram", lambda: read_chat(bot, chat_id), TELEGRAM_DOWN, stop
        )
    except (TelegramBadRequest, TelegramForbiddenError) as exc:
        raise StartupError(
            f"{name} is not a chat the bot can see ({exc.message}); add the bot to the agents' "
            "group and use that group's id"
        ) from None
    if facts.kind not in ("group", "supergroup"):
        raise StartupError(f"{name} is a {facts.kind}, not a group; use the agents' group id")
    if facts.status in ("left", "kicked"):
        raise StartupError(
            f"{name}: the bot is not a member of that group ({facts.status}); add it"
        )
    check = assess(is_forum=facts.is_forum, status=facts.status, rights=set(facts.rights))
    if check.shortfalls:
        missing = ", ".join(s.value for s in check.shortfalls)
        log.warning(
            f"agents' chat {chat_id}: {missing}; running in {check.mode} mode"
            + (" (cards are not pinned)" if Shortfall.CANNOT_PIN in check.shortfalls else "")
        )
    return check


def _database_down(url: str) -> tuple[type[BaseException], ...]:
    # A SQLite file either opens or is misconfigured; a server may be down or still starting.
    # A refused login or a missing database is not an outage: it fails at once.
    if make_url(url).get_backend_name() == "sqlite":
        return ()
    from asyncpg.exceptions import CannotConnectNowError

    return (OSError, TimeoutError, CannotConnectNowError)


async def upgrade_database(url: str, safe_url: str, stop: asyncio.Event) -> None:
    """Apply pending migrations, waiting for a database server that does not answer yet."""
    down = _database_down(url)

    async def upgrade() -> None:
        await asyncio.to_thread(migrate.upgrade, url)

    try:
        await until_reachable(f"the database {safe_url}", upgrade, down, stop)
    except Stopped:
        raise
    except Exception as exc:  # the drivers' own error types vary: report them in one line
        raise StartupError(f"cannot migrate the database {safe_url}: {one_line(exc)}", 1) from None


async def reach_redis(coordinator: Coordinator, stop: asyncio.Event) -> None:
    """Wait for the shared store of several workers (nothing to do for one process)."""
    if not coordinator.shared:
        return
    from redis.exceptions import AuthenticationError, RedisError

    async def ping() -> None:
        try:
            await coordinator.ping()
        except AuthenticationError as exc:  # a RedisError too, but no outage
            raise StartupError(f"HELPDESK_REDIS_URL: Redis refused the login ({exc})") from None

    await until_reachable("Redis", ping, (RedisError, OSError), stop)


async def check_mailbox(server: MailServer, stop: asyncio.Event) -> None:
    """Log in to the email channel's mailbox: a refused login or a missing mailbox is a
    configuration error; a server that does not answer is waited for."""

    async def visit() -> None:
        await close_mailbox(await open_mailbox(server))

    try:
        await until_reachable("the IMAP server", visit, MAILBOX_DOWN, stop)
    except MailboxError as exc:
        if exc.command == "LOGIN":
            what = "the IMAP server refused the login; check the user and password"
        else:
            what = "the mailbox cannot be opened; check the path after the host"
        raise StartupError(f"HELPDESK_EMAIL_IMAP_URL: {what} ({one_line(exc)})") from None
