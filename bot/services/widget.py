"""The website chat widget, the visitor's side: a visitor starts (and gets their token), writes
(a message opens a ticket or joins one through the same use case as a Telegram customer's,
:func:`bot.services.conversation.customer_message`), and reads their conversation.

A visitor's message is stored in their conversation in the transaction that records it in the
ticket, so it is either in both or in neither; the widget's own id of a message
(``client_id``) makes a send retried after a lost answer store it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services import similar
from bot.services.conversation import DeskConfig, Incoming, customer_message
from bot.services.ports import Presenter, TelegramUser
from bot.services.triage_port import Triage
from models import Customer, Ticket, TicketNotFound
from models.delivery import Channel
from models.widget import (
    TOKEN_PREFIX,
    Direction,
    Visitor,
    WidgetMessage,
    checked_client_id,
    checked_contact,
    checked_text,
    new_token,
    stand_in_chat_id,
    token_hash,
)
from storage import AbstractUnitOfWork

#: The languages the desk writes in; a visitor's browser asking for another gets the default.
LANGUAGES = ("en", "ru")


@dataclass(frozen=True)
class Started:
    token: str  # shown to the visitor once, never stored
    visitor: Visitor


@dataclass(frozen=True)
class Posted:
    message: WidgetMessage
    ticket_number: int | None
    duplicate: bool = False  # sent before with the same client id: nothing new was stored


async def start(
    uow: AbstractUnitOfWork,
    name: str | None,
    email: str | None,
    language: str | None,
    config: DeskConfig,
    now: datetime,
) -> Started:
    """A new visitor: a token, and a customer the desk knows them as (named as they chose,
    else "Visitor 12")."""
    name, email = checked_contact(name, email)
    token = new_token()
    visitor_id = await uow.widget.add_visitor(token_hash(token), name, email, now)
    customer = await uow.customers.add(
        Customer(
            telegram_id=stand_in_chat_id(visitor_id),
            first_name=name or f"Visitor {visitor_id}",
            language=language if language in LANGUAGES else config.default_language,
            created_at=now,
            visitor=True,
        )
    )
    assert customer.id is not None
    await uow.widget.link(visitor_id, customer.id)
    await uow.commit()
    visitor = Visitor(visitor_id, customer.id, name, email, now)
    return Started(token, visitor)


async def authenticate(uow: AbstractUnitOfWork, token: str) -> Visitor | None:
    """The visitor a token belongs to (None: no such token)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    return await uow.widget.by_token_hash(token_hash(token))


async def post(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    triage: Triage,
    config: DeskConfig,
    visitor: Visitor,
    text: object,
    client_id: str | None,
    now: datetime,
    *,
    solved: similar.SimilarTickets | None = None,
) -> Posted:
    """The visitor wrote ``text``: stored in their conversation and in their ticket (opened,
    joined or reopened as a Telegram customer's message would be), in one transaction."""
    text = checked_text(text)
    client_id = checked_client_id(client_id)
    if client_id is not None:
        earlier = await uow.widget.by_client_id(visitor.id, client_id)
        if earlier is not None:
            ticket = await _ticket_of(uow, visitor, earlier)
            return Posted(earlier, ticket.number if ticket else None, duplicate=True)
    customer = await uow.customers.get(visitor.customer_id)
    assert customer is not None, f"visitor {visitor.id} has no customer"
    message = await uow.widget.add_message(
        visitor.id, Direction.VISITOR, text, now, client_id=client_id
    )
    assert message.id is not None
    incoming = Incoming(
        user=TelegramUser(
            id=customer.telegram_id,
            first_name=customer.first_name,
            last_name=customer.last_name,
            language_code=customer.language_code,
        ),
        chat_id=customer.telegram_id,
        message_id=message.id,
        sent_at=now,
        text=text,
        channel=Channel.WEB,
    )
    language = customer.language or config.default_language
    result = await customer_message(
        uow, presenter, triage, config, incoming, language, now, solved=solved
    )
    number = result.ticket.number if result.ticket is not None else None
    return Posted(message, number)


async def _ticket_of(
    uow: AbstractUnitOfWork, visitor: Visitor, message: WidgetMessage
) -> Ticket | None:
    customer = await uow.customers.get(visitor.customer_id)
    assert customer is not None
    assert message.id is not None
    recorded = await uow.messages.by_customer_side(customer.telegram_id, message.id)
    return None if recorded is None else await uow.tickets.get(recorded.ticket_id)


async def conversation(
    uow: AbstractUnitOfWork, visitor: Visitor, after: int, limit: int = 100
) -> list[WidgetMessage]:
    """The visitor's conversation after ``after`` (a ``seq``), oldest first."""
    return await uow.widget.after(visitor.id, after, limit)


async def seen(uow: AbstractUnitOfWork, visitor: Visitor, now: datetime) -> None:
    """The visitor's widget is reading: they are not away (see :data:`models.widget.AWAY`)."""
    await uow.widget.seen(visitor.id, now)
    await uow.commit()


async def visitor_ticket(uow: AbstractUnitOfWork, visitor: Visitor, number: int) -> Ticket:
    """One of the visitor's own tickets; anyone else's looks exactly like a missing one."""
    ticket = await uow.tickets.by_number(number)
    if ticket is None or ticket.customer_id != visitor.customer_id:
        raise TicketNotFound(number)
    return ticket
