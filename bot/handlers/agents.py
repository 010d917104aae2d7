"""The agents' supergroup: ticket topics, card buttons and ticket commands."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.callbacks import TicketCb
from bot.context import HandlerContext
from bot.filters import InAgentsGroup
from bot.handlers.common import answer, incoming, on_stale_button, written_by_a_person
from bot.handlers.ticket_commands import TICKET_COMMANDS, card_press
from bot.services import desk
from bot.services.auth import require_agent
from bot.services.conversation import DeskConfig


async def on_ticket_command(
    message: Message, command: CommandObject, ctx: HandlerContext, desk_config: DeskConfig
) -> None:
    """``/status``, ``/assign``, ``/team``, ``/priority``, ``/close``, ``/reopen``,
    ``/resolve``, ``/history``, ``/note`` and the others of ``TICKET_COMMANDS``, inside a
    ticket's topic: parsed here, changed by the use case."""
    change = TICKET_COMMANDS[command.command]((command.args or "").strip())
    await desk.ticket_command(
        ctx.uow, ctx.presenter, desk_config, incoming(message), change, ctx.now()
    )


async def on_card_button(
    callback: CallbackQuery, callback_data: TicketCb, ctx: HandlerContext, desk_config: DeskConfig
) -> None:
    """A ticket card button: claim, status, priority, team (with their menus), a suggested
    canned answer."""
    agent = await require_agent(ctx.uow, ctx.actor)
    press = card_press(callback_data.a, callback_data.v)
    changed = await desk.card_button(
        ctx.uow, ctx.presenter, agent, desk_config, callback_data.t, press, ctx.now()
    )
    await answer(callback, _("Done.") if changed else None)


async def on_agent_message(message: Message, ctx: HandlerContext, desk_config: DeskConfig) -> None:
    """Anything a person wrote in a ticket's topic (or in reply to its messages): goes to the
    customer, or stays inside when it starts with ``//``. Service messages and posts in a
    chat's name are no replies: they are left alone."""
    if not written_by_a_person(message):
        return
    await desk.agent_writes(ctx.uow, ctx.presenter, desk_config, incoming(message), ctx.now())


async def on_agent_edit(message: Message, ctx: HandlerContext) -> None:
    """An agent edited a message: the customer's copy is edited too."""
    await desk.agent_edits(ctx.uow, ctx.presenter, incoming(message), ctx.now())


def not_a_command(message: Message) -> bool:
    """Anything but a bot command; ``//`` starts an internal note, not a command."""
    text = message.text or ""
    return not text.startswith("/") or text.startswith("//")


def build_router(agent_chat_id: int) -> Router:
    """Agent handlers, limited to the agents' group."""
    router = Router(name=__name__)
    in_group = InAgentsGroup(agent_chat_id)
    router.message.filter(in_group)
    router.edited_message.filter(in_group)
    router.callback_query.filter(in_group)
    router.message.register(on_ticket_command, Command(*TICKET_COMMANDS))
    router.message.register(on_agent_message, not_a_command)
    router.edited_message.register(on_agent_edit)
    router.callback_query.register(on_card_button, TicketCb.filter())
    router.callback_query.register(on_stale_button)
    return router
