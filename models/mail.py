"""The email channel's rules, without I/O: which mails the desk answers, which ticket a mail
belongs to, and how the desk's own mails are threaded.

* **Loops.** A mail that a machine sent is never answered: ``Auto-Submitted`` other than ``no``
  (RFC 3834), a bounce or delivery report (``MAILER-DAEMON``/``postmaster``, an empty
  ``Return-Path``, ``multipart/report``), list or bulk ``Precedence``, or a mail from the desk's
  own address. Such a mail is recorded with its reason and opens no ticket.
* **Threading.** A mail joins the ticket one of the message ids in its ``In-Reply-To`` or
  ``References`` belongs to (ids the desk sent or received for that ticket), else the ticket
  whose number it names as ``[#42]`` in the subject; either only when that ticket is the same
  sender's. Without either, a mail opens a new ticket even when the sender has one open: a new
  subject in a mailbox is a new conversation.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr
from enum import StrEnum
from typing import Literal
from urllib.parse import unquote, urlsplit

from models.delivery import Channel, OnSent, OutboundCall, Ref, RefKind

#: ``[#42]`` anywhere in a subject names ticket 42.
_TICKET_TAG = re.compile(r"\[#(\d{1,18})\]")
#: Reply and forward prefixes, in the languages the desk speaks (repeated ones too).
_PREFIXES = re.compile(r"^\s*((re|fwd?|aw|sv|wg|отв|пересл)\s*(\[\d+\])?\s*:\s*)+", re.I)
_MSGID = re.compile(r"<([^<>\s]+)>")
#: Senders that are mail systems, not people (the local part, case-insensitive).
_SYSTEM_SENDERS = frozenset({"mailer-daemon", "postmaster"})
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})
#: At most this many ids in a reply's ``References`` (the first and the latest ones).
REFERENCES_MAX = 20


class Skipped(StrEnum):
    """Why a mail opens no ticket and gets no answer."""

    AUTOMATIC = "auto-submitted"
    BOUNCE = "bounce"
    BULK = "bulk"
    OWN = "own address"
    NO_SENDER = "no sender"


@dataclass(frozen=True)
class MailHeaders:
    """What the rules need from a mail's headers (message ids without their angle brackets)."""

    message_id: str
    sender: str  # the address, lower-case ("" when there is none)
    sender_name: str
    subject: str
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    auto_submitted: str | None = None
    precedence: str | None = None
    return_path: str | None = None
    content_type: str = "text/plain"

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """The message ids this mail answers, nearest first (``In-Reply-To``, then
        ``References`` from the latest back)."""
        seen: dict[str, None] = dict.fromkeys(self.in_reply_to)
        seen.update(dict.fromkeys(reversed(self.references)))
        return tuple(seen)


#: The largest file a bot may upload to Telegram: larger attachments are only named.
TELEGRAM_UPLOAD_LIMIT = 50 * 1024 * 1024


@dataclass(frozen=True)
class MailFile:
    """A file attached to a mail: its place among the mail's attachments, name and size."""

    part: int
    name: str
    size: int

    @property
    def shown(self) -> bool:
        """Whether the topic gets the file itself (Telegram takes it), not only its name."""
        return 0 < self.size <= TELEGRAM_UPLOAD_LIMIT

    @property
    def line(self) -> str:
        """How the mail's text names it: ``📎 invoice.pdf (120 KB)``."""
        size = (
            f"{self.size / 1024 / 1024:.1f} MB"
            if self.size >= 1024 * 1024
            else (f"{max(1, round(self.size / 1024))} KB")
        )
        return f"📎 {self.name} ({size})"


@dataclass(frozen=True)
class InboundMail:
    """A mail as the use cases see it: its headers, its text made readable (HTML turned into
    text, quoted history and signature taken off) and its attached files."""

    headers: MailHeaders
    text: str
    sent_at: datetime
    files: tuple[MailFile, ...] = ()


def message_ids(value: str | None) -> tuple[str, ...]:
    """The ``<id>`` values of a header, without brackets, in order."""
    return tuple(_MSGID.findall(value or ""))


