"""The website chat widget's rules, without I/O: visitor tokens, what a visitor may send, and
how the desk's texts reach a visitor.

* **Tokens.** A visitor is known by an opaque random token the server hands out (``hdw_`` and
  43 URL-safe characters: 256 bits); only its SHA-256 is stored, so a leaked database names no
  visitor's token. Whoever holds the token reads that visitor's conversation and nothing else.
* **The conversation.** Everything a visitor sees is a row of the widget's log, numbered per
  visitor (``seq``: 1, 2, 3 …) in the order it was committed: their own messages, and what the
  desk wrote to them (agents' replies, the ticket number, notices), stored by the outbox's
  sender. The widget asks for the rows after the last ``seq`` it showed, so a reply written
  while the visitor was away is there when they come back, and none is shown twice.
* **Away.** A visitor whose widget has not read their conversation for :data:`AWAY` (the page
  is closed: an open widget reads at least every 25 s) and who left an address gets an
  agent's reply by mail too, when the desk has the email channel.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from html.parser import HTMLParser

from models.delivery import Channel, OutboundCall
from models.errors import InvalidInput

TOKEN_PREFIX = "hdw_"
#: The longest text a visitor may send: a Telegram message (4096) with room for the desk's
#: own framing; longer texts are refused with this number, never cut.
TEXT_MAX = 4000
NAME_MAX = 128
EMAIL_MAX = 254
CLIENT_ID_MAX = 64
#: Stand-in ids of visitors lie below every email customer's (:func:`models.mail.stand_in_chat_id`
#: uses 48 bits), so the two channels can never share one.
_STAND_IN_BASE = 2**48
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

#: The method name of a text for a visitor in the outbox (channel ``web``).
SEND_WIDGET = "sendWidgetMessage"
#: A visitor whose widget read nothing for this long is away (see the module's docstring);
#: a read is recorded at most every :data:`SEEN_EVERY`.
AWAY = timedelta(seconds=90)
SEEN_EVERY = timedelta(seconds=30)


class Direction(StrEnum):
    VISITOR = "visitor"  # the visitor wrote it
    DESK = "desk"  # the desk wrote it to the visitor


@dataclass(frozen=True)
class Visitor:
    id: int
    customer_id: int
    name: str | None = None
    email: str | None = None
    created_at: datetime | None = None
    #: When their widget last read the conversation (recorded at most every SEEN_EVERY).
    last_read_at: datetime | None = None

    def away(self, now: datetime) -> bool:
        return self.last_read_at is None or now - self.last_read_at >= AWAY

    def seen_long_ago(self, now: datetime) -> bool:
        """Whether a read now is worth recording."""
        return self.last_read_at is None or now - self.last_read_at >= SEEN_EVERY


@dataclass(frozen=True)
class WidgetMessage:
    """One row of a visitor's conversation (``seq``: its place in it, from 1)."""

    seq: int
    direction: Direction
    text: str
    created_at: datetime
    ticket_number: int | None = None
    client_id: str | None = None
    id: int | None = None


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of a token (and looked up by)."""
    return hashlib.sha256(token.encode()).hexdigest()


def stand_in_chat_id(visitor_id: int) -> int:
    """A visitor's customer number in the place of a Telegram id: negative (no private chat
    has one) and below every email customer's."""
    return -(_STAND_IN_BASE + visitor_id)


def checked_text(text: object) -> str:
    """A visitor's message as it is stored: surrounding blanks taken off, 1 to
    :data:`TEXT_MAX` characters (``InvalidInput`` otherwise, nothing is cut)."""
    if not isinstance(text, str):
        raise InvalidInput("text", text, "must be a string")
    stripped = text.strip()
    if not stripped:
        raise InvalidInput("text", "", "is empty: write something")
    if len(stripped) > TEXT_MAX:
        raise InvalidInput(
            "text", f"{len(stripped)} characters", f"is too long: at most {TEXT_MAX} characters"
        )
    return stripped


def checked_contact(name: str | None, email: str | None) -> tuple[str | None, str | None]:
    """The optional name and email address a visitor gives (``InvalidInput`` when too long,
    or when the address is not one)."""
    name = (name or "").strip() or None
    email = (email or "").strip().lower() or None
    if name is not None and len(name) > NAME_MAX:
        raise InvalidInput("name", name[:20] + "…", f"is too long: at most {NAME_MAX} characters")
    if email is not None and (len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email)):
        raise InvalidInput("email", email[:40], "is not an email address (like ann@example.com)")
    return name, email


def checked_client_id(value: str | None) -> str | None:
    """The widget's own id of a message (retrying a send with it stores the message once)."""
    if value is None:
        return None
    if not _CLIENT_ID.fullmatch(value):
        raise InvalidInput("client_id", value[:20], "must be 1 to 64 of A-Z a-z 0-9 _ -")
    return value


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._href: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "a":
            self._href.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href:
            href = self._href.pop()
            if href and not "".join(self.parts).endswith(href):
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """A text the desk wrote for Telegram (its HTML: ``<b>``, ``<i>``, links) as the widget
    shows it: plain, a link's address after its words."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()


def widget_call(
    customer_id: int, text: str, ticket_id: int | None, away_mail: dict[str, str] | None = None
) -> OutboundCall:
    """A text for a visitor (plain, see :func:`plain_text`), queued on their own queue of the
    web channel; the sender stores it in their conversation. ``away_mail`` (an agent's reply:
    ``subject``, ``html``, ``name``): the mail sent too if the visitor is away and left an
    address (see :data:`AWAY`)."""
    params: dict[str, object] = {"text": text}
    if away_mail is not None:
        params["away_mail"] = away_mail
    return OutboundCall(
        chat_id=customer_id,
        method=SEND_WIDGET,
        params=params,
        ticket_id=ticket_id,
        channel=Channel.WEB,
    )


def parse_origins(value: str) -> list[str]:
    """``HELPDESK_WIDGET_ORIGINS``: comma-separated ``scheme://host[:port]`` values, as browsers
    send them in ``Origin`` (``ValueError`` naming a bad one)."""
    origins = []
    for raw in value.replace(";", ",").split(","):
        origin = raw.strip().rstrip("/")
        if not origin:
            continue
        if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?", origin):
            raise ValueError(
                f"{origin[:60]!r} is not an origin; expected https://example.com[:port], "
                "comma-separated"
            )
        origins.append(origin.lower())
    return origins
