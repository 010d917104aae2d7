"""The customer's private chat with the bot."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import Message

from bot.adapters.presenter import Presenter
from bot.config import Settings
from bot.handlers.common import telegram_user
from bot.services import customers
from bot.services.ports import Clock
from bot.texts import pick_language
from storage import AbstractUnitOfWork

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")


@router.message(CommandStart())
async def on_start(
    message: Message,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    clock: Clock,
    settings: Settings,
) -> None:
    """``/start``: registers the customer and greets them in their language."""
    assert message.from_user is not None
    user = telegram_user(message.from_user)
    language = pick_language(user.language_code, settings.default_language)
    await customers.start(uow, presenter, user, language, clock.now())


@router.message(Command("help"))
async def on_help(
    message: Message,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    clock: Clock,
    settings: Settings,
) -> None:
    """``/help``: lists the customer commands."""
    assert message.from_user is not None
    user = telegram_user(message.from_user)
    language = pick_language(user.language_code, settings.default_language)
    await customers.show_help(uow, presenter, user, language, clock.now())
