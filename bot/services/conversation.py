"""The ticket conversation: customer messages in, agent messages out, and every change between.

No aiogram here: incoming messages arrive as :class:`Incoming`, outgoing Telegram traffic leaves
as outbox calls built by the :class:`~bot.services.ports.Presenter`, in the same transaction as
the change that caused it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services import assignment, canned, desk_settings, similar, surge, texts
from bot.services.customers import get_or_register, queue, reply
from bot.services.finality import merge_target, refuse_if_merged
from bot.services.ports import Presenter, Retyped, TelegramUser
from bot.services.training import record_correction
from bot.services.triage_port import Triage
from models import (
    Actor,
    Agent,
    Category,
    CollisionMode,
    Customer,
    InvalidInput,
    MediaKind,
    MessageDirection,
    Priority,
    Rating,
    Team,
    Ticket,
    TicketMessage,
    TicketNotFound,
    TicketStatus,
    make_subject,
    quotable,
)
from models.delivery import OutboundCall
from models.solutions import ticket_text
from models.training import OUT_OF_SCOPE
from storage import AbstractUnitOfWork


@dataclass(frozen=True)
class DeskConfig:
    """The parts of the settings the conversation rules need."""

    agent_chat_id: int
    agent_chat_is_forum: bool = True
    reopen_window: timedelta = timedelta(hours=72)
    sign_replies: bool = False
    default_language: str = "en"
    zone: str = "UTC"


@dataclass(frozen=True)
class Incoming:
    """A message as the use cases see it (built from a Telegram message by the handlers)."""

    user: TelegramUser
    chat_id: int
    message_id: int
    sent_at: datetime
    text: str | None = None
    media_kind: MediaKind = MediaKind.TEXT
    file_id: str | None = None
    media_group_id: str | None = None
    thread_id: int | None = None
    reply_to_message_id: int | None = None
    #: Formatting a plain quote of the text would lose (bold, links behind words, ...).
    formatted: bool = False
    #: Set when ``text`` is not the message as sent (``/new <text>``): the agents get this
    #: instead of a copy.
    retyped: Retyped | None = None


@dataclass(frozen=True)
class CustomerMessageResult:
    ticket: Ticket | None  # None when the message was refused (banned customer)
    opened: bool = False
    refused: bool = False
    reopened: bool = False
    duplicate: bool = False
    acknowledged: bool = False  # a thank-you: recorded, the ticket's status untouched


# -- customers ---------------------------------------------------------------------------------


async def customer_message(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    triage: Triage,
    config: DeskConfig,
    msg: Incoming,
    language: str,
    now: datetime,
    *,
    force_new: bool = False,
    solved: similar.SimilarTickets | None = None,
) -> CustomerMessageResult:
    """A customer wrote: add it to their current ticket, reopen a resolved one, or open one.

    A new ticket's topic then gets its similar solved tickets (from ``solved``), after the
    ticket is committed: the lookup never holds the transaction open.
    """
    existing = await uow.messages.by_customer_side(msg.chat_id, msg.message_id)
    if existing is not None:  # the same update processed twice: nothing more to do
        ticket = await uow.tickets.get(existing.ticket_id)
        assert ticket is not None
        return CustomerMessageResult(ticket, duplicate=True)
    if msg.reply_to_message_id is not None:
        rated = await rating_comment(uow, presenter, msg, now)
        if rated is not None:
            return CustomerMessageResult(rated)

    customer = await get_or_register(uow, msg.user, language, now)
    if customer.banned:
        return await _refuse_banned(uow, presenter, customer, now)
    force_new = force_new or customer.wants_new_ticket
    customer.wants_new_ticket = False
    ticket = None if force_new else await _ticket_for(uow, customer, msg, config, now)
    opened = reopened = acknowledged = False
    # A ticket worked in an incident: its customer's messages are counted on the incident's
    # card instead of being copied one by one (decided before the message changes the ticket).
    in_incident = ticket is not None and surge.topicless(ticket)
    incident = None
    if ticket is None:
        ticket = await _open_ticket(uow, triage, customer, msg, now)
        ticket.suggestions = await canned.suggest(
            uow, ticket, msg.text, customer.language, config.default_language
        )
        opened = True
        incident = await surge.place(uow, presenter, ticket, now)
        in_incident = incident is not None
    elif await _acknowledges(triage, ticket, msg):
        acknowledged = True
    elif not ticket.is_active:
        ticket.reopen(Actor.customer(customer.id), now)
        reopened = True
    else:
        ticket.customer_wrote(now)

    message = TicketMessage(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        direction=MessageDirection.CUSTOMER,
        sent_at=msg.sent_at,
        text=msg.text,
        media_kind=msg.media_kind,
        file_id=msg.file_id,
        media_group_id=msg.media_group_id,
        customer_chat_id=msg.chat_id,
        customer_message_id=msg.message_id,
        agent_chat_id=config.agent_chat_id,
        formatted=msg.formatted,
    )
    # A new ticket's card quotes a plain first message: one call less for the group.
    message.on_card = opened and quotable(message)
    message = await uow.messages.add(message)
    calls = []
    if opened:
        registered = await texts.custom_text(
            uow, "registered", customer.language or config.default_language
        )
        if in_incident:  # the customer hears at once; the agents see the incident's card
            calls += presenter.ticket_registered(ticket, customer, registered)
        else:
            calls += presenter.ticket_opened(ticket, customer, registered)
        if ticket.needs_human and not in_incident:
            calls += presenter.not_sure(ticket)
    elif in_incident:
        calls += await surge.follow_up(uow, presenter, ticket, now)
        if reopened:  # the incident is over: the ticket has a topic of its own again
            calls += presenter.ticket_reopened(ticket, customer, by_customer=True)
    elif reopened:
        calls += presenter.ticket_reopened(ticket, customer, by_customer=True)
    if not message.on_card and not in_incident:
        calls += presenter.copy_to_agents(ticket, message, msg.retyped)
    if acknowledged and not in_incident:
        calls += presenter.customer_acknowledged(ticket)
    elif not opened and not in_incident:
        calls += presenter.card_changed(ticket)
    await queue(uow, calls, now)
    if opened and not in_incident:
        await assignment.auto_assign(uow, presenter, ticket, now)
        await canned.auto_answer(uow, presenter, config.default_language, ticket, customer, now)
    await _slow_down_if_flooding(uow, presenter, customer, msg, now)
    await uow.commit()
    if opened and not in_incident and solved is not None and msg.text:
        query = ticket_text(ticket.subject, [msg.text])
        await similar.offer_on_open(uow, presenter, solved, ticket, query, now)
    return CustomerMessageResult(
        ticket, opened=opened, reopened=reopened, acknowledged=acknowledged
    )


async def _acknowledges(triage: Triage, ticket: Ticket, msg: Incoming) -> bool:
    """A thank-you (text, emoji or sticker) after an agent's reply or a resolution: it joins
    the ticket's history without reopening a resolved ticket or bumping a waiting one."""
    if ticket.is_active and ticket.first_response_at is None:
        return False  # nobody answered yet: the customer's words are part of the question
    if msg.media_kind is MediaKind.STICKER:
        return await triage.acknowledges(None, sticker=True)
    if msg.media_kind is MediaKind.TEXT and msg.text:
        return await triage.acknowledges(msg.text)
    return False


