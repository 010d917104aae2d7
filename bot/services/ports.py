"""Ports: what the use cases need from the outside world, as protocols (no aiogram here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from models import (
    Agent,
    CannedAnswer,
    Category,
    Customer,
    Rating,
    Team,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from models.delivery import OutboundCall
from models.incidents import BulkReply, Incident
from models.mail import MailFile
from models.solutions import SimilarSolved, Solution

# Re-exported: the unit of work is a port of the services (handlers never import storage).
from storage import AbstractUnitOfWork as AbstractUnitOfWork


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class UowFactory(Protocol):
    """Makes units of work; ``readonly=True`` ones read without taking SQLite's write lock;
    ``inbox_update=id`` makes the one whose commit also marks that stored update processed."""

    def __call__(
        self, *, readonly: bool = False, inbox_update: int | None = None
    ) -> AbstractUnitOfWork: ...


@dataclass(frozen=True)
class TelegramUser:
    """The sender of an update, as the use cases need it."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True)
class ChatFacts:
    """A group as the bot sees it: its type, whether topics are on, and the bot's membership
    there (its ``status`` and the ``can_...`` rights it holds)."""

    kind: str
    is_forum: bool
    status: str
    rights: frozenset[str]


class ChatInspector(Protocol):
    """Looks at a chat through the bot's eyes (``getChat`` and ``getChatMember``)."""

    async def inspect(self, chat_id: int) -> ChatFacts | None:
        """The chat's facts; None when the bot cannot see the chat at all."""
        ...


@dataclass(frozen=True)
class Retyped:
    """A message's text (or caption) as the agents see it, when that is not the message as sent:
    ``/new <text>`` without its command. ``entities`` keep the customer's formatting: Telegram's
    message entities, their offsets in UTF-16 units of ``text``."""

    text: str
    entities: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class HistoryNames:
    """Who and what a ticket's events refer to by id, for ``/history``."""

    customer: str
    agents: dict[int, str]
    teams: dict[int, str]
    #: Ticket numbers by id: a merged ticket's events are shown with its number.
    numbers: dict[int, int]
    #: REST API keys' names by id (changes made through the API).
    api_keys: dict[int, str] = field(default_factory=dict)


class CustomerTexts(Protocol):
    """What customers read outside a ticket's traffic: menus, their tickets, thanks, notices."""

    def welcome(self, customer: Customer, custom: str | None = None) -> list[OutboundCall]: ...

    def help(self, customer: Customer) -> list[OutboundCall]: ...

    def language_menu(self, customer: Customer) -> list[OutboundCall]: ...

    def language_set(self, customer: Customer) -> list[OutboundCall]: ...

    def new_request_ready(self, customer: Customer) -> list[OutboundCall]: ...

    def my_tickets(self, customer: Customer, tickets: list[Ticket]) -> list[OutboundCall]: ...

    def ticket_view(
        self, customer: Customer, ticket: Ticket, messages: list[TicketMessage]
    ) -> list[OutboundCall]: ...

    def rating_thanks(
        self, customer: Customer, ticket: Ticket, rating: Rating
    ) -> list[OutboundCall]: ...

    def comment_thanks(self, customer: Customer) -> list[OutboundCall]: ...

    def reminder(self, customer: Customer, ticket: Ticket) -> list[OutboundCall]: ...

    def banned_notice(self, customer: Customer) -> list[OutboundCall]: ...

    def slow_down(self, customer: Customer) -> list[OutboundCall]: ...


