"""Domain errors: each one means something a user can be told about."""

from __future__ import annotations

from enum import StrEnum


class DomainError(Exception):
    """Base class of every error the domain raises on purpose."""


class NotFound(DomainError):
    """Something looked up by id, number or name does not exist."""


class TicketNotFound(NotFound):
    def __init__(self, ref: object) -> None:
        super().__init__(f"ticket {ref} not found")
        self.ref = ref


class InvalidTransition(DomainError):
    def __init__(self, current: object, target: object) -> None:
        super().__init__(f"cannot change status from {current} to {target}")
        self.current = current
        self.target = target


class NotAllowed(DomainError):
    """The actor lacks the role needed for an action."""

    def __init__(self, action: str, role: str | None = None) -> None:
        super().__init__(f"not allowed: {action}")
        self.action = action
        #: The role that would have been needed, when a lesser one was not enough.
        self.role = role


class InvalidInput(DomainError):
    """A value given by a user is not acceptable (bad priority name, empty text, ...)."""

    def __init__(self, field: str, value: object, reason: str = "") -> None:
        super().__init__(f"invalid {field}: {value!r} {reason}".strip())
        self.field = field
        self.value = value
        self.reason = reason


class NoTicketHere(DomainError):
    """A ticket command was used outside a ticket's topic (or not as a reply to its messages)."""

    def __init__(self) -> None:
        super().__init__("no ticket here")


class AlreadyAssigned(DomainError):
    """Someone else claimed the ticket first."""

    def __init__(self, assignee: str) -> None:
        super().__init__(f"already assigned to {assignee}")
        self.assignee = assignee


class TicketClosed(DomainError):
    """A closed ticket changes only by being reopened; old buttons and commands do nothing."""

    def __init__(self, number: object) -> None:
        super().__init__(f"ticket {number} is closed")
        self.number = number


class TicketMerged(DomainError):
    """A merged ticket is final: it lives on in the ticket it was merged into."""

    def __init__(
        self, number: object, into_id: int, into_number: object = None, link: str | None = None
    ) -> None:
        super().__init__(f"ticket {number} was merged into {into_number or into_id}")
        self.number = number
        self.into_id = into_id
        #: Filled in by the use case that knows the target (the domain only knows its id).
        self.into_number = into_number
        self.link = link


class GroupProblem(StrEnum):
    """Why a chat cannot be a team's agents' group."""

    UNSEEN = "the bot cannot see that chat"
    NOT_SUPERGROUP = "not a supergroup"
    NOT_FORUM = "topics are switched off"
    NOT_ADMIN = "the bot is not an administrator"
    CANNOT_MANAGE_TOPICS = "the bot may not manage topics"
    MAIN_GROUP = "the desk's main group"


class GroupRefused(DomainError):
    """A chat given as a team's agents' group does not qualify (see :class:`GroupProblem`)."""

    def __init__(self, chat_id: int, problem: GroupProblem) -> None:
        super().__init__(f"chat {chat_id} cannot be a team's group: {problem}")
        self.chat_id = chat_id
        self.problem = problem


class LinkProblem(StrEnum):
    """Why an email address cannot be linked to (or unlinked from) a Telegram customer."""

    USAGE = "usage"
    NOT_AN_ADDRESS = "not an email address"
    NOT_A_CUSTOMER = "not a ticket number, Telegram id or @username"
    NO_SUCH_TICKET = "no such ticket"
    UNKNOWN_USERNAME = "no customer with this username"
    NEEDS_BOTH = "outside a ticket's topic both sides are needed"
    TICKET_NOT_BY_EMAIL = "the topic's customer does not write by email"
    BY_EMAIL = "the customer writes by email, not in Telegram"
    VISITOR = "the customer writes in the website chat"
    NOBODY_KNOWN = "neither side has written to the desk"
    ALREADY_LINKED = "already linked to this customer"
    LINKED_ELSEWHERE = "linked to another customer"
    NOT_LINKED = "not linked"
    UNKNOWN_ADDRESS = "no customer has this address"


class LinkRefused(DomainError):
    """``/link`` or ``/unlink`` cannot do what was asked (see :class:`LinkProblem`); ``value`` is
    the word or address concerned, ``other`` who an address is linked to (filled in by the use
    case that knows them)."""

    def __init__(self, problem: LinkProblem, value: str = "", other: str | None = None) -> None:
        super().__init__(f"cannot link: {problem} {value!r}".strip())
        self.problem = problem
        self.value = value
        self.other = other
