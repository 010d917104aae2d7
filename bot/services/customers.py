"""Use cases about customers themselves: registration and language."""

from __future__ import annotations

from datetime import datetime

from bot.services.ports import Presenter, TelegramUser
from models import Customer
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
            created_at=now,
        )
        await uow.customers.add(customer)
        return customer
    customer.first_name = user.first_name
    customer.last_name = user.last_name
    customer.username = user.username
    # The customer wrote to us again, so they have not blocked the bot (any more).
    customer.blocked_bot = False
    return customer


async def start(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    user: TelegramUser,
    language: str,
    now: datetime,
) -> Customer:
    """``/start``: register the customer and greet them in their language."""
    customer = await get_or_register(uow, user, language, now)
    await queue(uow, presenter.welcome(customer), now)
    await uow.commit()
    return customer


async def show_help(
    uow: AbstractUnitOfWork, presenter: Presenter, user: TelegramUser, language: str, now: datetime
) -> None:
    customer = await get_or_register(uow, user, language, now)
    await queue(uow, presenter.help(customer), now)
    await uow.commit()


async def queue(uow: AbstractUnitOfWork, calls: list[OutboundCall], now: datetime) -> None:
    """Put calls into the outbox (they are sent after the transaction commits)."""
    for call in calls:
        await uow.outbox.add(call, now)
