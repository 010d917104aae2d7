"""Incidents at work: the agents' side of a surge (see :mod:`bot.services.surge` for how one
forms). A message in the incident's topic reaches every linked customer once; the card's buttons
resolve every linked ticket, split the incident back into tickets, or detach one ticket.
"""

from __future__ import annotations

from datetime import datetime

from bot.services import surge
from bot.services.auth import require_agent
from bot.services.conversation import Incoming
from bot.services.customers import queue, writing_to
from bot.services.ports import Presenter, TelegramUser
from bot.services.ticket_changes import status_follows
from models import (
    Agent,
    InvalidInput,
    MessageDirection,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from models.delivery import OutboundCall
from models.incidents import BulkReply, Incident, IncidentNotFound, IncidentStatus
from storage import AbstractUnitOfWork

NOTE_PREFIX = "//"


# -- agents ------------------------------------------------------------------------------------


async def for_agent_message(uow: AbstractUnitOfWork, msg: Incoming) -> Incident | None:
    """The incident an agents'-chat message belongs to: by its topic, or by a reply to its
    card (in a group without topics)."""
    if msg.thread_id is not None:
        incident = await uow.incidents.by_topic(msg.chat_id, msg.thread_id)
        if incident is not None:
            return incident
    if msg.reply_to_message_id is not None:
        return await uow.incidents.by_card(msg.chat_id, msg.reply_to_message_id)
    return None


async def agent_writes(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    incident: Incident,
    msg: Incoming,
    now: datetime,
) -> BulkReply | None:
    """An agent wrote in the incident's topic: a note (``//``) stays there; anything else is
    a bulk reply, queued once to each linked customer (the sender paces them by Telegram's
    limits) and counted on the card. None when the message was processed before."""
    assert incident.id is not None
    assert agent.id is not None
    if await uow.incidents.reply_by_agent_side(msg.chat_id, msg.message_id) is not None:
        return None
    note = (msg.text or "").lstrip().startswith(NOTE_PREFIX)
    reply = BulkReply(
        incident_id=incident.id,
        agent_chat_id=msg.chat_id,
        agent_message_id=msg.message_id,
        author_agent_id=agent.id,
        sent_at=msg.sent_at,
        text=msg.text,
        note=note,
    )
    incident = await load(uow, incident.id)  # no ticket joins while the list is read
    if note:
        await uow.incidents.add_reply(reply)
        await queue(uow, presenter.acknowledged(msg.chat_id, msg.message_id, note=True), now)
        await uow.commit()
        return reply
    incident.ensure_open()
    targets: list[Ticket] = []
    customers_seen: set[int] = set()
    for ticket in await uow.incidents.members(reply.incident_id, active_only=True):
        if ticket.customer_id not in customers_seen:  # one copy per person, however many tickets
            customers_seen.add(ticket.customer_id)
            targets.append(ticket)
    reply.total = len(targets)
    await uow.incidents.add_reply(reply)
    calls: list[OutboundCall] = []
    for ticket in targets:
        customer = await writing_to(uow, ticket)
        message = await uow.messages.add(
            TicketMessage(
                ticket_id=ticket.id,  # type: ignore[arg-type]
                direction=MessageDirection.AGENT,
                sent_at=msg.sent_at,
                text=msg.text,
                media_kind=msg.media_kind,
                file_id=msg.file_id,
                customer_chat_id=customer.telegram_id,
                author_agent_id=agent.id,
            )
        )
        ticket.agent_replied(agent.id, now)
        calls += presenter.bulk_reply(ticket, customer, message, reply)
        if not surge.topicless(ticket):
            calls += presenter.card_changed(ticket)
    incident.updated_at = now
    await queue(uow, calls + presenter.incident_changed(incident), now)
    await uow.commit()
    return reply


async def load(uow: AbstractUnitOfWork, incident_id: int) -> Incident:
    """The incident, locked until commit (see :meth:`IncidentRepository.get_for_update`)."""
    incident = await uow.incidents.get_for_update(incident_id)
    if incident is None:
        raise IncidentNotFound(incident_id)
    return incident


async def _closing(
    uow: AbstractUnitOfWork, user: TelegramUser, incident_id: int
) -> tuple[Agent, Incident]:
    """The agent pressing a card button that ends the incident, and the (still open) incident."""
    agent = await require_agent(uow, user)
    incident = await load(uow, incident_id)
    incident.ensure_open()
    return agent, incident


async def resolve(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    user: TelegramUser,
    incident_id: int,
    now: datetime,
) -> int:
    """The card's "Resolve all": every active linked ticket is resolved as by its own button
    (the customer gets the resolved notice and the rating buttons); one transaction. Returns
    how many tickets were resolved."""
    agent, incident = await _closing(uow, user, incident_id)
    actor = agent.actor
    resolved = 0
    for ticket in await uow.incidents.members(incident_id, active_only=True):
        if not ticket.change_status(TicketStatus.RESOLVED, actor, now):
            continue
        customer = await writing_to(uow, ticket)
        await status_follows(uow, presenter, ticket, customer, now, by_customer=False)
        resolved += 1
    incident.close(IncidentStatus.RESOLVED, now)
    await queue(
        uow, presenter.incident_changed(incident) + presenter.incident_closed(incident), now
    )
    await uow.commit()
    return resolved


async def split(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    user: TelegramUser,
    incident_id: int,
    now: datetime,
) -> int:
    """The card's "Split": a false alarm. Every linked ticket goes back to a topic and card of
    its own and never joins an incident again; returns how many tickets were released."""
    _agent, incident = await _closing(uow, user, incident_id)
    calls: list[OutboundCall] = []
    members = await uow.incidents.members(incident_id)
    for ticket in members:
        calls += await surge.release(uow, presenter, ticket, incident)
    incident.close(IncidentStatus.SPLIT, now)
    calls += presenter.incident_changed(incident) + presenter.incident_closed(incident)
    await queue(uow, calls, now)
    await uow.commit()
    return len(members)


async def detach(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    user: TelegramUser,
    incident_id: int | None,
    ticket_ref: int,
    now: datetime,
    *,
    by_number: bool = False,
) -> Ticket:
    """Take one ticket out of its incident (a card button, or ``/detach <number>``): it gets
    its own topic and card and never joins an incident again."""
    await require_agent(uow, user)
    ticket = await (
        uow.tickets.by_number(ticket_ref) if by_number else uow.tickets.get(ticket_ref)
    )
    if ticket is None or ticket.incident_id is None:
        raise InvalidInput("ticket", f"#{ticket_ref}", "is not linked to an incident")
    if incident_id is not None and ticket.incident_id != incident_id:
        raise InvalidInput("ticket", f"#{ticket.number}", "belongs to another incident")
    incident = await load(uow, ticket.incident_id)
    calls = await surge.release(uow, presenter, ticket, incident)
    incident.updated_at = now
    await queue(uow, calls + presenter.incident_changed(incident), now)
    await uow.commit()
    return ticket


async def detach_numbered(
    uow: AbstractUnitOfWork, presenter: Presenter, msg: Incoming, number: int, now: datetime
) -> Ticket:
    """``/detach <number>`` in an incident's topic (or anywhere, naming the ticket)."""
    incident = await for_agent_message(uow, msg)
    return await detach(
        uow,
        presenter,
        msg.user,
        incident.id if incident is not None else None,
        number,
        now,
        by_number=True,
    )


# -- delivery of a bulk reply ------------------------------------------------------------------

#: The card shows the progress of a bulk reply after every this many deliveries, and at the end
#: (the group's 20 messages a minute are shared; edits coalesce while they wait).
PROGRESS_EVERY = 10


async def delivered(
    uow: AbstractUnitOfWork, presenter: Presenter, reply_id: int, *, ok: bool, now: datetime
) -> None:
    """One customer's copy of a bulk reply went out (or failed for good): counted, and the
    card's progress line follows now and then."""
    reply = await uow.incidents.count_delivery(reply_id, ok=ok)
    if reply is None:
        return
    counted = reply.sent + reply.failed
    if reply.done or counted % PROGRESS_EVERY == 0:
        incident = await uow.incidents.get(reply.incident_id)
        if incident is not None:
            for call in presenter.incident_changed(incident):
                await uow.outbox.add(call, now)
