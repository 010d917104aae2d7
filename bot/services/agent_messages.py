"""What agents write about a ticket: replies and canned answers to the customer, notes, edits,
and the collision rules between agents answering the same ticket."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.services import canned, desk_settings
from bot.services.conversation import DeskConfig, Incoming
from bot.services.customers import queue, writing_to
from bot.services.finality import merge_target
from bot.services.ports import Presenter
from models import (
    Agent,
    CollisionMode,
    Customer,
    MessageDirection,
    Ticket,
    TicketMessage,
)
from models.delivery import OutboundCall
from storage import AbstractUnitOfWork


async def find_agent(uow: AbstractUnitOfWork, telegram_id: int) -> Agent | None:
    return await uow.agents.by_telegram_id(telegram_id)


async def ticket_for_agent_message(
    uow: AbstractUnitOfWork, config: DeskConfig, msg: Incoming, *, follow_merges: bool = True
) -> Ticket | None:
    """The ticket an agents'-chat message belongs to: by topic, or by the message it replies to.

    A ticket merged into another one hands its messages on to that one (unless
    ``follow_merges`` is off: commands answer that the ticket was merged).
    """
    ticket = await _ticket_of_agent_message(uow, msg)
    return await merge_target(uow, ticket) if follow_merges else ticket


async def _ticket_of_agent_message(uow: AbstractUnitOfWork, msg: Incoming) -> Ticket | None:
    if msg.thread_id is not None:
        ticket = await uow.tickets.by_topic(msg.chat_id, msg.thread_id)
        if ticket is not None:
            return ticket
    if msg.reply_to_message_id is not None:
        ticket = await uow.tickets.by_card(msg.chat_id, msg.reply_to_message_id)
        if ticket is not None:
            return ticket
        replied = await uow.messages.by_agent_side(msg.chat_id, msg.reply_to_message_id)
        if replied is not None:
            return await uow.tickets.get(replied.ticket_id)
    return None


async def agent_message(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    config: DeskConfig,
    agent: Agent,
    ticket: Ticket,
    msg: Incoming,
    now: datetime,
    *,
    note: bool = False,
) -> TicketMessage | None:
    """An agent wrote in a ticket: a note stays inside, anything else goes to the customer.

    Answering a ticket assigned to someone else is flagged (or, in block mode, kept as a note
    and not sent); so are two agents answering within a short time.
    """
    if await uow.messages.by_agent_side(msg.chat_id, msg.message_id) is not None:
        return None  # processed before
    reply_to = None
    if msg.reply_to_message_id is not None:
        reply_to = await uow.messages.by_agent_side(msg.chat_id, msg.reply_to_message_id)
    blocked = not note and await _collides(uow, presenter, agent, ticket, msg.sent_at, now)
    message = await uow.messages.add(
        TicketMessage(
            ticket_id=ticket.id,  # type: ignore[arg-type]
            direction=MessageDirection.NOTE if note or blocked else MessageDirection.AGENT,
            sent_at=msg.sent_at,
            text=msg.text,
            media_kind=msg.media_kind,
            file_id=msg.file_id,
            media_group_id=msg.media_group_id,
            agent_chat_id=msg.chat_id,
            agent_message_id=msg.message_id,
            agent_thread_id=msg.thread_id,
            author_agent_id=agent.id,
            reply_to_id=reply_to.id if reply_to else None,
        )
    )
    if note or blocked:
        await uow.commit()
        return message
    customer = await writing_to(uow, ticket)
    sign = await desk_settings.get(uow, "sign_replies", config.sign_replies)
    calls = presenter.deliver_to_customer(ticket, customer, message, agent, reply_to, sign=sign)
    return await _answered(uow, presenter, agent, ticket, customer, message, calls, now)


async def canned_reply(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    ticket: Ticket,
    key: str,
    text: str,
    now: datetime,
) -> TicketMessage | None:
    """A canned answer goes to the customer as the agent's reply (None if blocked)."""

    def render(customer: Customer, message: TicketMessage) -> list[OutboundCall]:
        return presenter.canned_to_customer(ticket, customer, message, agent, key)

    return await desk_reply(uow, presenter, agent, ticket, text, now, render=render)