class TicketTraffic(Protocol):
    """A ticket's life on both sides: its topic and card, copies between customer and topic."""

    #: The desk's main agents' group (teams without a group of their own work there).
    agent_chat_id: int

    def group_of(self, ticket: Ticket) -> int:
        """The agents' group the ticket's traffic goes to."""
        ...

    def ticket_opened(
        self, ticket: Ticket, customer: Customer, registered: str | None = None
    ) -> list[OutboundCall]: ...

    def ticket_reopened(
        self, ticket: Ticket, customer: Customer, *, by_customer: bool
    ) -> list[OutboundCall]: ...

    def ticket_topic(self, ticket: Ticket) -> list[OutboundCall]: ...

    def ticket_registered(
        self, ticket: Ticket, customer: Customer, registered: str | None = None
    ) -> list[OutboundCall]: ...

    # -- incidents -----------------------------------------------------------------------------

    def copy_to_agents(
        self, ticket: Ticket, message: TicketMessage, retyped: Retyped | None = None
    ) -> list[OutboundCall]: ...

    def customer_acknowledged(self, ticket: Ticket) -> list[OutboundCall]: ...

    def mail_files(
        self, ticket: Ticket, message: TicketMessage, files: tuple[MailFile, ...]
    ) -> list[OutboundCall]: ...

    def card_changed(self, ticket: Ticket) -> list[OutboundCall]: ...

    def topic_renamed(self, ticket: Ticket) -> list[OutboundCall]: ...

    def card_menu(
        self, ticket: Ticket, menu: str, teams: list[Team], categories: list[Category]
    ) -> list[OutboundCall]: ...

    def customer_edit_to_agents(
        self, ticket: Ticket, message: TicketMessage
    ) -> list[OutboundCall]: ...

    def status_changed(
        self,
        ticket: Ticket,
        customer: Customer,
        *,
        by_customer: bool,
        reopen_window: timedelta | None = None,
    ) -> list[OutboundCall]: ...

    def deliver_to_customer(
        self,
        ticket: Ticket,
        customer: Customer,
        message: TicketMessage,
        agent: Agent,
        reply_to: TicketMessage | None,
        *,
        sign: bool | None = None,
    ) -> list[OutboundCall]: ...

    def agent_edit_to_customer(
        self, ticket: Ticket, message: TicketMessage
    ) -> list[OutboundCall]: ...

    def acknowledged(self, chat_id: int, message_id: int, *, note: bool) -> list[OutboundCall]: ...

    def to_topic(self, ticket: Ticket, text: str) -> list[OutboundCall]: ...

    def moved_here(
        self,
        ticket: Ticket,
        team: Team | None,
        recent: list[TicketMessage],
        waiting: list[OutboundCall],
    ) -> list[OutboundCall]: ...

    def moved_away(self, ticket: Ticket, team: Team | None) -> list[OutboundCall]: ...

    def left_card(
        self, ticket: Ticket, team: Team | None, chat_id: int, card_id: int
    ) -> list[OutboundCall]: ...

    def history(
        self,
        ticket: Ticket,
        events: list[TicketEvent],
        names: HistoryNames,
        reader_language: str | None,
    ) -> list[OutboundCall]: ...


class DeskNotices(Protocol):
    """Notices to agents outside a ticket's own traffic: SLA, the triage queue, the group."""

    def not_sure(self, ticket: Ticket) -> list[OutboundCall]: ...

    def not_sure_settled(self, ticket: Ticket, agent: Agent) -> list[OutboundCall]: ...

    def triage_queue_topic(self) -> list[OutboundCall]: ...

    def digest(self, by_team: dict[str, dict[str, int]], now: datetime) -> list[OutboundCall]: ...

    def sla_warning(
        self, ticket: Ticket, kind: str, due: datetime, assignee: Agent | None
    ) -> list[OutboundCall]: ...

    def sla_breach(
        self,
        ticket: Ticket,
        kind: str,
        due: datetime,
        assignee: Agent | None,
        supervisors: list[Agent],
    ) -> list[OutboundCall]: ...

    # -- agents' tools -------------------------------------------------------------------------

    def delivery_failed(self, ticket: Ticket, error: str) -> list[OutboundCall]: ...

    def agent_changed(
        self, chat_id: int, thread_id: int | None, agent: Agent
    ) -> list[OutboundCall]: ...

    def refused(
        self, chat_id: int, thread_id: int | None, reply_to: int | None
    ) -> list[OutboundCall]: ...

    def group_behind(
        self, queued: int, behind: timedelta, chat_id: int | None = None
    ) -> list[OutboundCall]: ...


