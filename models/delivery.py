"""Outbound calls to the messenger, as plain data (the outbox stores them, a sender makes them)."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any


class Lane(IntEnum):
    """Sending order inside one chat: urgent traffic first, cosmetic updates when there is room."""

    NOTICE = -1  # a word about the queue itself (the group is behind): ahead of the queue
    REPLY = 0  # messages people are waiting for: answers, copies, new-ticket cards
    UPDATE = 1  # edits of existing messages (ticket cards), coalesced


class Channel(StrEnum):
    """Where an outbox call goes, and where a customer's message came from. Each channel's
    calls are queued per recipient (a Telegram chat, a webhook endpoint, an email customer)
    and made in order, one at a time per queue."""

    TELEGRAM = "telegram"
    WEBHOOK = "webhook"
    EMAIL = "email"
    WEB = "web"  # the website chat widget (one queue per visitor)


#: One ordered queue of the outbox: a channel and its recipient there.
Queue = tuple[Channel, int]


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanent error (blocked, chat not found, bad request)
    UNKNOWN = "unknown"  # gave up after a timeout: Telegram may or may not have it
    SKIPPED = "skipped"  # superseded before sending (e.g. a newer card edit)


class RefKind(StrEnum):
    """What a parameter of a queued call stands for until the call is made.

    A call is queued in the transaction that causes it, often before what it needs exists (the
    topic of a ticket opened in the same transaction, the copy of a message not yet sent). Per-chat
    order makes sure the earlier call has been made when this one is; the sender then looks the
    value up (``bot.adapters.delivery``).
    """

    THREAD = "thread"  # a ticket's topic (its incident's while it is worked there)
    CARD = "card"  # the message id of a ticket's card
    REPLY_CARD = "reply_card"  # reply parameters pointing at the card (a plain group)
    CARD_TEXT = "card_text"  # the card as it reads when the call is made
    CARD_MARKUP = "card_markup"  # the card's buttons
    TICKET_BUTTON = "ticket_button"  # a button linking to a ticket's topic (``label``)
    REPLY_AGENTS_COPY = "reply_agents_copy"  # reply parameters: a message's copy in the group
    REPLY_CUSTOMER_COPY = "reply_customer_copy"  # reply parameters: its copy at the customer's
    CUSTOMER_COPY = "customer_copy"  # the message id of a message's copy at the customer's
    ALBUM_FOR_AGENTS = "album_for_agents"  # an album's parts not yet in the group (``group``)
    ALBUM_FOR_CUSTOMER = "album_for_customer"  # an album's parts not yet at the customer's
    TRIAGE_THREAD = "triage_thread"  # the triage queue's topic
    NOT_SURE_TEXT = "not_sure_text"  # a ticket's line in the triage queue
    NOT_SURE_POST = "not_sure_post"  # the message id of that line
    INCIDENT_THREAD = "incident_thread"
    INCIDENT_CARD = "incident_card"
    INCIDENT_CARD_TEXT = "incident_card_text"
    INCIDENT_CARD_MARKUP = "incident_card_markup"
    MAIL_THREAD = "mail_thread"  # a ticket's message ids, for a mail's References
    MAIL_FILE = "mail_file"  # a file attached to a stored mail (``part``: which one)


@dataclass(frozen=True, slots=True)
class Ref:
    """A parameter looked up when its call is made (see :class:`RefKind`)."""

    kind: RefKind
    #: The ticket, message or incident it is about (None for the desk's own: the triage topic).
    id: int | None = None
    #: A topic that must exist: without it the call can never be made (else it goes to the chat).
    required: bool = False
    #: The ticket's own topic only (not its incident's): without one the call is skipped.
    own: bool = False
    group: str | None = None  # an album's media group id
    label: str | None = None  # a button's text
    part: int | None = None  # which of a mail's attachments

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"@ref": str(self.kind)}
        for name in ("id", "required", "own", "group", "label", "part"):
            value = getattr(self, name)
            if value is not None and value is not False:
                data[name] = value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ref:
        return cls(
            RefKind(data["@ref"]),
            data.get("id"),
            required=bool(data.get("required")),
            own=bool(data.get("own")),
            group=data.get("group"),
            label=data.get("label"),
            part=data.get("part"),
        )


#: References to a ticket's place in its agents' group (its topic, its card there).
PLACED = frozenset({RefKind.THREAD, RefKind.CARD, RefKind.REPLY_CARD})


def placed_refs(params: dict[str, Any]) -> list[Ref]:
    """The references of a call's parameters to a ticket's place in its group."""
    return [v for v in params.values() if isinstance(v, Ref) and v.kind in PLACED]


@dataclass(frozen=True, slots=True)
class Upload:
    """A file sent with its call (a multipart upload): a chart, an export."""

    name: str
    content: bytes = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"@upload": self.name, "b64": base64.b64encode(self.content).decode("ascii")}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Upload:
        return cls(str(data["@upload"]), base64.b64decode(data["b64"], validate=True))


class OnSent(StrEnum):
    """What the result of a call changes (``OutboundCall.ref_id`` names whose)."""

    TOPIC = "topic"  # the ticket's topic
    CARD = "card"  # the ticket's card
    COPIED_TO_AGENTS = "copied_to_agents"  # a message's copy in the group
    COPIED_TO_CUSTOMER = "copied_to_customer"  # a message's copy at the customer's
    ALBUM_TO_AGENTS = "album_to_agents"  # (ref_id: the ticket)
    ALBUM_TO_CUSTOMER = "album_to_customer"
    TRIAGE_TOPIC = "triage_topic"
    NOT_SURE = "not_sure"  # a ticket's line in the triage queue
    NOT_SURE_SETTLED = "not_sure_settled"
    RATING_PROMPT = "rating_prompt"
    INCIDENT_TOPIC = "incident_topic"
    INCIDENT_CARD = "incident_card"
    BULK_REPLY = "bulk_reply"  # one customer's copy of an incident's reply
    MAILED = "mailed"  # one of the desk's mails, taken by the SMTP server (ref_id: the ticket)


def encode_params(params: dict[str, Any]) -> str:
    """A call's parameters as stored in the outbox (JSON; references and uploads tagged)."""
    return json.dumps(
        {k: v.to_json() if isinstance(v, Ref | Upload) else v for k, v in params.items()},
        ensure_ascii=False,
    )


