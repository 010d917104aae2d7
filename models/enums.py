"""Enumerations shared by the whole help desk."""

from __future__ import annotations

from enum import StrEnum


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_active(self) -> bool:
        """Whether agents still owe work on a ticket in this status."""
        return self not in (TicketStatus.RESOLVED, TicketStatus.CLOSED)


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANK[self]

    def raised(self) -> Priority:
        """The next priority up (urgent stays urgent)."""
        order = list(Priority)
        return order[min(self.rank + 1, len(order) - 1)]


_PRIORITY_RANK = {p: i for i, p in enumerate(Priority)}


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    def at_least(self, other: Role) -> bool:
        return _ROLE_RANK[self] >= _ROLE_RANK[other]


_ROLE_RANK = {Role.AGENT: 0, Role.SUPERVISOR: 1, Role.ADMIN: 2}


class MessageDirection(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    NOTE = "note"
    SYSTEM = "system"


class MediaKind(StrEnum):
    TEXT = "text"
    PHOTO = "photo"
    VIDEO = "video"
    DOCUMENT = "document"
    AUDIO = "audio"
    VOICE = "voice"
    VIDEO_NOTE = "video_note"
    STICKER = "sticker"
    ANIMATION = "animation"
    LOCATION = "location"
    CONTACT = "contact"
    OTHER = "other"


class ActorKind(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"
    API = "api"  # a REST API key (its id), acting as the desk


class EventKind(StrEnum):
    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    ASSIGNED = "assigned"
    PRIORITY_CHANGED = "priority_changed"
    TEAM_CHANGED = "team_changed"
    CATEGORY_CHANGED = "category_changed"
    TRIAGED = "triaged"
    CUSTOMER_MESSAGE = "customer_message"
    AGENT_MESSAGE = "agent_message"
    NOTE_ADDED = "note_added"
    TAGGED = "tagged"
    UNTAGGED = "untagged"
    MERGED = "merged"  # old: the ticket merged away, new: the ticket it went into
    AUTO_ANSWERED = "auto_answered"


class AssignStrategy(StrEnum):
    """How a team's new tickets find an agent."""

    MANUAL = "manual"  # agents claim them
    ROUND_ROBIN = "round_robin"  # in turn, skipping away and full agents
    LEAST_OPEN = "least_open"  # to whoever has the fewest active tickets


class CollisionMode(StrEnum):
    """What happens when an agent answers a ticket assigned to someone else."""

    WARN = "warn"  # delivered, with a warning in the topic
    BLOCK = "block"  # not delivered; the agent is told to take the ticket first
