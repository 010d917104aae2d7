"""Use cases about customers themselves: registration and language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.services import texts
from bot.services.ports import Presenter, TelegramUser
from models import Customer, Ticket
from models.delivery import OutboundCall
from storage import AbstractUnitOfWork


async def get_or_register(
    uow: AbstractUnitOfWork, user: TelegramUser, language: str, now: datetime
) -> Customer:
    """Find the customer behind a Telegram user, creating or refreshing the record."""
    customer = await uow.customers.by_telegram_id(user.id)
    if customer is None:
        customer = Customer(
            telegram_id=user.id,
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
            language=language,
            language_code=user.language_code,
            created_at=now,
        )
        await uow.customers.add(customer)
        return customer
    customer.first_name = user.first_name
    customer.last_name = user.last_name
    customer.username = user.username
    # Telegram leaves it out at times (privacy settings, some clients): keep the last known one.
    customer.language_code = user.language_code or customer.language_code
    # The customer wrote to us again, so they have not blocked the bot (any more).
    customer.blocked_bot = False
    return customer


async def person_of(uow: AbstractUnitOfWork, identity: Customer) -> Customer:
    """The customer behind ``identity``: the Telegram customer an address is linked to, else
    ``identity`` itself (see :meth:`models.people.Customer.link`)."""
    if identity.linked_to_id is None:
        return identity
    person = await uow.customers.get(identity.linked_to_id)
    return identity if person is None else person


async def writing_to(uow: AbstractUnitOfWork, ticket: Ticket) -> Customer:
    """Whom the desk writes to about ``ticket``: its customer, in the channel they last wrote
    on (their chat, or the linked address they last mailed from)."""
    customer = await uow.customers.get(ticket.customer_id)
    assert customer is not None, f"ticket {ticket.id} has no customer"
    if customer.reply_via_id is None:
        return customer
    return customer.replies_to(await uow.customers.get(customer.reply_via_id))


async def reply(
    uow: AbstractUnitOfWork,
    render: Callable[[Customer], list[OutboundCall]],
    user: TelegramUser,
    language: str,
    now: datetime,
    *,
    change: Callable[[Customer], None] | None = None,
) -> Customer:
    """Register (or refresh) the customer, apply ``change``, queue what ``render`` says.

    Serves the commands that only answer: ``/start`` (``presenter.welcome``), ``/help``,
    ``/language``, and those that change one thing first (``/new``, a language choice).
    """
    customer = await get_or_register(uow, user, language, now)
    if change is not None:
        change(customer)
    await queue(uow, render(customer), now)
    await uow.commit()
    return customer


async def queue(uow: AbstractUnitOfWork, calls: list[OutboundCall], now: datetime) -> None:
    """Put calls into the outbox (they are sent after the transaction commits)."""
    for call in calls:
        await uow.outbox.add(call, now)


async def tell(uow: AbstractUnitOfWork, calls: list[OutboundCall], now: datetime) -> None:
    """Queue an answer that goes with what was just done (or with nothing) and commit."""
    await queue(uow, calls, now)
    await uow.commit()


async def welcome(
    uow: AbstractUnitOfWork, presenter: Presenter, user: TelegramUser, language: str, now: datetime
) -> Customer:
    """``/start``: register the customer and greet them (in the admins' words, if set)."""
    customer = await get_or_register(uow, user, language, now)
    custom = await texts.custom_text(uow, "welcome", customer.language or language)
    await tell(uow, presenter.welcome(customer, custom), now)
    return customer