def headers_of(message: EmailMessage, raw: bytes) -> MailHeaders:
    """The headers the rules read. A mail without a ``Message-ID`` is named by a digest of its
    bytes, so the same mail fetched twice is still recognised."""
    ids = message_ids(str(message.get("Message-ID", "")))
    message_id = ids[0] if ids else "sha256-" + hashlib.sha256(raw).hexdigest() + "@local"
    name, address = parseaddr(str(message.get("From", "")))
    return_path = message.get("Return-Path")
    return MailHeaders(
        message_id=message_id,
        sender=address.strip().lower(),
        sender_name=name.strip(),
        subject=" ".join(str(message.get("Subject", "")).split()),
        in_reply_to=message_ids(str(message.get("In-Reply-To", ""))),
        references=message_ids(str(message.get("References", ""))),
        auto_submitted=_lower(message.get("Auto-Submitted")),
        precedence=_lower(message.get("Precedence")),
        return_path=None if return_path is None else str(return_path).strip(),
        content_type=message.get_content_type(),
    )


def _lower(value: object) -> str | None:
    return None if value is None else str(value).strip().lower()


def skipped(headers: MailHeaders, desk_address: str) -> Skipped | None:
    """Why the desk must neither answer ``headers``' mail nor open a ticket for it (None: it
    is a person's mail)."""
    if not headers.sender:
        return Skipped.NO_SENDER
    if headers.sender == desk_address.strip().lower():
        return Skipped.OWN
    auto = headers.auto_submitted
    if auto is not None and auto.split(";")[0].strip() != "no":
        return Skipped.AUTOMATIC
    local = headers.sender.partition("@")[0]
    if (
        local in _SYSTEM_SENDERS
        or headers.return_path in ("<>", "")
        or headers.content_type == "multipart/report"
    ):
        return Skipped.BOUNCE
    if headers.precedence in _BULK_PRECEDENCE:
        return Skipped.BULK
    return None


#: A sender's mails open at most this many tickets in :data:`FLOOD_WINDOW`; mails without
#: thread information after that join the sender's newest ticket (a flood is recorded, not
#: multiplied into topics).
NEW_TICKETS_PER_WINDOW = 5
FLOOD_WINDOW = timedelta(hours=1)


def flooding(opened: Iterable[datetime], now: datetime) -> bool:
    """Whether a sender who opened tickets at ``opened`` may open no more just now."""
    recent = [at for at in opened if now - at < FLOOD_WINDOW]
    return len(recent) >= NEW_TICKETS_PER_WINDOW


def subject_number(subject: str) -> int | None:
    """The ticket number a subject names as ``[#42]`` (the first one)."""
    found = _TICKET_TAG.search(subject)
    return int(found.group(1)) if found else None


def bare_subject(subject: str) -> str:
    """A subject without reply prefixes and ticket tags: what a new ticket is called."""
    text = _TICKET_TAG.sub(" ", subject)
    while True:
        stripped = _PREFIXES.sub("", text)
        if stripped == text:
            break
        text = stripped
    return " ".join(text.split())


def reply_subject(subject: str, number: int) -> str:
    """The subject of the desk's mails about ticket ``number``: ``Re: [#42] subject``."""
    bare = bare_subject(subject)
    return f"Re: [#{number}] {bare}".rstrip()


def references(thread: Iterable[str]) -> tuple[str, ...]:
    """A reply's ``References`` from a ticket's message ids, oldest first: the first and the
    latest ones when there are too many (RFC 5322 keeps the first for the thread's root)."""
    ids = tuple(dict.fromkeys(thread))
    if len(ids) <= REFERENCES_MAX:
        return ids
    return (ids[0], *ids[-(REFERENCES_MAX - 1) :])


#: The method name of a mail in the outbox (channel ``email``).
SEND_MAIL = "sendMail"


