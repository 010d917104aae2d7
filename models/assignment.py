"""Who gets a new ticket: pure rules for the teams' assignment strategies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from models.enums import AssignStrategy
from models.people import Agent


def available(agent: Agent, open_tickets: int) -> bool:
    """Whether ``agent`` may receive a new ticket: active, not away, below their capacity."""
    if not agent.active or agent.away:
        return False
    return agent.capacity is None or open_tickets < agent.capacity


def pick_assignee(
    strategy: AssignStrategy,
    members: Sequence[Agent],
    open_tickets: Mapping[int, int],
    last_assigned: int | None,
) -> Agent | None:
    """The member a new ticket goes to, or None (manual strategy, or nobody available).

    Round-robin takes members in the order of their ids, starting after the one who got the
    previous ticket; least-open takes the member with the fewest active tickets, breaking ties in
    the same round-robin order, so equally loaded agents also take turns.
    """
    if strategy is AssignStrategy.MANUAL:
        return None
    candidates = [
        a for a in members if a.id is not None and available(a, open_tickets.get(a.id, 0))
    ]
    if not candidates:
        return None
    ordered = sorted(candidates, key=lambda a: a.id or 0)
    if last_assigned is not None:
        after = [a for a in ordered if (a.id or 0) > last_assigned]
        ordered = after + [a for a in ordered if (a.id or 0) <= last_assigned]
    if strategy is AssignStrategy.ROUND_ROBIN:
        return ordered[0]
    return min(ordered, key=lambda a: open_tickets.get(a.id or 0, 0))  # min keeps the first