FLOOD_WINDOW = timedelta(minutes=1)


async def _slow_down_if_flooding(
    uow: AbstractUnitOfWork, presenter: Presenter, customer: Customer, msg: Incoming, now: datetime
) -> None:
    """Too many messages in a minute: every one is still recorded and passed on, and the
    customer is asked (once a minute at most) to write fewer, longer messages."""
    limit = await desk_settings.get(uow, "flood_per_minute")
    recent = await uow.messages.customer_messages_since(msg.chat_id, msg.sent_at - FLOOD_WINDOW)
    if recent <= limit or not _may_notify(customer, now):
        return
    customer.last_notice_at = now
    await queue(uow, presenter.slow_down(customer), now)


async def _refuse_banned(
    uow: AbstractUnitOfWork, presenter: Presenter, customer: Customer, now: datetime
) -> CustomerMessageResult:
    """A banned customer's message opens nothing; they hear why, at most once a minute."""
    if _may_notify(customer, now):
        customer.last_notice_at = now
        await queue(uow, presenter.banned_notice(customer), now)
    await uow.commit()
    return CustomerMessageResult(None, refused=True)


def _may_notify(customer: Customer, now: datetime) -> bool:
    return customer.last_notice_at is None or now - customer.last_notice_at >= FLOOD_WINDOW


