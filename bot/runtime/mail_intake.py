"""Reads the support mailbox over IMAP: every new mail is stored, then applied, and only then
marked seen.

The invariant is the Telegram intake's (:mod:`bot.runtime.intake`): nothing is confirmed to
the server before it is safe in the database. Here the confirmation is the ``\\Seen`` flag,
and it is set only after the transaction that applied the mail (its ticket, its message, the
outbox calls it caused, its row in the mail log settled) committed. For each unseen mail,
oldest first:

1. ``UID FETCH … BODY.PEEK[]`` (peeking leaves the flags alone), and the raw bytes stored under
   the mail's ``Message-ID`` (committed): a mail fetched before is found, not stored again;
2. unless its row says it was applied, applied in one transaction
   (:func:`bot.services.mail.receive`); a failure counts an attempt and leaves the mail
   unseen, to be tried at the next look; after 5 the row is parked (``/failed``-style
   evidence: the raw mail and the error stay in the mail log);
3. ``UID STORE +FLAGS (\\Seen)``.

A crash anywhere leaves the mail unseen, so it comes again, and its row says whether it was
applied: no mail is lost, none is applied twice. Mails marked seen by someone else (a person
reading the mailbox in a mail client) are not looked at: keep the support mailbox for the desk.

With IDLE the poller waits for the server to announce new mail (and looks every
``poll_seconds`` anyway); without it, it looks every ``poll_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import aioimaplib
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.adapters.mail import read_mail
from bot.logs import get_logger
from bot.services import mail as mail_service
from bot.services.conversation import DeskConfig
from bot.services.ports import Presenter, UowFactory
from bot.services.similar import SimilarTickets
from bot.services.triage_port import Triage
from models.mail import MailServer, StoredMail, headers_of_raw

log = get_logger(__name__)

BACKOFF = BackoffConfig(min_delay=1.0, max_delay=60.0, factor=2.0, jitter=0.1)
#: What a mail server that does not answer (yet) raises.
MAILBOX_DOWN = (OSError, TimeoutError, aioimaplib.AioImapException)


class MailboxError(Exception):
    """The IMAP server refused a command (login, select, fetch...)."""

    def __init__(self, command: str, answer: str) -> None:
        super().__init__(f"{command}: {answer}")
        self.command = command


@dataclass(frozen=True)
class MailDesk:
    """What applying a mail needs: the same as a customer's Telegram message."""

    presenter: Presenter
    triage: Triage
    config: DeskConfig
    address: str  # the desk's own, lower-case: mail from it is never answered
    solved: SimilarTickets | None = None


def _check(response: aioimaplib.Response, what: str) -> aioimaplib.Response:
    if response.result != "OK":
        detail = b" ".join(bytes(line) for line in response.lines).decode(errors="replace")
        raise MailboxError(what, f"{response.result} {detail[:200]}")
    return response


async def open_mailbox(server: MailServer, *, command_seconds: float = 30.0) -> aioimaplib.IMAP4:
    """A client logged in to ``server`` with its mailbox selected (each command may take up
    to ``command_seconds``)."""
    client: aioimaplib.IMAP4
    if server.tls:
        client = aioimaplib.IMAP4_SSL(server.host, server.port, timeout=command_seconds)
    else:
        client = aioimaplib.IMAP4(server.host, server.port, timeout=command_seconds)
    try:
        await client.wait_hello_from_server()
        _check(await client.login(server.user or "", server.password or ""), "LOGIN")
        _check(await client.select(server.mailbox), f"SELECT {server.mailbox}")
    except BaseException:
        _hang_up(client)
        raise
    return client