def decode_params(text: str) -> dict[str, Any]:
    """The inverse of :func:`encode_params`. A tagged value that does not decode (a row
    written by hand, a damaged file) stays as it is: the call then fails validation when it is
    made and is given up, instead of stopping its chat's queue here."""
    params: dict[str, Any] = json.loads(text)
    for key, value in params.items():
        if not isinstance(value, dict):
            continue
        try:
            if "@ref" in value:
                params[key] = Ref.from_json(value)
            elif "@upload" in value:
                params[key] = Upload.from_json(value)
        except (KeyError, TypeError, ValueError):
            continue
    return params


@dataclass
class OutboundCall:
    """One Bot API call: ``method`` with ``params``.

    A parameter is a JSON value, a :class:`Ref` looked up when the call is made (e.g. the topic
    of a ticket whose topic an earlier call creates), or an :class:`Upload`. ``on_sent`` says what
    to record from the result (e.g. the message id of a copy), about ``ref_id``.

    ``chat_id`` is the recipient in the call's ``channel``: a Telegram chat, or the id of a
    webhook endpoint.
    """

    chat_id: int
    method: str
    params: dict[str, Any]
    lane: Lane = Lane.REPLY
    ticket_id: int | None = None
    on_sent: OnSent | None = None
    ref_id: int | None = None
    dedupe_key: str | None = None
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    not_before: datetime | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
    result: dict[str, Any] | None = field(default=None, repr=False)
    id: int | None = None
    channel: Channel = Channel.TELEGRAM

    @property
    def queue(self) -> Queue:
        return (self.channel, self.chat_id)


@dataclass
class Coalesced:
    """One call made in place of a queued call and the ``absorbed`` calls queued after it
    (e.g. a topic's backlog of customer texts joined into one message). The absorbed calls are
    recorded as sent with it: they are never made on their own."""

    method: str
    params: dict[str, Any]
    absorbed: list[OutboundCall]


class NotReady(Exception):
    """A call depends on something not there yet (e.g. a topic still being created)."""


class Unsendable(Exception):
    """A call can never be made (e.g. it refers to a message that does not exist)."""


class Skip(Exception):
    """A call has nothing left to do (e.g. every part of an album was copied already)."""


class InboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    PARKED = "parked"  # failed too often: kept for an admin to look at


#: Processing attempts before an update is parked.
INBOX_MAX_ATTEMPTS = 5


# -- what a message shows: edits that would change nothing are not sent -------------------------

#: The parameters that make up what a text message shows, and a caption's.
_TEXT_PARTS = ("text", "parse_mode", "entities", "link_preview_options")
_CAPTION_PARTS = ("caption", "parse_mode", "caption_entities", "show_caption_above_media")
#: Methods that set what an existing message shows.
EDIT_METHODS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})


@dataclass(frozen=True)
class Appearance:
    """What one message of a chat shows after a call: digests of its body (text or caption)
    and of its inline keyboard. ``body`` is None when the call leaves the body as it is
    (``editMessageReplyMarkup``)."""

    chat_id: int
    message_id: int
    body: str | None
    markup: str

    def changes(self, shown: tuple[str | None, str | None] | None) -> bool:
        """Whether making the call changes what the message shows (``shown``: the stored
        ``(body, markup)`` digests, None when unknown). Unknown always counts as a change."""
        if shown is None:
            return True
        body, markup = shown
        if self.body is not None and self.body != body:
            return True
        return self.markup != markup


def _digest(value: object) -> str:
    encoded = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.blake2b(encoded.encode(), digest_size=16).hexdigest()


def appearance(method: str, params: dict[str, Any], result: object = None) -> Appearance | None:
    """What ``method`` with (resolved) ``params`` leaves a message showing, when it is a
    message the bot may edit later: an edit's target, or a message sent with an inline keyboard
    (``result`` gives its id). None for everything else.

    Telegram answers an edit that changes nothing with an error, and counts it against the
    chat's budget all the same; comparing these digests lets the sender not make it. An edit
    of the text without ``reply_markup`` removes the keyboard, so the keyboard is part of
    every text or caption edit's appearance.
    """
    chat_id = params.get("chat_id")
    if not isinstance(chat_id, int):
        return None
    if method in EDIT_METHODS:
        message_id = params.get("message_id")
    elif method == "sendMessage" and params.get("reply_markup") and isinstance(result, dict):
        message_id = result.get("message_id")
    else:
        return None
    if not isinstance(message_id, int):
        return None
    markup = _digest(params.get("reply_markup"))
    if method == "editMessageReplyMarkup":
        return Appearance(chat_id, message_id, None, markup)
    parts = _CAPTION_PARTS if method == "editMessageCaption" else _TEXT_PARTS
    body = _digest([method == "editMessageCaption", [params.get(p) for p in parts]])
    return Appearance(chat_id, message_id, body, markup)