async def _ticket_for(
    uow: AbstractUnitOfWork, customer: Customer, msg: Incoming, config: DeskConfig, now: datetime
) -> Ticket | None:
    if msg.media_group_id is not None:
        # Every part of an album belongs where its first part went.
        sibling = await uow.messages.album_part(msg.chat_id, msg.media_group_id)
        if sibling is not None:
            return await uow.tickets.get(sibling.ticket_id)
    # A merged ticket's conversation goes on in its target.
    latest = await merge_target(
        uow,
        await uow.tickets.latest_for_customer(customer.id),  # type: ignore[arg-type]
    )
    window = await desk_settings.get(uow, "reopen_window", config.reopen_window)
    if latest is not None and latest.accepts_customer_message(now, window):
        return latest
    return None


async def _open_ticket(
    uow: AbstractUnitOfWork, triage: Triage, customer: Customer, msg: Incoming, now: datetime
) -> Ticket:
    fallback = f"[{msg.media_kind}]"
    ticket = Ticket.open(
        customer_id=customer.id,  # type: ignore[arg-type]
        subject=make_subject(msg.text, fallback),
        now=now,
    )
    verdict = await triage.classify(msg.text or "")
    team = await uow.teams.by_name(verdict.team) if verdict.team else None
    ticket.triaged(
        category=verdict.category,
        team_id=team.id if team else None,
        priority=verdict.priority,
        confidence=verdict.confidence,
        needs_human=verdict.needs_human,
        now=now,
    )
    await uow.tickets.add(ticket)
    return ticket


async def rate(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    user: TelegramUser,
    ticket_id: int,
    score: int,
    now: datetime,
) -> Rating:
    """A CSAT star: one rating per resolved or closed ticket, shown on its card."""
    customer, ticket = await own_ticket(uow, user, ticket_id)
    if ticket.is_active:
        raise InvalidInput("rating", score, "the ticket is not resolved yet")
    if await uow.ratings.for_ticket(ticket_id) is not None:
        raise InvalidInput("rating", score, "this ticket was rated already")
    rating = await uow.ratings.add(Rating(ticket_id=ticket_id, score=score, rated_at=now))
    await queue(uow, presenter.rating_thanks(customer, ticket, rating), now)
    await queue(uow, presenter.card_changed(ticket), now)
    await uow.commit()
    return rating


async def rating_comment(
    uow: AbstractUnitOfWork, presenter: Presenter, msg: Incoming, now: datetime
) -> Ticket | None:
    """A reply to the "thank you for rating" message is the rating's comment, not a new
    message for the ticket (it must not reopen it)."""
    rating = await uow.ratings.by_prompt(msg.reply_to_message_id or 0)
    if rating is None:
        return None
    ticket = await uow.tickets.get(rating.ticket_id)
    customer = await uow.customers.by_telegram_id(msg.user.id)
    if ticket is None or customer is None or ticket.customer_id != customer.id:
        return None
    if rating.comment is None:
        rating.comment = (msg.text or "").strip() or None
        await queue(uow, presenter.comment_thanks(customer) + presenter.card_changed(ticket), now)
        await uow.commit()
    return ticket


async def request_new_ticket(
    uow: AbstractUnitOfWork, presenter: Presenter, user: TelegramUser, language: str, now: datetime
) -> None:
    """``/new`` without text: the customer's next message opens a new ticket."""

    def wants_new(customer: Customer) -> None:
        customer.wants_new_ticket = True

    await reply(uow, presenter.new_request_ready, user, language, now, change=wants_new)


