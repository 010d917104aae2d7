"""Inline-button payloads: versioned prefixes, an action code and the ticket id, nothing more.

Everything else is read from the database when the button is pressed, so a stale or forged
payload can never carry state the server did not check. Telegram allows 64 bytes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from bot.services.tools import QueueKind
from models.ids import MAX_ID

#: A payload with an id the database cannot hold is refused while it is parsed: it is answered
#: as a stale button and never reaches a query.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class CardAction(StrEnum):
    CLAIM = "cl"
    MENU = "mn"  # value: which menu to show
    STATUS = "st"  # value: a TicketStatus
    PRIORITY = "pr"  # value: a Priority
    TEAM = "tm"  # value: team id, 0 for none
    CATEGORY = "ca"  # value: category id
    BACK = "bk"
    CANNED = "cn"  # value: canned answer id (a suggestion on the card)
    OTHER = "ot"  # "Other / not a category": out of scope


class Menu(StrEnum):
    STATUS = "st"
    PRIORITY = "pr"
    TEAM = "tm"
    CATEGORY = "ca"


class TicketCb(CallbackData, prefix="t1"):
    """A button on a ticket card in the agents' group."""

    a: CardAction
    t: Id
    v: str = Field(default="", max_length=20)


class SimilarAction(StrEnum):
    SHOW = "sh"  # the card's "Similar" button: list the similar solved tickets
    DRAFT = "dr"  # a listed ticket: post its reply in the topic as a draft
    SEND = "sd"  # "Send as is" under a draft


class SimilarCb(CallbackData, prefix="m1"):
    """Similar solved tickets: ``t`` is the ticket being worked on, ``s`` the solved one whose
    reply is used (0 for the list itself)."""

    a: SimilarAction
    t: Id
    s: int = Field(default=0, ge=0, le=MAX_ID)


class CustomerAction(StrEnum):
    VIEW = "v"
    CLOSE = "x"
    REOPEN = "r"


class CustomerCb(CallbackData, prefix="c1"):
    """A button in the customer's private chat."""

    a: CustomerAction
    t: Id


class LanguageCb(CallbackData, prefix="l1"):
    lang: str


class RatingCb(CallbackData, prefix="s1"):
    """A CSAT star under a resolved ticket's notice."""

    t: Id
    s: int = Field(ge=1, le=5)


class QueueCb(CallbackData, prefix="q1"):
    """A page button under a ``/queue`` listing: kind, its argument (team id or tag), page."""

    k: QueueKind
    a: str = ""
    p: int = Field(default=0, ge=0, le=100_000)


class IncidentAction(StrEnum):
    RESOLVE = "rs"  # resolve every linked ticket
    SPLIT = "sp"  # a false alarm: every ticket back to a topic of its own
    DETACH = "dt"  # one ticket (``t``) back to a topic of its own


class IncidentCb(CallbackData, prefix="i1"):
    """A button on an incident's card: ``i`` the incident, ``t`` a linked ticket (detach)."""

    a: IncidentAction
    i: Id
    t: int = Field(default=0, ge=0, le=MAX_ID)
