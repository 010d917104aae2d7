"""Ticket status transitions as pure functions."""

from __future__ import annotations

from models.enums import TicketStatus
from models.errors import InvalidInput, InvalidTransition

S = TicketStatus

ALLOWED_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.NEW: frozenset({S.OPEN, S.WAITING, S.ON_HOLD, S.RESOLVED, S.CLOSED}),
    S.OPEN: frozenset({S.WAITING, S.ON_HOLD, S.RESOLVED, S.CLOSED}),
    S.WAITING: frozenset({S.OPEN, S.ON_HOLD, S.RESOLVED, S.CLOSED}),
    S.ON_HOLD: frozenset({S.OPEN, S.WAITING, S.RESOLVED, S.CLOSED}),
    # A resolved or closed ticket only comes back through a reopen, which makes it open.
    S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset({S.OPEN}),
}


def can_transition(current: TicketStatus, target: TicketStatus) -> bool:
    """Whether a ticket may go from ``current`` to ``target`` (staying put is not a transition)."""
    return target in ALLOWED_TRANSITIONS[current]


def ensure_transition(current: TicketStatus, target: TicketStatus) -> None:
    """Raise :class:`InvalidTransition` unless the transition is allowed."""
    if not can_transition(current, target):
        raise InvalidTransition(current, target)


def status_after_agent_reply(current: TicketStatus) -> TicketStatus:
    """An agent's answer hands the turn to the customer, unless the ticket is parked or done."""
    if current in (S.NEW, S.OPEN):
        return S.WAITING
    return current


def status_after_customer_message(current: TicketStatus) -> TicketStatus:
    """A customer's message hands the turn back to the agents."""
    if current in (S.WAITING, S.RESOLVED):
        return S.OPEN
    return current


def parse_status(text: str) -> TicketStatus:
    """Parse a status typed by an agent: case-insensitive, ``-`` or space for ``_``."""
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    aliases = {"hold": S.ON_HOLD, "onhold": S.ON_HOLD, "pending": S.WAITING, "wait": S.WAITING}
    if key in aliases:
        return aliases[key]
    try:
        return TicketStatus(key)
    except ValueError:
        # The hint lists the words as agents type them ("on hold", not the stored "on_hold").
        typed = ", ".join(s.replace("_", " ") for s in S)
        raise InvalidInput("status", text, "expected one of: " + typed) from None