async def show_my_tickets(
    uow: AbstractUnitOfWork, presenter: Presenter, user: TelegramUser, language: str, now: datetime
) -> None:
    customer = await get_or_register(uow, user, language, now)
    tickets = await uow.tickets.for_customer(customer.id, limit=10)  # type: ignore[arg-type]
    await queue(uow, presenter.my_tickets(customer, tickets), now)
    await uow.commit()


async def show_ticket_to_customer(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    user: TelegramUser,
    ticket_id: int,
    now: datetime,
) -> None:
    customer, ticket = await own_ticket(uow, user, ticket_id)
    messages = [
        m
        for m in await uow.messages.for_ticket(ticket_id)
        if m.direction in (MessageDirection.CUSTOMER, MessageDirection.AGENT)
    ]
    await queue(uow, presenter.ticket_view(customer, ticket, messages), now)
    await uow.commit()


async def own_ticket(
    uow: AbstractUnitOfWork, user: TelegramUser, ticket_id: int
) -> tuple[Customer, Ticket]:
    customer = await uow.customers.by_telegram_id(user.id)
    ticket = await uow.tickets.get(ticket_id)
    if customer is None or ticket is None or ticket.customer_id != customer.id:
        raise TicketNotFound(ticket_id)  # someone else's ticket looks exactly like a missing one
    return customer, ticket


async def customer_edited(
    uow: AbstractUnitOfWork, presenter: Presenter, msg: Incoming, now: datetime
) -> bool:
    """A customer edited a message: keep the new text and show the edit to the agents."""
    message = await uow.messages.by_customer_side(msg.chat_id, msg.message_id)
    if message is None or message.direction is not MessageDirection.CUSTOMER:
        return False
    if message.text == msg.text:
        return False
    message.text = msg.text
    message.formatted = msg.formatted
    message.edited = True
    ticket = await uow.tickets.get(message.ticket_id)
    assert ticket is not None
    calls = presenter.customer_edit_to_agents(ticket, message)
    if message.on_card:  # the card quotes it: the quote follows the edit
        calls += presenter.card_changed(ticket)
    await queue(uow, calls, now)
    await uow.commit()
    return True


async def customer_sets_status(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    user: TelegramUser,
    ticket_id: int,
    close: bool,
    now: datetime,
) -> bool:
    """The customer closes or reopens one of their own tickets from ``/mytickets``."""
    customer, ticket = await own_ticket(uow, user, ticket_id)
    await refuse_if_merged(uow, ticket)
    actor = Actor.customer(customer.id)
    changed = ticket.close(actor, now) if close else ticket.reopen(actor, now)
    if changed:
        await status_follows(uow, presenter, ticket, customer, now, by_customer=True)
        await uow.commit()
    return changed


async def set_language(
    uow: AbstractUnitOfWork, presenter: Presenter, user: TelegramUser, language: str, now: datetime
) -> Customer:

    def speaks(customer: Customer) -> None:
        customer.language = language

    return await reply(uow, presenter.language_set, user, language, now, change=speaks)


# -- agents ------------------------------------------------------------------------------------


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
    customer = await uow.customers.get(ticket.customer_id)
    assert customer is not None
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
    customer = await uow.customers.get(ticket.customer_id)
    assert customer is not None
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
    customer = await uow.customers.get(ticket.customer_id)
    assert customer is not None
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


# -- ticket changes by agents ------------------------------------------------------------------


async def load_ticket(uow: AbstractUnitOfWork, ticket_id: int) -> Ticket:
    ticket = await uow.tickets.get(ticket_id)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    return ticket


async def change_status(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    ticket: Ticket,
    status: TicketStatus,
    now: datetime,
) -> bool:
    """Set a ticket's status; the customer hears about resolution, closing and reopening."""
    actor = agent.actor
    if status is TicketStatus.OPEN and not ticket.is_active:
        changed = ticket.reopen(actor, now)
    else:
        changed = ticket.change_status(status, actor, now)
    if not changed:
        return False
    customer = await uow.customers.get(ticket.customer_id)
    assert customer is not None
    await status_follows(uow, presenter, ticket, customer, now, by_customer=False)
    await uow.commit()
    return True


