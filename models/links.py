"""``/link`` and ``/unlink`` as typed by an agent: which Telegram customer, which email address.

``/link <telegram side> <address>`` anywhere in an agents' group; in a ticket's topic one side
may be left out, and is then the topic's own: ``/link <address>`` (the topic's customer writes
in Telegram) or ``/link <telegram side>`` (the topic's customer writes by email). The Telegram
side is ``#42`` (that ticket's customer), a Telegram user id, or a customer's ``@username``.
``/unlink <address>``.

Parsing only: whether the sides exist and may be linked is the use case's and
:meth:`models.people.Customer.link`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.errors import LinkProblem, LinkRefused
from models.ids import parse_id

#: RFC 5321 allows 254 characters in a path.
ADDRESS_MAX = 254
_ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,32}")


@dataclass(frozen=True)
class TelegramSide:
    """A Telegram customer as named in a command: exactly one of the three is set."""

    ticket_number: int | None = None
    telegram_id: int | None = None
    username: str | None = None


@dataclass(frozen=True)
class LinkRequest:
    #: None: the customer of the topic the command was given in.
    who: TelegramSide | None
    #: None: the address of the topic's (email) customer.
    address: str | None


def looks_like_address(word: str) -> bool:
    """Whether ``word`` is meant as an email address (an ``@`` inside it, not in front)."""
    return "@" in word.strip().strip("<>")[1:]


def parse_address(word: str) -> str:
    """``word`` as an address, lower-case (angle brackets and ``mailto:`` taken off)."""
    address = word.strip().strip("<>").removeprefix("mailto:").lower()
    if len(address) > ADDRESS_MAX or not _ADDRESS.fullmatch(address):
        raise LinkRefused(LinkProblem.NOT_AN_ADDRESS, word)
    return address


def parse_side(word: str) -> TelegramSide:
    """``#42``, a Telegram user id, or ``@username``."""
    word = word.strip()
    if word.startswith("#"):
        number = parse_id(word[1:])
        if number is None or number == 0:
            raise LinkRefused(LinkProblem.NOT_A_CUSTOMER, word)
        return TelegramSide(ticket_number=number)
    if word.startswith("@"):
        if not _USERNAME.fullmatch(word[1:]):
            raise LinkRefused(LinkProblem.NOT_A_CUSTOMER, word)
        return TelegramSide(username=word[1:])
    user_id = parse_id(word)
    # Telegram's user ids are positive; a negative number is a group, or the desk's stand-in
    # for an email customer.
    if user_id is None or user_id == 0:
        raise LinkRefused(LinkProblem.NOT_A_CUSTOMER, word)
    return TelegramSide(telegram_id=user_id)


def parse_link(args: str) -> LinkRequest:
    """``/link``'s arguments (see the module's docstring)."""
    words = args.split()
    if not words or len(words) > 2:
        raise LinkRefused(LinkProblem.USAGE, args.strip()[:100])
    if len(words) == 1:
        if looks_like_address(words[0]):
            return LinkRequest(None, parse_address(words[0]))
        return LinkRequest(parse_side(words[0]), None)
    first, second = words
    if looks_like_address(first) and not looks_like_address(second):
        # Both are there, the wrong way round: say how it goes rather than guess.
        raise LinkRefused(LinkProblem.USAGE, args.strip()[:100])
    return LinkRequest(parse_side(first), parse_address(second))


def parse_unlink(args: str) -> str:
    """``/unlink``'s one argument: an address."""
    words = args.split()
    if len(words) != 1:
        raise LinkRefused(LinkProblem.USAGE, args.strip()[:100])
    return parse_address(words[0])
