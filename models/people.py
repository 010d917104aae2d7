"""Who takes part: customers, agents, teams and categories."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from models.delivery import Channel
from models.enums import AssignStrategy, Role
from models.errors import LinkProblem, LinkRefused
from models.events import Actor


@dataclass
class Customer:
    telegram_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    #: The language of our texts to the customer: one the desk speaks (or their choice).
    language: str | None = None
    #: The customer's own language as Telegram last reported it (``de``, ``pt-br``).
    language_code: str | None = None
    id: int | None = None
    blocked_bot: bool = False
    banned: bool = False
    ban_reason: str | None = None
    #: When the customer was last told to slow down or that they are banned (sent at most once
    #: per flood window, so a flood never turns into a flood of notices).
    last_notice_at: datetime | None = None
    #: Set by ``/new``: the customer's next message opens a ticket even if one is open.
    wants_new_ticket: bool = False
    created_at: datetime | None = None
    #: An email customer's address (lower-case). Their ``telegram_id`` is then a stand-in
    #: (:func:`models.mail.stand_in_chat_id`) that no Telegram chat has.
    email: str | None = None
    #: A website visitor (the chat widget): their ``telegram_id`` is a stand-in too
    #: (:func:`models.widget.stand_in_chat_id`), and the desk writes to them in the widget.
    visitor: bool = False
    #: An email customer linked to a Telegram customer (``/link``): the same person. This row
    #: stays the address's identity (its mails are known by it); the tickets are the linked
    #: customer's.
    linked_to_id: int | None = None
    #: On a customer with linked addresses: the one they last wrote from, where the desk's
    #: replies go (None: their own chat).
    reply_via_id: int | None = None

    @property
    def display_name(self) -> str:
        default = self.email or str(self.telegram_id)
        return " ".join(p for p in (self.first_name, self.last_name) if p) or default

    @property
    def channel(self) -> Channel:
        """Where the desk writes to the customer."""
        if self.visitor:
            return Channel.WEB
        return Channel.EMAIL if self.email else Channel.TELEGRAM

    # -- one person, several channels --------------------------------------------------------
    #
    # A Telegram customer may have email addresses linked to them. Each address keeps its own
    # row (its mails are recognised by it, its messages record it); the person is the Telegram
    # customer: their tickets, their ban. Whatever the person last wrote from is where the
    # desk writes back.

    def link(self, address: Customer, *, address_wrote_last: bool) -> None:
        """Make the email customer ``address`` one of this Telegram customer's identities;
        ``address_wrote_last``: the person's latest message came by mail, so replies go there
        until they write in Telegram."""
        if self.visitor:
            raise LinkRefused(LinkProblem.VISITOR, self.display_name)
        if self.channel is not Channel.TELEGRAM:
            raise LinkRefused(LinkProblem.BY_EMAIL, self.email or "")
        if address.channel is not Channel.EMAIL:
            raise LinkRefused(LinkProblem.NOT_AN_ADDRESS, address.display_name)
        if address.linked_to_id == self.id:
            raise LinkRefused(LinkProblem.ALREADY_LINKED, address.email or "")
        if address.linked_to_id is not None:
            raise LinkRefused(LinkProblem.LINKED_ELSEWHERE, address.email or "")
        address.linked_to_id = self.id
        if address_wrote_last:
            self.reply_via_id = address.id

    def unlink(self, address: Customer) -> None:
        """``address`` is no longer this person's: replies that went there come to their chat."""
        if address.linked_to_id != self.id:
            raise LinkRefused(LinkProblem.NOT_LINKED, address.email or "")
        address.linked_to_id = None
        if self.reply_via_id == address.id:
            self.reply_via_id = None

    def wrote_from(self, identity: Customer) -> None:
        """The person wrote from ``identity`` (themself, or one of their linked addresses)."""
        if identity.id == self.id:
            self.reply_via_id = None
        elif identity.linked_to_id == self.id:
            self.reply_via_id = identity.id

    def replies_to(self, via: Customer | None) -> Customer:
        """Who the desk writes to for this person: ``via`` (the row of :attr:`reply_via_id`)
        while it is still their linked address, else themself."""
        if via is not None and via.id == self.reply_via_id and via.linked_to_id == self.id:
            return via
        return self


@dataclass
class Agent:
    telegram_id: int
    name: str
    role: Role = Role.AGENT
    username: str | None = None
    id: int | None = None
    active: bool = True
    away: bool = False
    capacity: int | None = None
    team_ids: list[int] = field(default_factory=list)
    created_at: datetime | None = None
    #: The agent's Telegram language code (None until they act): their direct messages use it.
    language: str | None = None
    #: Set on the stand-in for a REST API key (never stored): its changes are recorded as the
    #: key's, its replies are nobody's in the registry.
    api_key_id: int | None = None

    @property
    def actor(self) -> Actor:
        """Who this agent's changes are recorded as."""
        if self.api_key_id is not None:
            return Actor.api(self.api_key_id)
        return Actor.agent(self.id)

    def can(self, needed: Role) -> bool:
        """Whether this agent's role is at least ``needed``."""
        return self.active and self.role.at_least(needed)


@dataclass
class Team:
    name: str
    strategy: AssignStrategy = AssignStrategy.MANUAL
    #: The team's own agents' group (a forum supergroup): its tickets' topics live there.
    #: None: the desk's main group.
    group_chat_id: int | None = None
    id: int | None = None


@dataclass
class Category:
    key: str
    title: str
    team_id: int | None = None
    #: Canned answer sent at once when the classifier is at least this confident (off if None).
    auto_answer_key: str | None = None
    auto_answer_threshold: float | None = None
    id: int | None = None
