"""Agents' tools in their group (and in a private chat with the bot): availability, queues,
ticket links and search. Admin and supervisor commands are in ``bot/handlers/admin/``."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.adapters.presenter import Presenter
from bot.callbacks import QueueCb
from bot.filters import HasRole, looks_like_command
from bot.handlers.common import answer, telegram_user, where
from bot.services import assignment, tools
from bot.services.customers import tell
from bot.services.ports import AbstractUnitOfWork, Clock
from models import InvalidInput, Role


async def on_availability(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    clock: Clock,
) -> None:
    """``/away`` and ``/back``."""
    assert message.from_user is not None
    chat, thread = where(message)
    await assignment.set_away(
        uow,
        presenter,
        telegram_user(message.from_user),
        command.command == "away",
        chat,
        thread,
        clock.now(),
    )


QUEUE_USAGE = "usage: /queue [mine|unassigned|overdue|notsure|team <name>|tag <tag>|all]"


async def on_queue(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    clock: Clock,
) -> None:
    """``/queue [mine|unassigned|overdue|notsure|team <t>|tag <t>|all]``."""
    assert message.from_user is not None
    word, _sep, arg = (command.args or "").strip().partition(" ")
    try:
        kind = tools.QueueKind(word.lower() or "all")
    except ValueError:
        raise InvalidInput("queue", word, QUEUE_USAGE) from None
    request = await tools.queue_request(uow, kind, arg.strip())
    chat, thread = where(message)
    await _show_queue(uow, presenter, message, request, chat, thread, None, clock)


async def on_queue_page(
    callback: CallbackQuery,
    callback_data: QueueCb,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    clock: Clock,
) -> None:
    """A page button under a queue listing: the same message shows the other page."""
    message = callback.message
    if not isinstance(message, Message):
        await answer(callback, _("This button no longer works."), alert=True)
        return
    request = tools.QueueRequest(callback_data.k, callback_data.a, callback_data.p)
    chat, thread = where(message)
    await _show_queue(
        uow,
        presenter,
        callback,
        request,
        chat,
        thread,
        message.message_id,
        clock,
    )
    await answer(callback)


async def _show_queue(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    source: Message | CallbackQuery,
    request: tools.QueueRequest,
    chat: int,
    thread: int | None,
    edit: int | None,
    clock: Clock,
) -> None:
    assert source.from_user is not None
    page = await tools.queue_page(uow, telegram_user(source.from_user), request)
    r = page.request
    previous = QueueCb(k=r.kind, a=r.arg, p=r.page - 1) if r.page > 0 else None
    following = QueueCb(k=r.kind, a=r.arg, p=r.page + 1) if r.page + 1 < page.pages else None
    calls = presenter.queue_page(
        chat,
        thread,
        page.title,
        page.tickets,
        page.total,
        r.page,
        page.pages,
        page.assignees,
        (previous, following),
        edit,
    )
    await tell(uow, calls, clock.now())


async def on_search(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    clock: Clock,
) -> None:
    """``/search <words> [#tag]``: tickets by subject and messages, ranked, with snippets."""
    assert message.from_user is not None
    result = await tools.search(uow, telegram_user(message.from_user), command.args or "")
    chat, thread = where(message)
    await tell(uow, presenter.search_results(chat, thread, result), clock.now())


async def on_ticket(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    clock: Clock,
) -> None:
    """``/ticket <number>``: a link to the ticket's topic."""
    assert message.from_user is not None
    user = telegram_user(message.from_user)
    ticket, assignee = await tools.find_ticket(uow, user, command.args or "")
    chat, thread = where(message)
    await tell(uow, presenter.ticket_link(chat, thread, ticket, assignee), clock.now())


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
