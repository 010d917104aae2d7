"""The sandbox's pretend mail world: a few customers' mailboxes, and the desk's mail servers'
stand-ins.

* **In.** A mail written in the page is made into the bytes a mail client would send (``From``,
  ``To`` the desk, ``Subject``, ``Message-ID``, ``In-Reply-To`` and ``References`` when it
  answers a mail of the desk's) and handed to the desk's mail intake at its entry point
  (:meth:`bot.runtime.mail_intake.MailIntake.take`): stored, applied and deduplicated exactly
  as a mail fetched from the support mailbox over IMAP. There is no IMAP server: that one step
  (fetching, flags) is the only part of the email channel the sandbox leaves out.
* **Out.** The desk sends its mails over SMTP as deployed (the outbox's email channel, the same
  poster); the SMTP server is aiosmtpd inside the sandbox, on a free port of 127.0.0.1, and
  what it receives lands in the addressee's pretend inbox.

Nothing leaves the machine: the addresses are made up and no mail is relayed anywhere.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, getaddresses, parseaddr
from typing import Any, Protocol

from aiosmtpd.smtp import SMTP, Envelope, Session

#: The desk's own address in the sandbox.
DESK_ADDRESS = "support@example.com"
DESK_FROM = f"Example Support <{DESK_ADDRESS}>"
#: Whose mailbox the page can play (address, name).
PEOPLE = (("ann@example.com", "Ann Lee"), ("carol@example.com", "Carol White"))
MAX_SUBJECT = 200
MAX_BODY = 20_000


class Intake(Protocol):
    """What the pretend mailbox hands mails to (the desk's mail intake)."""

    async def take(self, raw: bytes) -> bool: ...


class MailRefused(Exception):
    """The page asked for a mail no person could write; the reason is one line."""


@dataclass(frozen=True)
class Mail:
    """One mail as the page shows it (``incoming``: the desk wrote it to ``address``)."""

    id: int
    address: str  # whose mailbox it is in
    incoming: bool
    sender: str
    to: str
    subject: str
    text: str
    message_id: str
    date: float
    auto: bool = False  # the desk's automatic notice, not a person's reply

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "address": self.address,
            "incoming": self.incoming,
            "from": self.sender,
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "message_id": self.message_id,
            "date": self.date,
            "auto": self.auto,
        }