class IncidentTexts(Protocol):
    """An incident's topic and card, and what its linked tickets and customers see."""

    def incident_opened(self, incident: Incident) -> list[OutboundCall]: ...

    def incident_changed(self, incident: Incident) -> list[OutboundCall]: ...

    def incident_closed(self, incident: Incident) -> list[OutboundCall]: ...

    def linked_to_incident(self, ticket: Ticket, incident: Incident) -> list[OutboundCall]: ...

    def cluster_joined(
        self, incident: Incident, subject: str, count: int
    ) -> list[OutboundCall]: ...

    def left_incident(self, ticket: Ticket, incident: Incident | None) -> list[OutboundCall]: ...

    def unseen_messages(
        self, ticket: Ticket, messages: list[TicketMessage]
    ) -> list[OutboundCall]: ...

    def bulk_reply(
        self, ticket: Ticket, customer: Customer, message: TicketMessage, reply: BulkReply
    ) -> list[OutboundCall]: ...


class AgentToolTexts(Protocol):
    """Assignment, collisions, canned answers, similar tickets, merges and bans."""

    def assigned_to_you(
        self, ticket: Ticket, agent: Agent, by: Agent | None
    ) -> list[OutboundCall]: ...

    def availability(
        self, chat_id: int, thread_id: int | None, agent: Agent
    ) -> list[OutboundCall]: ...

    def collision(
        self, ticket: Ticket, agent: Agent, assignee: Agent | None, *, blocked: bool
    ) -> list[OutboundCall]: ...

    def double_reply(self, ticket: Ticket, first: Agent, second: Agent) -> list[OutboundCall]: ...

    def canned_to_customer(
        self,
        ticket: Ticket,
        customer: Customer,
        message: TicketMessage,
        agent: Agent,
        key: str,
    ) -> list[OutboundCall]: ...

    def auto_answered(
        self, ticket: Ticket, customer: Customer, message: TicketMessage
    ) -> list[OutboundCall]: ...

    def api_to_customer(
        self, ticket: Ticket, customer: Customer, message: TicketMessage, key_name: str
    ) -> list[OutboundCall]: ...

    def api_note(
        self, ticket: Ticket, message: TicketMessage, key_name: str
    ) -> list[OutboundCall]: ...

    def similar_solved(
        self, ticket: Ticket, found: list[SimilarSolved], now: datetime, *, asked: bool
    ) -> list[OutboundCall]: ...

    def solution_draft(
        self, ticket: Ticket, source: Ticket, solution: Solution, agent: Agent
    ) -> list[OutboundCall]: ...

    def solution_to_customer(
        self,
        ticket: Ticket,
        customer: Customer,
        message: TicketMessage,
        agent: Agent,
        source: Ticket,
    ) -> list[OutboundCall]: ...

    def canned_list(
        self, chat_id: int, thread_id: int | None, answers: list[CannedAnswer]
    ) -> list[OutboundCall]: ...

    def canned_changed(
        self, chat_id: int, thread_id: int | None, key: str, removed: int | None
    ) -> list[OutboundCall]: ...

    def merged(
        self, ticket: Ticket, target: Ticket, customer: Customer, moved: int, *, reopened: bool
    ) -> list[OutboundCall]: ...

    def ban_changed(
        self, chat_id: int, thread_id: int | None, customer: Customer, agent: Agent
    ) -> list[OutboundCall]: ...


class Presenter(
    CustomerTexts, TicketTraffic, DeskNotices, IncidentTexts, AgentToolTexts, Protocol
):
    """Turns what happened into the Telegram calls that tell people about it.

    Implementations render texts in the recipient's language and build keyboards; the use cases
    put the returned calls into the outbox in the same transaction as the change itself. The
    protocol is split by audience; a use case may ask for the part it needs.
    """
