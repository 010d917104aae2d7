"""Closed and merged tickets mean what they say.

The domain refuses changes to them (``Ticket.ensure_changeable``); this module adds what only
the database knows: which ticket a merged one went into, and where its topic is.
"""

from __future__ import annotations

from models import Ticket, TicketMerged
from storage import AbstractUnitOfWork


def topic_link(chat_id: int | None, thread_id: int | None) -> str | None:
    """The t.me link of a topic in a supergroup (ids ``-100…``), or None."""
    if chat_id is None or thread_id is None or not str(chat_id).startswith("-100"):
        return None
    return f"https://t.me/c/{str(chat_id).removeprefix('-100')}/{thread_id}"


async def merge_target(uow: AbstractUnitOfWork, ticket: Ticket | None) -> Ticket | None:
    """The ticket whose conversation ``ticket`` goes on in: itself, or where it was merged."""
    for _ in range(10):  # merges chain at most a few times; never loop forever
        if ticket is None or ticket.merged_into_id is None:
            break
        ticket = await uow.tickets.get(ticket.merged_into_id)
    return ticket


async def refuse_if_merged(uow: AbstractUnitOfWork, ticket: Ticket) -> None:
    """Raise :class:`TicketMerged` naming the target (and linking its topic) for a merged
    ticket; every command and button of a merged ticket ends here."""
    if ticket.merged_into_id is None:
        return
    target = await uow.tickets.get(ticket.merged_into_id)
    raise TicketMerged(
        ticket.number,
        ticket.merged_into_id,
        target.number if target else None,
        topic_link(target.agent_chat_id, target.agent_thread_id) if target else None,
    )
