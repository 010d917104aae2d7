"""Pure domain of the help desk: entities, statuses and rules. Standard library only."""

from models.canned import CannedAnswer
from models.enums import (
    ActorKind,
    AssignStrategy,
    CollisionMode,
    EventKind,
    MediaKind,
    MessageDirection,
    Priority,
    Role,
    TicketStatus,
)
from models.errors import (
    AlreadyAssigned,
    DomainError,
    GroupProblem,
    GroupRefused,
    InvalidInput,
    InvalidTransition,
    LinkProblem,
    LinkRefused,
    NotAllowed,
    NotFound,
    NoTicketHere,
    TicketClosed,
    TicketMerged,
    TicketNotFound,
)
from models.events import Actor, TicketEvent
from models.message import TicketMessage, quotable
from models.people import Agent, Category, Customer, Team
from models.search import SearchHit, SearchPage, SearchQuery, parse_query
from models.status import (
    ALLOWED_TRANSITIONS,
    can_transition,
    ensure_transition,
    parse_status,
)
from models.ticket import Rating, Ticket, make_subject, parse_tags

__all__ = [
    "ALLOWED_TRANSITIONS",
    "Actor",
    "ActorKind",
    "Agent",
    "AlreadyAssigned",
    "AssignStrategy",
    "CannedAnswer",
    "Category",
    "CollisionMode",
    "Customer",
    "DomainError",
    "EventKind",
    "GroupProblem",
    "GroupRefused",
    "InvalidInput",
    "InvalidTransition",
    "LinkProblem",
    "LinkRefused",
    "MediaKind",
    "MessageDirection",
    "NoTicketHere",
    "NotAllowed",
    "NotFound",
    "Priority",
    "Rating",
    "Role",
    "SearchHit",
    "SearchPage",
    "SearchQuery",
    "Team",
    "Ticket",
    "TicketClosed",
    "TicketEvent",
    "TicketMerged",
    "TicketMessage",
    "TicketNotFound",
    "TicketStatus",
    "can_transition",
    "ensure_transition",
    "make_subject",
    "parse_query",
    "parse_status",
    "parse_tags",
    "quotable",
]
