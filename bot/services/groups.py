"""Where a ticket lives among the agents' groups: its team's own group, or the main group.

A ticket's place is its ``agent_chat_id`` (the group) and ``agent_thread_id`` (its topic
there). A new ticket is placed in its team's group when it opens; the presenter sends all its
traffic (topic, card, copies, notices) there, and agents' messages find it by that place. When
its team changes to one that works in another group, the ticket moves (:func:`follow_team`).
"""

from __future__ import annotations

from datetime import datetime

from bot.services import surge
from bot.services.customers import queue
from bot.services.ports import Presenter
from models import Ticket, TicketMessage
from models.delivery import Channel
from storage import AbstractUnitOfWork

#: How many of a moved ticket's latest messages the summary in its new topic shows.
SUMMARY_MESSAGES = 5


async def group_for(uow: AbstractUnitOfWork, team_id: int | None, main_chat_id: int) -> int:
    """The agents' group of a team's tickets: its own, else the main group."""
    if team_id is None:
        return main_chat_id
    return await uow.teams.group_of(team_id) or main_chat_id


async def place(uow: AbstractUnitOfWork, ticket: Ticket, main_chat_id: int) -> None:
    """Put a ticket that has no topic yet into its team's group."""
    ticket.agent_chat_id = await group_for(uow, ticket.team_id, main_chat_id)


async def team_groups(uow: AbstractUnitOfWork) -> list[int]:
    """The teams' own groups (each once)."""
    return sorted({t.group_chat_id for t in await uow.teams.list() if t.group_chat_id is not None})


async def is_agents_group(uow: AbstractUnitOfWork, chat_id: int, main_chat_id: int) -> bool:
    """Whether agents work in ``chat_id``: the main group, some team's own group, or a group
    that was one and still has tickets (a team's group unset or the team removed: its tickets
    stay where they are, and agents finish them there or move them)."""
    if chat_id == main_chat_id:
        return True
    if chat_id > 0:
        return False
    return await uow.teams.is_group(chat_id) or await uow.tickets.placed_in(chat_id)


async def follow_team(
    uow: AbstractUnitOfWork, presenter: Presenter, ticket: Ticket, now: datetime
) -> bool:
    """After a ticket's team changed: if the new team works in another group, the ticket moves
    there. True if it moved.

    Its new topic gets the card and a summary (the last messages shown in the old topic, a
    link to it). The calls still queued for the old group that carry messages (a customer's
    copies, notices) are queued anew after them, so nothing is lost and the order of the
    ticket's messages holds; the rest of the old group's calls about it are skipped when their
    turn comes (see ``bot.adapters.delivery``). The old topic is closed with a link to the new
    one once that exists (when the new card is sent). A ticket worked in its incident stays
    with the incident.
    """
    if surge.topicless(ticket):
        return False
    new = await group_for(uow, ticket.team_id, presenter.agent_chat_id)
    old = presenter.group_of(ticket)
    if new == old:
        return False
    waiting = await uow.outbox.queued_for_ticket((Channel.TELEGRAM, old), ticket.id or 0)
    shown = [m for m in await uow.messages.for_ticket(ticket.id or 0) if _in_topic(m)]
    old_card = ticket.card_message_id if ticket.agent_thread_id is None else None
    ticket.move_to_group(new)
    team = await uow.teams.get(ticket.team_id) if ticket.team_id is not None else None
    calls = presenter.moved_here(ticket, team, shown[-SUMMARY_MESSAGES:], waiting)
    if old_card is not None:  # a group without topics: its card was the ticket's place
        calls += presenter.left_card(ticket, team, old, old_card)
    await queue(uow, calls, now)
    return True


def _in_topic(message: TicketMessage) -> bool:
    """Whether agents saw the message in the ticket's topic (their own, or a copy there)."""
    return message.agent_message_id is not None or message.on_card