def mail_call(
    customer_id: int,
    address: str,
    name: str,
    *,
    subject: str,
    html: str,
    ticket_id: int | None,
    auto: bool,
    attach: tuple[str, str] | None = None,
) -> OutboundCall:
    """One mail to a customer, queued on their own queue of the email channel.

    ``html`` is the text as the desk writes it for Telegram (HTML with ``<b>``, ``<i>``,
    links); the mail gets it as its HTML part and, made plain, as its text part. ``auto``
    marks the desk's own notices (``Auto-Submitted: auto-replied``, RFC 3834) as opposed to an
    agent's reply. The message id's left part is chosen now, so every retry sends the same
    ``Message-ID``; its threading headers are the ticket's ids as they are when it is sent.
    ``attach``: a Telegram file (its id and media kind) fetched and attached when it is sent.
    """
    params: dict[str, object] = {
        "to": address,
        "name": name,
        "subject": subject,
        "html": html,
        "auto": auto,
        "local_id": uuid.uuid4().hex,
    }
    if ticket_id is not None:
        params["thread"] = Ref(RefKind.MAIL_THREAD, ticket_id)
    if attach is not None:
        params["attach"] = {"file_id": attach[0], "kind": attach[1]}
    return OutboundCall(
        chat_id=customer_id,
        method=SEND_MAIL,
        params=params,
        ticket_id=ticket_id,
        on_sent=OnSent.MAILED,
        ref_id=ticket_id,
        channel=Channel.EMAIL,
    )


def stand_in_chat_id(address: str) -> int:
    """A customer's number for an email address, in the place of a Telegram id.

    Telegram gives private chats positive ids only, so a negative number can never be a
    Telegram customer; 48 bits of a digest of the address keep two addresses apart.
    """
    digest = hashlib.blake2b(address.strip().lower().encode(), digest_size=6).digest()
    return -(int.from_bytes(digest, "big") + 1)


class MailStatus(StrEnum):
    PENDING = "pending"  # stored, not processed yet (or processing failed: tried again)
    DONE = "done"  # processed (an incoming mail) or taken by the SMTP server (the desk's own)
    SKIPPED = "skipped"  # a machine's mail: recorded, no ticket, no answer
    PARKED = "parked"  # failed too often: kept for an admin to look at


#: Processing attempts before an incoming mail is parked (and marked seen).
MAIL_MAX_ATTEMPTS = 5


@dataclass
class StoredMail:
    """One row of the mail log (see :class:`MailStatus`)."""

    id: int
    message_id: str
    status: MailStatus
    outgoing: bool = False
    ticket_id: int | None = None
    attempts: int = 0
    reason: str | None = None
    raw: bytes | None = None

    @property
    def settled(self) -> bool:
        """Nothing more will be done with it: the mailbox may mark it seen."""
        return self.status is not MailStatus.PENDING


# -- the servers -------------------------------------------------------------------------------

_SCHEMES = {
    "imap": {"imaps": (True, 993), "imap": (False, 143)},
    "smtp": {"smtps": (True, 465), "smtp": (False, 587)},
}
_EXAMPLES = {
    "imap": "imaps://user:password@host:993/INBOX (imap:// without TLS)",
    "smtp": "smtps://user:password@host:465 or smtp://host:587 (STARTTLS when offered)",
}


@dataclass(frozen=True)
class MailServer:
    """An IMAP or SMTP server from its URL (user and password percent-decoded)."""

    host: str
    port: int
    tls: bool  # TLS from the first byte (imaps, smtps)
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    mailbox: str = "INBOX"


def parse_server_url(url: str, kind: Literal["imap", "smtp"]) -> MailServer:
    """``imaps://user:password@host:993/INBOX`` or ``smtp[s]://[user:password@]host[:port]``;
    ``ValueError`` (without the URL: it holds a password) when it is neither."""
    schemes = _SCHEMES[kind]
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ValueError(f"not a URL; expected {_EXAMPLES[kind]}") from None
    if parts.scheme not in schemes or not parts.hostname:
        got = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise ValueError(f"unsupported URL ({got}); expected {_EXAMPLES[kind]}")
    tls, default_port = schemes[parts.scheme]
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if kind == "imap" and (user is None or password is None):
        raise ValueError(
            f"the mailbox's user and password are missing; expected {_EXAMPLES[kind]}"
        )
    return MailServer(
        host=parts.hostname,
        port=port or default_port,
        tls=tls,
        user=user,
        password=password,
        mailbox=unquote(parts.path.strip("/")) or "INBOX",
    )


def headers_of_raw(raw: bytes) -> MailHeaders:
    """:func:`headers_of` a mail as fetched."""
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return headers_of(message, raw)
