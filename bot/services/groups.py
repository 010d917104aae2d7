"""Where a ticket lives among the agents' groups: its team's own group, or the main group.

A ticket's place is its ``agent_chat_id`` (the group) and ``agent_thread_id`` (its topic
there). A new ticket is placed in its team's group when it opens; the presenter sends all its
traffic (topic, card, copies, notices) there, and agents' messages find it by that place.
"""

from __future__ import annotations

from models import Ticket
from storage import AbstractUnitOfWork


async def group_for(uow: AbstractUnitOfWork, team_id: int | None, main_chat_id: int) -> int:
    """The agents' group of a team's tickets: its own, else the main group."""
    if team_id is None:
        return main_chat_id
    return await uow.teams.group_of(team_id) or main_chat_id


async def place(uow: AbstractUnitOfWork, ticket: Ticket, main_chat_id: int) -> None:
    """Put a ticket that has no topic yet into its team's group."""
    ticket.agent_chat_id = await group_for(uow, ticket.team_id, main_chat_id)


async def is_agents_group(uow: AbstractUnitOfWork, chat_id: int, main_chat_id: int) -> bool:
    """Whether agents work in ``chat_id``: the main group, or some team's own group."""
    return chat_id == main_chat_id or (chat_id < 0 and await uow.teams.is_group(chat_id))
