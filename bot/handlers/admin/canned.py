"""Canned answers, for agents to read and admins to change: ``/canned add|list|del`` and
``/autoanswer`` (a category answered with one of them automatically)."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.adapters.presenter import Presenter
from bot.filters import desk_command
from bot.handlers.common import telegram_user, where
from bot.services import canned
from bot.services.conversation import DeskConfig
from bot.services.customers import tell
from bot.services.ports import AbstractUnitOfWork, Clock
from bot.texts import SUPPORTED_LANGUAGES


async def on_canned(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    desk_config: DeskConfig,
    clock: Clock,
) -> None:
    """``/canned add|list|del``."""
    assert message.from_user is not None
    replied = message.reply_to_message
    quoted = replied is not None and not replied.forum_topic_created
    args = (message.text or "").partition(" ")[2] if message.text else ""
    result = await canned.canned_command(
        uow,
        telegram_user(message.from_user),
        args or (command.args or ""),
        (replied.text or replied.caption) if quoted and replied is not None else None,
        desk_config.default_language,
        list(SUPPORTED_LANGUAGES),
        clock.now(),
    )
    chat, thread = where(message)
    if isinstance(result, list):
        calls = presenter.canned_list(chat, thread, result)
    else:
        removed = result.count if result.action == "removed" else None
        calls = presenter.canned_changed(chat, thread, result.key, removed)
    await tell(uow, calls, clock.now())


async def on_autoanswer(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    clock: Clock,
) -> None:
    """``/autoanswer <category> <key> [threshold]`` or ``/autoanswer <category> off``."""
    assert message.from_user is not None
    category, key, threshold = await canned.set_auto_answer(
        uow, telegram_user(message.from_user), command.args or ""
    )
    if key is None:
        text = _("Category “{category}” no longer answers automatically.")
    else:
        text = _(
            "Category “{category}” answers new tickets with “{key}” when triage is at least "
            "{threshold:.0%} sure."
        )
    chat, thread = where(message)
    line = text.format(category=escape(category), key=escape(key or ""), threshold=threshold or 0)
    await tell(uow, presenter.said(chat, thread, [line]), clock.now())


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_canned, *desk_command("canned"))
    router.message.register(on_autoanswer, *desk_command("autoanswer"))
    return router