async def desk_reply(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    ticket: Ticket,
    text: str,
    now: datetime,
    *,
    render: Callable[[Customer, TicketMessage], list[OutboundCall]],
) -> TicketMessage | None:
    """A text the desk wrote goes to the customer as the agent's reply, on the agent's tap (a
    canned answer, a similar ticket's reply); ``render`` makes its calls. None if blocked."""
    if await _collides(uow, presenter, agent, ticket, now, now):
        await uow.commit()
        return None
    customer = await writing_to(uow, ticket)
    message = await uow.messages.add(
        TicketMessage(
            ticket_id=ticket.id,  # type: ignore[arg-type]
            direction=MessageDirection.AGENT,
            sent_at=now,
            text=text,
            author_agent_id=agent.id,
        )
    )
    calls = render(customer, message)
    return await _answered(uow, presenter, agent, ticket, customer, message, calls, now)


async def send_canned(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    config: DeskConfig,
    agent: Agent,
    ticket: Ticket,
    key_or_id: str,
    now: datetime,
) -> TicketMessage | None:
    """Send a canned answer to the ticket's customer as the agent's reply (None if blocked)."""
    customer = await writing_to(uow, ticket)
    answer = await canned.answer_for(uow, key_or_id, customer, config.default_language)
    text = answer.render(name=customer.first_name, ticket=ticket.number, agent=agent.name)
    return await canned_reply(uow, presenter, agent, ticket, answer.key, text, now)


async def _answered(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    ticket: Ticket,
    customer: Customer,
    message: TicketMessage,
    calls: list[OutboundCall],
    now: datetime,
) -> TicketMessage:
    message.customer_chat_id = customer.telegram_id
    message.channel = customer.channel  # where it went
    was_active = ticket.is_active
    ticket.agent_replied(agent.id, now, agent.actor)
    if was_active != ticket.is_active:
        calls += presenter.status_changed(ticket, customer, by_customer=False)
    await queue(uow, calls + presenter.card_changed(ticket), now)
    await uow.commit()
    return message


async def _collides(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    ticket: Ticket,
    sent_at: datetime,
    now: datetime,
) -> bool:
    """Queue collision warnings for an agent's answer; True when it must not be sent.

    A REST API key answers as the desk, not as a colleague: it never collides.
    """
    if agent.api_key_id is not None:
        return False
    calls: list[OutboundCall] = []
    if ticket.assignee_id is not None and ticket.assignee_id != agent.id:
        assignee = await uow.agents.get(ticket.assignee_id)
        blocked = await desk_settings.get(uow, "collision") is CollisionMode.BLOCK
        await queue(uow, presenter.collision(ticket, agent, assignee, blocked=blocked), now)
        if blocked:
            return True
    previous = await uow.messages.last_agent_reply(ticket.id)  # type: ignore[arg-type]
    window = await desk_settings.get(uow, "double_reply_window")
    if (
        previous is not None
        and previous.author_agent_id not in (None, agent.id)
        and sent_at - previous.sent_at <= window
    ):
        other = await uow.agents.get(previous.author_agent_id)  # type: ignore[arg-type]
        if other is not None:
            calls += presenter.double_reply(ticket, other, agent)
    await queue(uow, calls, now)
    return False


async def agent_edited(
    uow: AbstractUnitOfWork, presenter: Presenter, msg: Incoming, now: datetime
) -> bool:
    """An agent edited a message that went to the customer: apply the edit to their copy."""
    message = await uow.messages.by_agent_side(msg.chat_id, msg.message_id)
    if message is None or message.text == msg.text:
        return False
    message.text = msg.text
    message.edited = True
    if message.direction is MessageDirection.AGENT:
        ticket = await uow.tickets.get(message.ticket_id)
        assert ticket is not None
        await queue(uow, presenter.agent_edit_to_customer(ticket, message), now)
    await uow.commit()
    return True
