"""Agents' tools in their group (and in a private chat with the bot): availability, queues,
ticket links and search. Admin and supervisor commands are in ``bot/handlers/admin/``."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.callbacks import QueueCb
from bot.context import HandlerContext
from bot.filters import HasRole, looks_like_command
from bot.handlers.common import answer
from bot.services import assignment, tools
from models import InvalidInput, Role


async def on_availability(message: Message, command: CommandObject, ctx: HandlerContext) -> None:
    """``/away`` and ``/back``."""
    away = command.command == "away"
    await assignment.set_away(ctx.uow, ctx.presenter, ctx.actor, away, *ctx.place, ctx.now())


QUEUE_USAGE = "usage: /queue [mine|unassigned|overdue|notsure|team <name>|tag <tag>|all]"


async def on_queue(message: Message, command: CommandObject, ctx: HandlerContext) -> None:
    """``/queue [mine|unassigned|overdue|notsure|team <t>|tag <t>|all]``."""
    word, _sep, arg = (command.args or "").strip().partition(" ")
    try:
        kind = tools.QueueKind(word.lower() or "all")
    except ValueError:
        raise InvalidInput("queue", word, QUEUE_USAGE) from None
    await _show_queue(ctx, await tools.queue_request(ctx.uow, kind, arg.strip()), None)


async def on_queue_page(
    callback: CallbackQuery, callback_data: QueueCb, ctx: HandlerContext
) -> None:
    """A page button under a queue listing: the same message shows the other page."""
    message = callback.message
    if not isinstance(message, Message):
        await answer(callback, _("This button no longer works."), alert=True)
        return
    request = tools.QueueRequest(callback_data.k, callback_data.a, callback_data.p)
    await _show_queue(ctx, request, message.message_id)
    await answer(callback)


async def _show_queue(ctx: HandlerContext, request: tools.QueueRequest, edit: int | None) -> None:
    page = await tools.queue_page(ctx.uow, ctx.actor, request)
    r = page.request
    previous = QueueCb(k=r.kind, a=r.arg, p=r.page - 1) if r.page > 0 else None
    following = QueueCb(k=r.kind, a=r.arg, p=r.page + 1) if r.page + 1 < page.pages else None
    calls = ctx.presenter.queue_page(
        *ctx.place,
        page.title,
        page.tickets,
        page.total,
        r.page,
        page.pages,
        page.assignees,
        (previous, following),
        edit,
    )
    await ctx.tell(calls)


async def on_search(message: Message, command: CommandObject, ctx: HandlerContext) -> None:
    """``/search <words> [#tag]``: tickets by subject and messages, ranked, with snippets."""
    result = await tools.search(ctx.uow, ctx.actor, command.args or "")
    await ctx.tell(ctx.presenter.search_results(*ctx.place, result))


async def on_ticket(message: Message, command: CommandObject, ctx: HandlerContext) -> None:
    """``/ticket <number>``: a link to the ticket's topic."""
    ticket, assignee = await tools.find_ticket(ctx.uow, ctx.actor, command.args or "")
    await ctx.tell(ctx.presenter.ticket_link(*ctx.place, ticket, assignee))


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(looks_like_command)
    agent = HasRole(Role.AGENT)
    router.message.register(on_availability, Command("away", "back"), agent)
    router.message.register(on_queue, Command("queue"), agent)
    router.message.register(on_ticket, Command("ticket"), agent)
    router.message.register(on_search, Command("search"), agent)
    router.callback_query.register(on_queue_page, QueueCb.filter(), agent)
    return router