@dataclass
class PretendMailbox:
    """Every pretend mailbox: the mails customers wrote to the desk and those it sent them."""

    changed: Callable[[], None] = lambda: None
    mails: list[Mail] = field(default_factory=list)
    intake: Intake | None = None
    _context: contextvars.Context = field(default_factory=contextvars.copy_context)
    #: The mails a message id names (a reply's ``In-Reply-To`` and ``References``).
    _threads: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def attach(self, intake: Intake) -> None:
        """The desk is up: mails written from now on reach it. Called by the bot as it starts
        (:func:`bot.app.run_bot`), whose context (the texts' language catalogs) the intake's
        work runs in, as it would in the bot's own mailbox reader."""
        self.intake = intake
        self._context = contextvars.copy_context()

    def addresses(self) -> list[dict[str, str]]:
        """The mailboxes the page offers: the pretend customers, then anyone the desk wrote to
        (a website visitor who left an address, say)."""
        known = dict(PEOPLE)
        for mail in self.mails:
            known.setdefault(mail.address, mail.address)
        return [{"address": a, "name": n} for a, n in known.items()]

    def view(self) -> dict[str, Any]:
        return {
            "desk": DESK_ADDRESS,
            "ready": self.intake is not None,
            "addresses": self.addresses(),
            "mails": [m.view() for m in self.mails],
        }

    async def write(
        self, address: str, subject: str, text: str, answers: int | None = None
    ) -> Mail:
        """``address`` writes to the desk (``answers``: the id of the desk's mail replied to);
        returns the mail once the desk has stored and applied it."""
        address = address.strip().lower()
        names = {a["address"]: a["name"] for a in self.addresses()}
        if address not in names:
            raise MailRefused(f"{address!r} is not one of the pretend mailboxes")
        subject, text = subject.strip(), text.strip()
        if not text and not subject:
            raise MailRefused("the mail is empty")
        if len(subject) > MAX_SUBJECT or len(text) > MAX_BODY:
            raise MailRefused(f"subjects up to {MAX_SUBJECT}, texts up to {MAX_BODY} characters")
        if self.intake is None:
            raise MailRefused("the desk is still starting")
        message = EmailMessage()
        message["From"] = formataddr((names[address], address))
        message["To"] = DESK_FROM
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message_id = f"{uuid.uuid4().hex}@{address.partition('@')[2]}"
        message["Message-ID"] = f"<{message_id}>"
        if answers is not None:
            replied = self._desk_mail(answers, address)
            thread = (*self._threads.get(replied.message_id, ()), replied.message_id)
            message["In-Reply-To"] = f"<{replied.message_id}>"
            message["References"] = " ".join(f"<{i}>" for i in thread)
            self._threads[message_id] = thread
        message.set_content(text or " ")
        # In the bot's context, not the page's request's (see ``attach``).
        taking = self.intake.take(message.as_bytes())
        await asyncio.get_running_loop().create_task(taking, context=self._context.copy())
        return self._add(address, False, message["From"], DESK_FROM, subject, text, message_id)

    def _desk_mail(self, mail_id: int, address: str) -> Mail:
        for mail in self.mails:
            if mail.id == mail_id and mail.incoming and mail.address == address:
                return mail
        raise MailRefused(f"no mail {mail_id} from the desk in {address}'s mailbox")

    def received(self, raw: bytes, recipients: list[str]) -> None:
        """The desk's SMTP server stand-in took a mail: into each recipient's inbox."""
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        body = parsed.get_body(("plain",))
        text = str(body.get_content()) if body is not None else ""
        message_id = str(parsed.get("Message-ID", "")).strip().strip("<>")
        references = tuple(
            r.strip("<>") for r in str(parsed.get("References", "")).split() if r.strip("<>")
        )
        self._threads[message_id] = references
        auto = str(parsed.get("Auto-Submitted", "no")).lower() != "no"
        addresses = {parseaddr(a)[1].lower() for a in recipients}
        addresses |= {a.lower() for _n, a in getaddresses([str(parsed.get("To", ""))]) if a}
        for address in sorted(addresses):
            self._add(
                address,
                True,
                str(parsed.get("From", "")),
                str(parsed.get("To", "")),
                str(parsed.get("Subject", "")),
                text.rstrip(),
                message_id,
                auto=auto,
            )

    def _add(
        self,
        address: str,
        incoming: bool,
        sender: str,
        to: str,
        subject: str,
        text: str,
        message_id: str,
        *,
        auto: bool = False,
    ) -> Mail:
        mail = Mail(
            len(self.mails) + 1,
            address,
            incoming,
            sender,
            to,
            subject,
            text,
            message_id,
            time.time(),
            auto,
        )
        self.mails.append(mail)
        self.changed()
        return mail


class _SmtpHandler:
    """aiosmtpd's handler: every mail the desk sends is taken and put into a pretend inbox."""

    def __init__(self, mailbox: PretendMailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        self.mailbox.received(raw, [str(r) for r in envelope.rcpt_tos])
        return "250 Message accepted"


async def serve_smtp(mailbox: PretendMailbox, host: str = "127.0.0.1") -> asyncio.Server:
    """The desk's SMTP server stand-in on a free port of ``host`` (in this event loop)."""
    return await asyncio.get_running_loop().create_server(
        lambda: SMTP(_SmtpHandler(mailbox), hostname="sandbox.local", enable_SMTPUTF8=True),
        host,
        0,
    )
