"""Incidents in the agents' group: the incident card's buttons and ``/detach``."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.callbacks import IncidentAction, IncidentCb
from bot.context import HandlerContext
from bot.handlers.common import answer, incoming
from bot.services import incidents
from models import InvalidInput


async def on_incident_button(
    callback: CallbackQuery, callback_data: IncidentCb, ctx: HandlerContext
) -> None:
    """Resolve all, split, or detach one ticket, from the incident's card."""
    uow, presenter, user, now = ctx.uow, ctx.presenter, ctx.actor, ctx.now()
    if callback_data.a is IncidentAction.RESOLVE:
        count = await incidents.resolve(uow, presenter, user, callback_data.i, now)
        await answer(callback, _("Resolved: {count}").format(count=count))
    elif callback_data.a is IncidentAction.SPLIT:
        count = await incidents.split(uow, presenter, user, callback_data.i, now)
        await answer(callback, _("Back in their own topics: {count}").format(count=count))
    else:
        ticket = await incidents.detach(
            uow, presenter, user, callback_data.i, callback_data.t, now
        )
        await answer(callback, _("#{number} gets its own topic.").format(number=ticket.number))


async def on_detach(message: Message, command: CommandObject, ctx: HandlerContext) -> None:
    """``/detach <number>``: one ticket out of its incident, into a topic of its own."""
    typed = (command.args or "").strip()
    number = typed.removeprefix("#")
    if not number.isdigit() or len(number) > 12:
        raise InvalidInput("ticket", typed, "usage: /detach <ticket number>, e.g. /detach 42")
    await incidents.detach_numbered(
        ctx.uow, ctx.presenter, incoming(message), int(number), ctx.now()
    )


def build_router(agent_chat_id: int) -> Router:
    """Incident handlers, limited to the agents' group."""
    router = Router(name=__name__)
    router.message.filter(F.chat.id == agent_chat_id)
    router.callback_query.filter(F.message.chat.id == agent_chat_id)
    router.message.register(on_detach, Command("detach"))
    router.callback_query.register(on_incident_button, IncidentCb.filter())
    return router
