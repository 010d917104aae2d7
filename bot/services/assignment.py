"""Who works on what: auto-assignment by team strategy, claiming, availability."""

from __future__ import annotations

from datetime import datetime

from bot.services.auth import require_agent
from bot.services.customers import queue
from bot.services.ports import Presenter, TelegramUser
from models import (
    Actor,
    Agent,
    AlreadyAssigned,
    AssignStrategy,
    InvalidInput,
    Ticket,
    TicketNotFound,
)
from models.assignment import pick_assignee
from storage import AbstractUnitOfWork

_LAST_ASSIGNED = "assign:last:{team}"


async def auto_assign(
    uow: AbstractUnitOfWork, presenter: Presenter, ticket: Ticket, now: datetime
) -> Agent | None:
    """Give an unassigned ticket to an agent of its team, by the team's strategy.

    The chosen agent gets a direct message with a link to the ticket. Nothing happens for teams
    that claim manually, or when every member is away or at capacity.
    """
    if ticket.team_id is None or ticket.assignee_id is not None or not ticket.is_active:
        return None
    team = await uow.teams.get(ticket.team_id)
    if team is None or team.strategy is AssignStrategy.MANUAL:
        return None
    members = [a for a in await uow.agents.list() if team.id in a.team_ids]
    counts = await uow.tickets.open_counts([a.id for a in members if a.id is not None])
    key = _LAST_ASSIGNED.format(team=team.id)
    last = await uow.desk_settings.get(key)
    agent = pick_assignee(team.strategy, members, counts, int(last) if last else None)
    if agent is None:
        return None
    ticket.assign(agent.id, Actor.system(), now)
    await uow.desk_settings.set(key, str(agent.id))
    await queue(uow, presenter.assigned_to_you(ticket, agent, None), now)
    return agent


async def claim(
    uow: AbstractUnitOfWork, presenter: Presenter, agent: Agent, ticket_id: int, now: datetime
) -> bool:
    """The Claim button: the first agent to press it gets the ticket; the others are told.

    The ticket row is locked for the transaction, so concurrent claims (several workers on
    PostgreSQL) see each other's result instead of overwriting it.
    """
    ticket = await uow.tickets.get_for_update(ticket_id)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    if ticket.assignee_id == agent.id:
        return False
    if ticket.assignee_id is not None:
        holder = await uow.agents.get(ticket.assignee_id)
        raise AlreadyAssigned(holder.name if holder else "?")
    ticket.assign(agent.id, Actor.agent(agent.id), now)
    await queue(uow, presenter.card_changed(ticket), now)
    await uow.commit()
    return True


async def set_away(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    user: TelegramUser,
    away: bool,
    chat_id: int,
    thread_id: int | None,
    now: datetime,
) -> Agent:
    """``/away`` and ``/back``: away agents get no new tickets (their current ones stay)."""
    agent = await require_agent(uow, user)
    agent.away = away
    await queue(uow, presenter.availability(chat_id, thread_id, agent), now)
    await uow.commit()
    return agent


def parse_strategy(text: str) -> AssignStrategy:
    key = text.strip().lower().replace("-", "_")
    aliases = {"rr": AssignStrategy.ROUND_ROBIN, "least": AssignStrategy.LEAST_OPEN}
    if key in aliases:
        return aliases[key]
    try:
        return AssignStrategy(key)
    except ValueError:
        raise InvalidInput(
            "strategy", text, "expected " + ", ".join(s.value for s in AssignStrategy)
        ) from None
