"""``/ban`` and ``/unban``: supervisors stop (or let again) a customer's new tickets, from the
ticket's topic in an agents' group."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.adapters.presenter import Presenter
from bot.filters import HasRole, InAgentsGroup
from bot.handlers.common import incoming, telegram_user, where
from bot.services import tools
from bot.services.agent_messages import ticket_for_agent_message
from bot.services.conversation import DeskConfig
from bot.services.ports import AbstractUnitOfWork, Clock
from models import Role


async def on_ban(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    desk_config: DeskConfig,
    clock: Clock,
) -> None:
    """``/ban [telegram id] <reason>`` and ``/unban [telegram id]``."""
    ticket = await ticket_for_agent_message(uow, desk_config, incoming(message))
    chat, thread = where(message)
    assert message.from_user is not None
    await tools.ban(
        uow,
        presenter,
        telegram_user(message.from_user),
        ticket,
        command.args or "",
        chat,
        thread,
        clock.now(),
        banned=command.command == "ban",
    )


def build_router(agent_chat_id: int) -> Router:
    router = Router(name=__name__)
    router.message.filter(InAgentsGroup(agent_chat_id))
    router.message.register(on_ban, Command("ban", "unban"), HasRole(Role.AGENT))
    return router
