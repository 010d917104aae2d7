"""The ticket conversation, the customer's side: messages in (a ticket opened, joined or
reopened), ratings, the customer's menus. What agents write is in
:mod:`bot.services.agent_messages`, what they change in :mod:`bot.services.ticket_changes`.

No aiogram here: incoming messages arrive as :class:`Incoming`, outgoing Telegram traffic leaves
as outbox calls built by the :class:`~bot.services.ports.Presenter`, in the same transaction as
the change that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services import assignment, canned, desk_settings, groups, similar, surge, texts
from bot.services.customers import get_or_register, person_of, queue, reply
from bot.services.finality import merge_target, refuse_if_merged
from bot.services.ports import Presenter, Retyped, TelegramUser
from bot.services.ticket_changes import status_follows
from bot.services.triage_port import Triage
from models import (
    Actor,
    Customer,
    InvalidInput,
    MediaKind,
    MessageDirection,
    Rating,
    Ticket,
    TicketMessage,
    TicketNotFound,
    make_subject,
    quotable,
)
from models.csat import RatingLinks
from models.delivery import Channel
from models.mail import MailFile
from models.solutions import ticket_text
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
    #: Rating links in "resolved" mails (None: the API's server or its public URL is not set).
    rating_links: RatingLinks | None = None


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
    #: Where it came from; an email's ``message_id`` is the stored mail's id.
    channel: Channel = Channel.TELEGRAM
    #: A mail's subject: a ticket it opens is named after it, not after its text.
    subject: str | None = None
    #: A mail's attached files (shown in the topic as documents).
    files: tuple[MailFile, ...] = ()


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
    joins: Ticket | None = None,
    solved: similar.SimilarTickets | None = None,
) -> CustomerMessageResult:
    """A customer wrote: add it to their current ticket, reopen a resolved one, or open one.

    The ticket is the person's: a linked address's mail lands where the Telegram customer it
    is linked to writes, and the desk answers on the channel of this message (see
    :meth:`models.people.Customer.wrote_from`).

    ``joins``: the ticket the message belongs to by its channel's own threading (a mail that
    answers one of the ticket's mails), instead of the customer's latest ticket.

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

    # ``identity``: who wrote (a Telegram customer, an address); ``customer``: the person
    # whose tickets they are. The same, unless an address is linked to a Telegram customer.
    identity = await get_or_register(uow, msg.user, language, now)
    customer = await person_of(uow, identity)
    if customer.banned or identity.banned:
        return await _refuse_banned(uow, presenter, identity, now)
    via = customer.reply_via_id
    customer.wrote_from(identity)
    force_new = force_new or customer.wants_new_ticket
    customer.wants_new_ticket = False
    if force_new:
        ticket = None
    elif joins is not None:
        ticket = joins
    else:
        ticket = await _ticket_for(uow, customer, msg, config, now)
    opened = reopened = acknowledged = False
    card_changed = True  # unless the message changes nothing the card shows
    # A ticket worked in an incident: its customer's messages are counted on the incident's
    # card instead of being copied one by one (decided before the message changes the ticket).
    in_incident = ticket is not None and surge.topicless(ticket)
    incident = None
    if ticket is None:
        ticket = await _open_ticket(uow, triage, customer, msg, config.agent_chat_id, now)
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
        card_changed = ticket.customer_wrote(now)
    # The card also says which channel replies take: a thank-you by mail changes that too.
    refresh_card = (card_changed and not acknowledged) or customer.reply_via_id != via

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
        agent_chat_id=presenter.group_of(ticket),
        formatted=msg.formatted,
        channel=msg.channel,
    )
    # A new ticket's card quotes a plain first message: one call less for the group.
    message.on_card = opened and quotable(message)
    message = await uow.messages.add(message)
    calls = []
    if opened:
        registered = await texts.custom_text(
            uow, "registered", identity.language or config.default_language
        )
        if in_incident:  # the customer hears at once; the agents see the incident's card
            calls += presenter.ticket_registered(ticket, identity, registered)
        else:
            calls += presenter.ticket_opened(ticket, identity, registered)
        if ticket.needs_human and not in_incident:
            calls += presenter.not_sure(ticket)
    elif in_incident:
        calls += await surge.follow_up(uow, presenter, ticket, now)
        if reopened:  # the incident is over: the ticket has a topic of its own again
            calls += presenter.ticket_reopened(ticket, identity, by_customer=True)
    elif reopened:
        calls += presenter.ticket_reopened(ticket, identity, by_customer=True)
    if not message.on_card and not in_incident:
        calls += presenter.copy_to_agents(ticket, message, msg.retyped)
    if msg.files and not in_incident:
        calls += presenter.mail_files(ticket, message, msg.files)
    if acknowledged and not in_incident:
        calls += presenter.customer_acknowledged(ticket)
    if not opened and not in_incident and refresh_card:
        calls += presenter.card_changed(ticket)
    await queue(uow, calls, now)
    if opened and not in_incident:
        await assignment.auto_assign(uow, presenter, ticket, now)
        await canned.auto_answer(uow, presenter, config.default_language, ticket, identity, now)
    await _slow_down_if_flooding(uow, presenter, identity, msg, now)
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
    uow: AbstractUnitOfWork,
    triage: Triage,
    customer: Customer,
    msg: Incoming,
    main_chat_id: int,
    now: datetime,
) -> Ticket:
    """A new ticket, triaged and placed in its team's group, then stored (in that order: one
    INSERT, not an INSERT and an UPDATE)."""
    fallback = f"[{msg.media_kind}]"
    ticket = Ticket.open(
        customer_id=customer.id,  # type: ignore[arg-type]
        subject=make_subject(msg.subject or msg.text, fallback),
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
    await groups.place(uow, ticket, main_chat_id)
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
