"""The Ticket aggregate: its state, the rules for changing it, and the history it records."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from models.enums import EventKind, Priority, TicketStatus
from models.errors import InvalidInput, TicketClosed, TicketMerged
from models.events import Actor, TicketEvent
from models.sla import PAUSED_STATUSES
from models.status import (
    ensure_transition,
    status_after_agent_reply,
    status_after_customer_message,
)

SUBJECT_MAX = 200
TAG_MAX_LENGTH = 32
TAGS_PER_TICKET = 10
_TAG = re.compile(r"[\w-]+")


def parse_tags(text: str) -> list[str]:
    """Tags as typed after ``/tag``: words (letters, digits, ``_``, ``-``; ``#`` optional),
    lower-cased, each at most 32 characters. Anything else is refused, not silently altered."""
    tags: list[str] = []
    for word in text.replace(",", " ").split():
        tag = word.removeprefix("#").lower()
        if not tag or not _TAG.fullmatch(tag) or len(tag) > TAG_MAX_LENGTH:
            raise InvalidInput(
                "tag", word, f"tags are words of letters, digits, _ or -, up to {TAG_MAX_LENGTH}"
            )
        if tag not in tags:
            tags.append(tag)
    if not tags:
        raise InvalidInput("tag", text, "give one or more tags")
    return tags


def make_subject(text: str | None, fallback: str = "") -> str:
    """A one-line subject from the first message: whitespace collapsed, cut at a word boundary."""
    words = " ".join((text or "").split())
    if not words:
        return fallback
    if len(words) <= SUBJECT_MAX:
        return words
    cut = words[:SUBJECT_MAX].rsplit(" ", 1)[0] or words[:SUBJECT_MAX]
    return cut + "…"


@dataclass
class Ticket:
    customer_id: int
    subject: str
    created_at: datetime
    number: int | None = None
    status: TicketStatus = TicketStatus.NEW
    priority: Priority = Priority.NORMAL
    category: str | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    updated_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    triage_confidence: float | None = None
    needs_human: bool = False
    agent_chat_id: int | None = None
    agent_thread_id: int | None = None
    card_message_id: int | None = None
    #: The topic it had before it moved to another agents' group: closed with a link to the
    #: new one once that exists (then cleared).
    moved_from_chat_id: int | None = None
    moved_from_thread_id: int | None = None
    #: The customer's oldest message no agent has answered yet (the next-response clock).
    awaiting_reply_since: datetime | None = None
    sla_breached: bool = False
    tags: list[str] = field(default_factory=list)
    #: Canned answers the card offers (ids, best first), chosen when the ticket opened.
    suggestions: list[int] = field(default_factory=list)
    #: The key of the canned answer sent automatically when the ticket opened.
    auto_answer: str | None = None
    merged_into_id: int | None = None
    #: The incident this ticket is linked to (its replies and resolution come from there).
    incident_id: int | None = None
    #: An agent took it out of an incident (detach, split): it never joins one again.
    incident_detached: bool = False
    id: int | None = None
    pending_events: list[TicketEvent] = field(default_factory=list, repr=False, compare=False)

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        customer_id: int,
        subject: str,
        now: datetime,
        priority: Priority = Priority.NORMAL,
        category: str | None = None,
        team_id: int | None = None,
        actor: Actor | None = None,
    ) -> Ticket:
        """A new ticket; opened by its customer unless ``actor`` says who (an outbound
        contact)."""
        ticket = cls(
            customer_id=customer_id,
            subject=subject,
            created_at=now,
            updated_at=now,
            priority=priority,
            category=category,
            team_id=team_id,
        )
        opener = actor or Actor.customer(customer_id)
        ticket._record(EventKind.CREATED, opener, now, new=subject)
        return ticket

    # -- queries ----------------------------------------------------------------------------

    @property
    def is_active(self) -> bool:
        return self.status.is_active

    def accepts_customer_message(self, now: datetime, reopen_window: timedelta) -> bool:
        """Whether a new customer message belongs to this ticket rather than to a new one.

        Active tickets take every message; a resolved ticket takes it (and reopens) only within
        the reopen window; a closed ticket never does, nor does a merged one (its target does).
        """
        if self.merged_into_id is not None:
            return False
        if self.is_active:
            return True
        if self.status is TicketStatus.RESOLVED and self.resolved_at is not None:
            return now - self.resolved_at <= reopen_window
        return False

    def ensure_changeable(self, *, reopening: bool = False) -> None:
        """Refuse any change to a merged ticket (final), and any but a reopen to a closed one.

        Old buttons and commands of such a ticket end here, whatever they ask for.
        """
        if self.merged_into_id is not None:
            raise TicketMerged(self.number, self.merged_into_id)
        if self.status is TicketStatus.CLOSED and not reopening:
            raise TicketClosed(self.number)

    # -- commands ---------------------------------------------------------------------------

    def change_status(self, target: TicketStatus, actor: Actor, now: datetime) -> bool:
        """Move to ``target``; returns False when the ticket already has that status."""
        self.ensure_changeable(reopening=target is TicketStatus.OPEN)
        if target is self.status:
            return False
        ensure_transition(self.status, target)
        old = self.status
        self.status = target
        if target is TicketStatus.RESOLVED:
            self.resolved_at = now
        elif target is TicketStatus.CLOSED:
            self.closed_at = now
            self.resolved_at = self.resolved_at or now
        elif old in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            self.resolved_at = None
            self.closed_at = None
        self._record(EventKind.STATUS_CHANGED, actor, now, old=old, new=target)
        return True

    def resolve(self, actor: Actor, now: datetime) -> bool:
        return self.change_status(TicketStatus.RESOLVED, actor, now)

    def close(self, actor: Actor, now: datetime) -> bool:
        return self.change_status(TicketStatus.CLOSED, actor, now)

    def reopen(self, actor: Actor, now: datetime) -> bool:
        self.ensure_changeable(reopening=True)
        if self.is_active:
            return False
        return self.change_status(TicketStatus.OPEN, actor, now)

    def assign(self, agent_id: int | None, actor: Actor, now: datetime) -> bool:
        """Give the ticket to ``agent_id`` (None unassigns); claiming a new ticket opens it."""
        self.ensure_changeable()
        if agent_id == self.assignee_id:
            return False
        old = self.assignee_id
        self.assignee_id = agent_id
        self._record(EventKind.ASSIGNED, actor, now, old=old, new=agent_id)
        if agent_id is not None and self.status is TicketStatus.NEW:
            self.change_status(TicketStatus.OPEN, actor, now)
        return True

    def set_priority(self, priority: Priority, actor: Actor, now: datetime) -> bool:
        self.ensure_changeable()
        if priority is self.priority:
            return False
        old, self.priority = self.priority, priority
        self._record(EventKind.PRIORITY_CHANGED, actor, now, old=old, new=priority)
        return True

    def set_team(self, team_id: int | None, actor: Actor, now: datetime) -> bool:
        self.ensure_changeable()
        if team_id == self.team_id:
            return False
        old, self.team_id = self.team_id, team_id
        self._record(EventKind.TEAM_CHANGED, actor, now, old=old, new=team_id)
        return True

    def move_to_group(self, chat_id: int) -> None:
        """From now on the ticket lives in another agents' group: it gets a new topic and card
        there, and its old topic (if it had one) is remembered to be closed."""
        if self.agent_thread_id is not None:
            self.moved_from_chat_id = self.agent_chat_id
            self.moved_from_thread_id = self.agent_thread_id
        self.agent_chat_id, self.agent_thread_id, self.card_message_id = chat_id, None, None

    def set_category(self, category: str | None, actor: Actor, now: datetime) -> bool:
        self.ensure_changeable()
        if category == self.category:
            return False
        old, self.category = self.category, category
        self.needs_human = False
        self._record(EventKind.CATEGORY_CHANGED, actor, now, old=old, new=category)
        return True

    def add_tags(self, tags: list[str], actor: Actor, now: datetime) -> list[str]:
        """Add tags; returns the ones that were new."""
        self.ensure_changeable()
        added = [t for t in tags if t not in self.tags]
        if len(self.tags) + len(added) > TAGS_PER_TICKET:
            raise InvalidInput("tag", " ".join(tags), f"at most {TAGS_PER_TICKET} tags a ticket")
        for tag in added:
            self.tags.append(tag)
            self._record(EventKind.TAGGED, actor, now, new=tag)
        return added

    def remove_tags(self, tags: list[str], actor: Actor, now: datetime) -> list[str]:
        """Remove tags; returns the ones the ticket had."""
        self.ensure_changeable()
        removed = [t for t in tags if t in self.tags]
        for tag in removed:
            self.tags.remove(tag)
            self._record(EventKind.UNTAGGED, actor, now, old=tag)
        return removed

    def merge_into(self, other: Ticket, actor: Actor, now: datetime) -> None:
        """Close this ticket as merged into ``other`` (same customer; see the merge use case).

        The target takes over the conversation: if it was resolved or closed it is reopened, and
        its tags gain this ticket's tags.
        """
        if other.id == self.id:
            raise InvalidInput("ticket", other.number, "a ticket cannot be merged into itself")
        if self.merged_into_id is not None:
            raise InvalidInput("ticket", self.number, "was merged already")
        if other.merged_into_id is not None:
            raise InvalidInput("ticket", other.number, "was itself merged into another ticket")
        if other.customer_id != self.customer_id:
            raise InvalidInput(
                "ticket",
                other.number,
                "belongs to another customer; only one customer's tickets can be merged",
            )
        if self.status is not TicketStatus.CLOSED:
            self.change_status(TicketStatus.CLOSED, actor, now)
        self.merged_into_id = other.id  # from here on the ticket is final
        self._record(EventKind.MERGED, actor, now, old=self.number, new=other.number)
        other._record(EventKind.MERGED, actor, now, old=self.number, new=other.number)
        other.reopen(actor, now)
        for tag in self.tags:
            if tag not in other.tags and len(other.tags) < TAGS_PER_TICKET:
                other.tags.append(tag)
        if self.priority.rank > other.priority.rank:
            other.set_priority(self.priority, actor, now)

    def auto_answered(self, key: str, now: datetime) -> None:
        """A canned answer went out automatically (not a first response: no person wrote)."""
        self.auto_answer = key
        self._record(EventKind.AUTO_ANSWERED, Actor.system(), now, new=key)

    def triaged(
        self,
        *,
        category: str | None,
        team_id: int | None,
        priority: Priority,
        confidence: float | None,
        needs_human: bool,
        now: datetime,
    ) -> None:
        """Apply a classifier's verdict; a ticket it is unsure about keeps waiting for a human."""
        self.category = category
        self.team_id = team_id
        self.priority = priority
        self.triage_confidence = confidence
        self.needs_human = needs_human
        verdict = f"{category}:{confidence:.2f}" if confidence is not None else category
        self._record(EventKind.TRIAGED, Actor.system(), now, new=verdict)

    def agent_replied(
        self, agent_id: int | None, now: datetime, actor: Actor | None = None
    ) -> None:
        """An agent's message went to the customer: the first one stamps the first response.

        ``agent_id`` None: the desk replied (a REST API key, ``actor``); nobody is assigned.
        """
        actor = actor or Actor.agent(agent_id)
        if self.first_response_at is None:
            self.first_response_at = now
        self.awaiting_reply_since = None
        unassigned = self.assignee_id is None and self.status is not TicketStatus.CLOSED
        if agent_id is not None and unassigned:
            self.assign(agent_id, actor, now)
        target = status_after_agent_reply(self.status)
        if target is not self.status:
            self.change_status(target, actor, now)
        self.updated_at = now

    def customer_wrote(self, now: datetime) -> bool:
        """A customer's message arrived: the turn goes back to the agents. True when that
        changed what the ticket's card shows (its status, or a reply clock that starts)."""
        changed = False
        target = status_after_customer_message(self.status)
        if target is not self.status:
            self.change_status(target, Actor.customer(self.customer_id), now)
            changed = True
        if self.first_response_at is not None and self.awaiting_reply_since is None:
            self.awaiting_reply_since = now
            changed = True
        self.updated_at = now
        return changed

    def paused_periods(
        self, events: list[TicketEvent], now: datetime
    ) -> list[tuple[datetime, datetime]]:
        """When the SLA clock stood still, from the ticket's status history."""
        periods: list[tuple[datetime, datetime]] = []
        paused_since: datetime | None = None
        for event in events:
            if event.kind is not EventKind.STATUS_CHANGED:
                continue
            entering = event.new in PAUSED_STATUSES
            if entering and paused_since is None:
                paused_since = event.at
            elif not entering and paused_since is not None:
                periods.append((paused_since, event.at))
                paused_since = None
        if paused_since is not None:
            periods.append((paused_since, now))
        return periods

    def _record(
        self,
        kind: EventKind,
        actor: Actor,
        now: datetime,
        *,
        old: object = None,
        new: object = None,
    ) -> None:
        self.updated_at = now
        self.pending_events.append(
            TicketEvent(
                kind=kind,
                actor=actor,
                at=now,
                old=None if old is None else str(old),
                new=None if new is None else str(new),
                ticket_id=self.id,
            )
        )

    def take_events(self) -> list[TicketEvent]:
        """Hand over the events recorded since the last call (the unit of work stores them)."""
        events, self.pending_events = self.pending_events, []
        return events


@dataclass
class Rating:
    """The customer's satisfaction with a resolved ticket (one per ticket)."""

    ticket_id: int
    score: int
    rated_at: datetime
    comment: str | None = None
    prompt_message_id: int | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.score <= 5:
            raise InvalidInput("score", self.score, "must be 1 to 5")