async def close_mailbox(client: aioimaplib.IMAP4) -> None:
    """Log out and close the connection (aioimaplib leaves closing it to the server)."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.logout(), 5)
    _hang_up(client)


def _hang_up(client: aioimaplib.IMAP4) -> None:
    transport = getattr(client.protocol, "transport", None)
    if transport is not None:
        transport.close()


class MailIntake:
    def __init__(
        self,
        server: MailServer,
        uow_factory: UowFactory,
        desk: MailDesk,
        *,
        poll_seconds: float = 60.0,
        timeout: float = 30.0,
        on_applied: Callable[[], None] = lambda: None,
    ) -> None:
        self.server = server
        self.uow_factory = uow_factory
        self.desk = desk
        self.poll_seconds = poll_seconds
        self.timeout = timeout
        self.on_applied = on_applied

    async def run(self) -> None:
        """Read the mailbox until cancelled; connection trouble is retried with back-off."""
        backoff = Backoff(BACKOFF)
        while True:
            try:
                await self._session(backoff)
            except (*MAILBOX_DOWN, MailboxError) as exc:
                delay = next(backoff)
                log.warning("mailbox unreachable", error=str(exc), retry_in=round(delay, 2))
                await asyncio.sleep(delay)
            except Exception as exc:  # database trouble: the mail stays unseen, comes again
                delay = next(backoff)
                log.exception("reading the mailbox failed", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)

    async def connect(self) -> aioimaplib.IMAP4:
        """Logged in, the mailbox selected."""
        return await open_mailbox(self.server, command_seconds=self.timeout)

    async def _session(self, backoff: Backoff) -> None:
        client = await self.connect()
        try:
            backoff.reset()
            idle = client.has_capability("IDLE")
            log.info("reading the mailbox", mailbox=self.server.mailbox, idle=idle)
            while True:
                await self.sweep(client)
                if idle:
                    await self._idle(client)
                else:
                    await asyncio.sleep(self.poll_seconds)
        finally:
            await close_mailbox(client)

    async def _idle(self, client: aioimaplib.IMAP4) -> None:
        """Wait until the server announces a change, or ``poll_seconds``."""
        waiting = await client.idle_start(timeout=self.poll_seconds + 30)
        try:
            with contextlib.suppress(TimeoutError):
                await client.wait_server_push(timeout=self.poll_seconds)
        finally:
            client.idle_done()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiting, self.timeout)

    async def sweep(self, client: aioimaplib.IMAP4) -> int:
        """Store, apply and mark seen every unseen mail; returns how many were settled."""
        found = _check(await client.uid_search("UNSEEN"), "UID SEARCH UNSEEN")
        uids = [t for t in bytes(found.lines[0]).split() if t.isdigit()] if found.lines else []
        settled = 0
        for uid in (u.decode() for u in uids):
            fetched = _check(await client.uid("fetch", uid, "(BODY.PEEK[])"), "UID FETCH")
            # The mail is the one literal of the answer (aioimaplib hands it as a bytearray).
            literals = [bytes(line) for line in fetched.lines if isinstance(line, bytearray)]
            if not literals:  # gone meanwhile (expunged by someone else)
                continue
            if await self.take(literals[0]):
                _check(await client.uid("store", uid, "+FLAGS.SILENT (\\Seen)"), "UID STORE")
                settled += 1
        return settled

    async def take(self, raw: bytes) -> bool:
        """Store one mail and apply it unless it was; True when nothing more will be done
        with it (the mailbox may mark it seen)."""
        now = datetime.now(UTC)
        async with self.uow_factory() as uow:
            stored = await uow.mail.store(headers_of_raw(raw).message_id, raw, now)
            await uow.commit()
        if stored.settled:
            return True
        return await self._apply(stored, raw, now)

    async def _apply(self, stored: StoredMail, raw: bytes, now: datetime) -> bool:
        desk = self.desk
        try:
            mail = read_mail(raw, now)
            async with self.uow_factory() as uow:
                await mail_service.receive(
                    uow,
                    desk.presenter,
                    desk.triage,
                    desk.config,
                    stored,
                    mail,
                    desk.address,
                    now,
                    solved=desk.solved,
                )
        except Exception as exc:  # the mail stays unseen and stored: tried again, then parked
            log.exception("applying a mail failed", mail_id=stored.id)
            async with self.uow_factory() as uow:
                after = await uow.mail.failed(stored.id, f"{type(exc).__name__}: {exc}")
                await uow.commit()
            return after is not None and after.settled
        self.on_applied()
        return True
