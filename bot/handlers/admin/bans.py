"""``/ban`` and ``/unban``: supervisors stop (or let again) a customer's new tickets, from the
ticket's topic in an agents' group."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import Message

from bot.context import HandlerContext
from bot.filters import InAgentsGroup, desk_command
from bot.handlers.common import incoming
from bot.services import tools
from bot.services.agent_messages import ticket_for_agent_message
from bot.services.conversation import DeskConfig
from models.ids import parse_id


async def on_ban(
    message: Message, command: CommandObject, ctx: HandlerContext, desk_config: DeskConfig
) -> None:
    """``/ban [telegram id] <reason>``: the customer's messages open no tickets any more."""
    await _ban(message, command, ctx, desk_config, banned=True)


async def on_unban(
    message: Message, command: CommandObject, ctx: HandlerContext, desk_config: DeskConfig
) -> None:
    """``/unban [telegram id]``: the customer may open tickets again."""
    await _ban(message, command, ctx, desk_config, banned=False)


async def _ban(
    message: Message,
    command: CommandObject,
    ctx: HandlerContext,
    desk_config: DeskConfig,
    *,
    banned: bool,
) -> None:
    customer_id, reason = ban_request(command.args or "")
    ticket = await ticket_for_agent_message(ctx.uow, desk_config, incoming(message))
    target = tools.BanTarget(ticket, customer_id, reason)
    await tools.ban(
        ctx.uow, ctx.presenter, ctx.actor, target, *ctx.place, ctx.now(), banned=banned
    )


def ban_request(args: str) -> tuple[int | None, str]:
    """The customer's Telegram id when the arguments start with one (None: the ticket's
    customer), and the reason after it."""
    args = args.strip()
    first, _sep, rest = args.partition(" ")
    customer_id = parse_id(first, signed=True)
    return customer_id, args if customer_id is None else rest.strip()


def build_router(agent_chat_id: int) -> Router:
    router = Router(name=__name__)
    router.message.filter(InAgentsGroup(agent_chat_id))
    router.message.register(on_ban, *desk_command("ban"))
    router.message.register(on_unban, *desk_command("unban"))
    return router
