"""One customer across channels: agents link an email address to a Telegram customer
(``/link``), and unlink it (``/unlink``).

Linked, the address is one of the Telegram customer's ways in: its mails land in that person's
tickets, the tickets the address had move to them, and the desk answers on the channel the
person last wrote on (:meth:`models.people.Customer.wrote_from`). Unlinked, the address is a
customer of its own again for its next mails; the tickets stay with the Telegram customer, and
replies that went to the address go to their chat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.logs import get_logger
from bot.services.auth import require_agent
from bot.services.customers import queue
from bot.services.ports import Presenter, TelegramUser
from models import Customer, LinkProblem, LinkRefused, Ticket
from models.delivery import OutboundCall
from models.links import LinkRequest, TelegramSide
from models.mail import stand_in_chat_id
from storage import AbstractUnitOfWork

log = get_logger(__name__)


@dataclass(frozen=True)
class Linked:
    person: Customer  # the Telegram customer
    address: Customer  # the email customer linked to them
    moved: int  # the address's tickets that became the person's
    #: Whom replies go to now (the person, or the address when they last wrote by mail).
    replies_to: Customer


async def link(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    user: TelegramUser,
    request: LinkRequest,
    here: Ticket | None,
    now: datetime,
) -> Linked:
    """``/link``: ``request`` as parsed by :func:`models.links.parse_link`; ``here``: the ticket
    of the topic the command was given in (it stands for a side left out)."""
    await require_agent(uow, user)
    who, address = request.who, request.address
    if here is None and (who is None or address is None):
        raise LinkRefused(LinkProblem.NEEDS_BOTH)
    if address is None:  # ``/link <telegram side>`` in the topic of a customer who mails
        assert here is not None
        address = await _ticket_address(uow, here)
    person: Customer | None
    if who is None:  # ``/link <address>`` in the topic of a Telegram customer
        assert here is not None
        person = await _ticket_customer(uow, here)
    else:
        person = await _telegram_side(uow, who)
    known = await uow.customers.by_email(address)
    if person is None:  # a Telegram user who has not written yet: known by the address
        if known is None:
            raise LinkRefused(LinkProblem.NOBODY_KNOWN, address)
        assert who is not None
        assert who.telegram_id is not None
        person = await _register_person(uow, who.telegram_id, known, now)
    identity = known or await _register_address(uow, address, person, now)
    wrote_last = await _wrote_last(uow, identity, person)
    try:
        person.link(identity, address_wrote_last=wrote_last)
    except LinkRefused as refused:
        if refused.problem is LinkProblem.LINKED_ELSEWHERE and identity.linked_to_id:
            other = await uow.customers.get(identity.linked_to_id)
            refused.other = _named(other) if other is not None else None
        raise
    # One person: one language for the desk's texts, whichever way they arrive.
    identity.language = person.language or identity.language
    tickets = await uow.tickets.for_customer(identity.id or 0, limit=None)
    for ticket in tickets:
        ticket.customer_id = person.id  # type: ignore[assignment]
    # Their cards show the person's name now, and every active one says where replies go.
    await queue(uow, await _cards_of(uow, presenter, person, tickets), now)
    await uow.commit()
    log.info(
        "address linked",
        address=identity.id,
        customer=person.id,
        tickets_moved=len(tickets),
        agent=user.id,
    )
    replies_to = identity if person.reply_via_id == identity.id else person
    return Linked(person, identity, len(tickets), replies_to)


async def unlink(
    uow: AbstractUnitOfWork, presenter: Presenter, user: TelegramUser, address: str, now: datetime
) -> tuple[Customer, Customer]:
    """``/unlink <address>``: the address is a customer of its own again; returns the Telegram
    customer it was linked to and the address's customer."""
    await require_agent(uow, user)
    identity = await uow.customers.by_email(address)
    if identity is None:
        raise LinkRefused(LinkProblem.UNKNOWN_ADDRESS, address)
    if identity.linked_to_id is None:
        raise LinkRefused(LinkProblem.NOT_LINKED, address)
    person = await uow.customers.get(identity.linked_to_id)
    assert person is not None, f"customer {identity.id} is linked to a missing customer"
    person.unlink(identity)
    await queue(uow, await _cards_of(uow, presenter, person), now)
    await uow.commit()
    log.info("address unlinked", address=identity.id, customer=person.id, agent=user.id)
    return person, identity