async def status_follows(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    ticket: Ticket,
    customer: Customer,
    now: datetime,
    *,
    by_customer: bool,
) -> None:
    """After a status change: tell the customer (and the topic) what it means, edit the card.
    The caller commits (an incident resolves all its tickets in one transaction)."""
    window = await desk_settings.get(uow, "reopen_window", None)
    calls = []
    if ticket.is_active and surge.topicless(ticket):  # reopened after its incident was over
        calls += await surge.follow_up(uow, presenter, ticket, now)
    calls += presenter.status_changed(
        ticket, customer, by_customer=by_customer, reopen_window=window
    )
    await queue(uow, calls + presenter.card_changed(ticket), now)
    await similar.record_solution(uow, ticket)  # resolved: its reply may help the next one


async def assign(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    actor: Agent,
    ticket: Ticket,
    assignee: Agent | None,
    now: datetime,
) -> bool:
    """``/assign``: the new assignee hears about it unless they assigned themselves."""
    changed = ticket.assign(assignee.id if assignee else None, actor.actor, now)
    if changed and assignee is not None and assignee.id != actor.id:
        await queue(uow, presenter.assigned_to_you(ticket, assignee, actor), now)
    return await _card_follows(uow, presenter, ticket, changed, now)


async def set_priority(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    ticket: Ticket,
    priority: Priority,
    now: datetime,
) -> bool:
    changed = ticket.set_priority(priority, agent.actor, now)
    return await _card_follows(uow, presenter, ticket, changed, now, corrected_by=agent)


async def set_team(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    ticket: Ticket,
    team: Team | None,
    now: datetime,
) -> bool:
    changed = ticket.set_team(team.id if team else None, agent.actor, now)
    if changed:
        await assignment.auto_assign(uow, presenter, ticket, now)
    return await _card_follows(uow, presenter, ticket, changed, now, corrected_by=agent)


async def set_category(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    ticket: Ticket,
    category: Category,
    now: datetime,
) -> bool:
    unsure = ticket.needs_human
    changed = ticket.set_category(category.key, agent.actor, now)
    if changed:
        await queue(uow, presenter.topic_renamed(ticket), now)
        await _settle_not_sure(uow, presenter, ticket, agent, unsure, now)
    if changed and category.team_id is not None:
        # The team follows the category; an agent can still move the ticket afterwards.
        ticket.set_team(category.team_id, agent.actor, now)
        await assignment.auto_assign(uow, presenter, ticket, now)
    return await _card_follows(uow, presenter, ticket, changed, now, corrected_by=agent)


async def mark_out_of_scope(
    uow: AbstractUnitOfWork, presenter: Presenter, agent: Agent, ticket: Ticket, now: datetime
) -> bool:
    """ "Other / not a category": no category fits the ticket. Stored like any category
    correction, its label is an out-of-scope example for the next retraining; the team stays."""
    unsure = ticket.needs_human
    changed = ticket.set_category(OUT_OF_SCOPE, agent.actor, now)
    if changed:
        await _settle_not_sure(uow, presenter, ticket, agent, unsure, now)
    return await _card_follows(uow, presenter, ticket, changed, now, corrected_by=agent)


async def _settle_not_sure(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    ticket: Ticket,
    agent: Agent,
    unsure: bool,
    now: datetime,
) -> None:
    """A person chose the category of a ticket the classifier was unsure about: its post in
    the triage queue says so (it no longer asks for help)."""
    if unsure:
        await queue(uow, presenter.not_sure_settled(ticket, agent), now)


async def _card_follows(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    ticket: Ticket,
    changed: bool,
    now: datetime,
    *,
    corrected_by: Agent | None = None,
) -> bool:
    """After a change only agents care about: refresh the card and commit.

    A person's change of category, team or priority is a correction of the classifier: it is
    stored as a labelled example for the next retraining.
    """
    if changed:
        if corrected_by is not None:
            await record_correction(uow, ticket, corrected_by, now)
        await queue(uow, presenter.card_changed(ticket), now)
        await uow.commit()
    return changed
