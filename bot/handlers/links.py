"""``/link`` and ``/unlink`` in an agents' group: one customer across Telegram and email."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.context import HandlerContext
from bot.filters import HasRole, InAgentsGroup
from bot.handlers.common import incoming
from bot.services import links
from bot.services.agent_messages import ticket_for_agent_message
from bot.services.conversation import DeskConfig
from models import Customer, Role
from models.links import parse_link, parse_unlink


def _person(customer: Customer) -> str:
    return _("{name} (Telegram id {id})").format(
        name=escape(customer.display_name), id=f"<code>{customer.telegram_id}</code>"
    )


async def on_link(
    message: Message, command: CommandObject, ctx: HandlerContext, desk_config: DeskConfig
) -> None:
    """``/link <#ticket|telegram id|@username> <address>`` (one side is enough in a ticket's
    topic): the address becomes one of the Telegram customer's ways in."""
    request = parse_link(command.args or "")
    here = await ticket_for_agent_message(ctx.uow, desk_config, incoming(message))
    done = await links.link(ctx.uow, ctx.presenter, ctx.actor, request, here, ctx.now())
    await ctx.say(linked_lines(done))


def linked_lines(done: links.Linked) -> list[str]:
    """What ``/link`` answers: who is linked now, what moved, where replies go."""
    address = escape(done.address.email or "")
    lines = [
        "🔗 "
        + _(
            "{address} is linked to {person}: what they write by email or in Telegram lands "
            "in the same ticket."
        ).format(address=address, person=_person(done.person))
    ]
    if done.moved:
        lines.append(
            ngettext(
                "{count} ticket of the address is theirs now.",
                "{count} tickets of the address are theirs now.",
                done.moved,
            ).format(count=done.moved)
        )
    if done.replies_to is done.address:
        lines.append(
            _("Replies go where they last wrote: now by email to {address}.").format(
                address=address
            )
        )
    else:
        lines.append(_("Replies go where they last wrote: now in Telegram."))
    return lines


async def on_unlink(message: Message, command: CommandObject, ctx: HandlerContext) -> None:
    """``/unlink <address>``: the address is a customer of its own again."""
    address = parse_unlink(command.args or "")
    person, _address = await links.unlink(ctx.uow, ctx.presenter, ctx.actor, address, ctx.now())
    line = _(
        "{address} is no longer linked to {person}: its next mail opens a ticket of its own, "
        "and replies to {name} go to their Telegram chat."
    ).format(address=escape(address), person=_person(person), name=escape(person.display_name))
    await ctx.say([line])


def build_router(agent_chat_id: int) -> Router:
    router = Router(name=__name__)
    in_group, agent = InAgentsGroup(agent_chat_id), HasRole(Role.AGENT)
    router.message.register(on_link, Command("link"), in_group, agent)
    router.message.register(on_unlink, Command("unlink"), in_group, agent)
    return router