async def _ticket_customer(uow: AbstractUnitOfWork, ticket: Ticket) -> Customer:
    """The customer of a ticket named as the Telegram side: one who writes in Telegram."""
    customer = await uow.customers.get(ticket.customer_id)
    assert customer is not None, f"ticket {ticket.id} has no customer"
    if customer.visitor:
        raise LinkRefused(LinkProblem.VISITOR, f"#{ticket.number}")
    if customer.email is not None:
        raise LinkRefused(LinkProblem.BY_EMAIL, customer.email)
    return customer


async def _ticket_address(uow: AbstractUnitOfWork, ticket: Ticket) -> str:
    """The address of a ticket's customer who writes by email."""
    customer = await uow.customers.get(ticket.customer_id)
    if customer is None or customer.email is None:
        raise LinkRefused(LinkProblem.TICKET_NOT_BY_EMAIL, f"#{ticket.number}")
    return customer.email


async def _telegram_side(uow: AbstractUnitOfWork, side: TelegramSide) -> Customer | None:
    """The Telegram customer named by ``#42``, an id or ``@username``; None for an id nobody
    wrote from yet (the customer is registered when linked)."""
    if side.ticket_number is not None:
        ticket = await uow.tickets.by_number(side.ticket_number)
        if ticket is None:
            raise LinkRefused(LinkProblem.NO_SUCH_TICKET, f"#{side.ticket_number}")
        return await _ticket_customer(uow, ticket)
    if side.username is not None:
        found = await uow.customers.by_username(side.username)
        if found is None:
            raise LinkRefused(LinkProblem.UNKNOWN_USERNAME, f"@{side.username}")
        return found
    assert side.telegram_id is not None
    return await uow.customers.by_telegram_id(side.telegram_id)


async def _register_person(
    uow: AbstractUnitOfWork, telegram_id: int, address: Customer, now: datetime
) -> Customer:
    """A Telegram customer known so far only by their address: named like it until they
    write (their first message brings their Telegram name)."""
    return await uow.customers.add(
        Customer(
            telegram_id=telegram_id,
            first_name=address.first_name,
            last_name=address.last_name,
            language=address.language,
            created_at=now,
        )
    )


async def _register_address(
    uow: AbstractUnitOfWork, address: str, person: Customer, now: datetime
) -> Customer:
    """An address that has not mailed yet, as the email customer its first mail will find."""
    return await uow.customers.add(
        Customer(
            telegram_id=stand_in_chat_id(address),
            first_name=person.first_name,
            last_name=person.last_name,
            email=address,
            language=person.language,
            created_at=now,
        )
    )


async def _wrote_last(uow: AbstractUnitOfWork, address: Customer, person: Customer) -> bool:
    """Whether the person's latest message came from ``address`` rather than their chat."""
    by_mail = await uow.messages.last_from(address.telegram_id)
    if by_mail is None:
        return False
    in_chat = await uow.messages.last_from(person.telegram_id)
    return in_chat is None or by_mail > in_chat


async def _cards_of(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    person: Customer,
    moved: Sequence[Ticket] = (),
) -> list[OutboundCall]:
    """Card updates for the person's active tickets (their cards say where replies go);
    ``moved``: tickets becoming theirs in this transaction (not stored as theirs yet)."""
    tickets = {t.id: t for t in await uow.tickets.for_customer(person.id or 0, limit=None)}
    tickets.update((t.id, t) for t in moved)
    return [call for t in tickets.values() if t.is_active for call in presenter.card_changed(t)]


def _named(customer: Customer) -> str:
    return f"{customer.display_name} ({customer.telegram_id})"
