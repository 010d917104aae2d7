"""The agents' supergroup: ticket topics, card buttons and ticket commands."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.adapters.presenter import Presenter
from bot.callbacks import CardAction, TicketCb
from bot.handlers.common import (
    answer,
    incoming,
    on_stale_button,
    replied_person,
    telegram_user,
    written_by_a_person,
)
from bot.services import agents, desk
from bot.services.auth import require_agent
from bot.services.conversation import DeskConfig
from bot.services.ports import AbstractUnitOfWork, Clock

_ACTIONS = {
    CardAction.CLAIM: "claim",
    CardAction.MENU: "menu",
    CardAction.BACK: "back",
    CardAction.STATUS: "status",
    CardAction.PRIORITY: "priority",
    CardAction.TEAM: "team",
    CardAction.CATEGORY: "category",
    CardAction.CANNED: "canned",
    CardAction.OTHER: "other",
}


async def on_ticket_command(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    desk_config: DeskConfig,
    clock: Clock,
) -> None:
    """``/status``, ``/assign``, ``/team``, ``/priority``, ``/close``, ``/reopen``,
    ``/resolve``, ``/history``, ``/note`` inside a ticket's topic."""
    await desk.ticket_command(
        uow, presenter, desk_config, incoming(message), command.command, command.args, clock.now()
    )


async def on_agent_command(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    clock: Clock,
) -> None:
    """``/agent add [user id] [role]`` (or as a reply to the person): admins register agents."""
    assert message.from_user is not None
    await agents.agent_command(
        uow,
        presenter,
        actor=telegram_user(message.from_user),
        args=command.args or "",
        replied_user=replied_person(message),
        chat_id=message.chat.id,
        thread_id=message.message_thread_id if message.is_topic_message else None,
        now=clock.now(),
    )


async def on_card_button(
    callback: CallbackQuery,
    callback_data: TicketCb,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    desk_config: DeskConfig,
    clock: Clock,
) -> None:
    """A ticket card button: claim, status, priority, team (with their menus), a suggested
    canned answer."""
    agent = await require_agent(uow, telegram_user(callback.from_user))
    changed = await desk.card_button(
        uow,
        presenter,
        agent,
        desk_config,
        callback_data.t,
        _ACTIONS[callback_data.a],
        callback_data.v,
        clock.now(),
    )
    await answer(callback, _("Done.") if changed else None)


async def on_agent_message(
    message: Message,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    desk_config: DeskConfig,
    clock: Clock,
) -> None:
    """Anything a person wrote in a ticket's topic (or in reply to its messages): goes to the
    customer, or stays inside when it starts with ``//``. Service messages and posts in a
    chat's name are no replies: they are left alone."""
    if not written_by_a_person(message):
        return
    await desk.agent_writes(uow, presenter, desk_config, incoming(message), clock.now())


async def on_agent_edit(
    message: Message, uow: AbstractUnitOfWork, presenter: Presenter, clock: Clock
) -> None:
    """An agent edited a message: the customer's copy is edited too."""
    await desk.agent_edits(uow, presenter, incoming(message), clock.now())


def not_a_command(message: Message) -> bool:
    """Anything but a bot command; ``//`` starts an internal note, not a command."""
    text = message.text or ""
    return not text.startswith("/") or text.startswith("//")


def build_router(agent_chat_id: int) -> Router:
    """Agent handlers, limited to the agents' group."""
    router = Router(name=__name__)
    router.message.filter(F.chat.id == agent_chat_id)
    router.edited_message.filter(F.chat.id == agent_chat_id)
    router.callback_query.filter(F.message.chat.id == agent_chat_id)
    router.message.register(on_ticket_command, Command(*desk.TICKET_COMMANDS))
    router.message.register(on_agent_command, Command("agent"))
    router.message.register(on_agent_message, not_a_command)
    router.edited_message.register(on_agent_edit)
    router.callback_query.register(on_card_button, TicketCb.filter())
    router.callback_query.register(on_stale_button)
    return router
