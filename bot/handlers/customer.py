"""The customer's private chat with the bot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message

from bot.callbacks import CustomerAction, CustomerCb, LanguageCb, RatingCb
from bot.config import Settings
from bot.context import HandlerContext
from bot.handlers.common import answer, command_argument, incoming, on_stale_button
from bot.services import conversation, customers
from bot.services.conversation import DeskConfig
from bot.services.similar import SimilarTickets
from bot.services.triage_port import Triage
from bot.texts import SUPPORTED_LANGUAGES, pick_language


def _language(ctx: HandlerContext, settings: Settings) -> str:
    """The customer's language: their Telegram app's, when the desk speaks it."""
    return pick_language(ctx.actor.language_code, settings.default_language)


def replies_with(render: str, doc: str) -> Callable[..., Awaitable[None]]:
    """A handler for a command that only answers, with ``presenter.<render>``."""

    async def handler(message: Message, ctx: HandlerContext, settings: Settings) -> None:
        language = _language(ctx, settings)
        await customers.reply(
            ctx.uow, getattr(ctx.presenter, render), ctx.actor, language, ctx.now()
        )

    handler.__doc__ = doc
    handler.__name__ = f"on_{render}"
    return handler


async def on_start(message: Message, ctx: HandlerContext, settings: Settings) -> None:
    """``/start``: registers the customer and greets them."""
    language = _language(ctx, settings)
    await customers.welcome(ctx.uow, ctx.presenter, ctx.actor, language, ctx.now())


on_help = replies_with("help", "``/help``: lists the customer commands.")
on_language = replies_with("language_menu", "``/language``: offers the languages as buttons.")
on_unknown_command = replies_with(
    "unknown_command",
    "Any other ``/command``: a short answer pointing to ``/help``; nothing reaches the ticket "
    "(a stray ``/queue`` must not reopen a waiting ticket).",
)


def a_command(message: Message) -> bool:
    """The message starts with a bot command (Telegram marks it with an entity)."""
    entities = message.entities or []
    return bool(entities) and entities[0].type == "bot_command" and entities[0].offset == 0


async def on_my_tickets(message: Message, ctx: HandlerContext, settings: Settings) -> None:
    """``/mytickets``: the customer's tickets with view, close and reopen buttons."""
    language = _language(ctx, settings)
    await conversation.show_my_tickets(ctx.uow, ctx.presenter, ctx.actor, language, ctx.now())


async def on_new(
    message: Message,
    command: CommandObject,
    ctx: HandlerContext,
    triage: Triage,
    desk_config: DeskConfig,
    settings: Settings,
    solved: SimilarTickets,
) -> None:
    """``/new [text]``: starts a new ticket, with the text or with the next message."""
    language = _language(ctx, settings)
    if command.args:
        msg = incoming(message, retyped=command_argument(message, command))
        await conversation.customer_message(
            ctx.uow,
            ctx.presenter,
            triage,
            desk_config,
            msg,
            language,
            ctx.now(),
            force_new=True,
            solved=solved,
        )
    else:
        await conversation.request_new_ticket(
            ctx.uow, ctx.presenter, ctx.actor, language, ctx.now()
        )


async def on_language_chosen(
    callback: CallbackQuery, callback_data: LanguageCb, ctx: HandlerContext
) -> None:
    """A language button: stores the customer's choice."""
    await conversation.set_language(
        ctx.uow, ctx.presenter, ctx.actor, callback_data.lang, ctx.now()
    )
    await answer(callback)


async def on_ticket_button(
    callback: CallbackQuery, callback_data: CustomerCb, ctx: HandlerContext
) -> None:
    """View, close or reopen buttons under ``/mytickets`` and status notices."""
    uow, presenter, user = ctx.uow, ctx.presenter, ctx.actor
    if callback_data.a is CustomerAction.VIEW:
        await conversation.show_ticket_to_customer(
            uow, presenter, user, callback_data.t, ctx.now()
        )
    else:
        close = callback_data.a is CustomerAction.CLOSE
        await conversation.customer_sets_status(
            uow, presenter, user, callback_data.t, close, ctx.now()
        )
    await answer(callback)


async def on_message(
    message: Message,
    ctx: HandlerContext,
    triage: Triage,
    desk_config: DeskConfig,
    settings: Settings,
    solved: SimilarTickets,
) -> None:
    """Any other message, of any kind: goes into the customer's ticket (opening one if needed)."""
    await conversation.customer_message(
        ctx.uow,
        ctx.presenter,
        triage,
        desk_config,
        incoming(message),
        _language(ctx, settings),
        ctx.now(),
        solved=solved,
    )


async def on_edit(
    message: Message, ctx: HandlerContext, command: CommandObject | None = None
) -> None:
    """A customer edited a message: the agents see the new version (of a ``/new <text>``: the
    text without the command, as they saw it first)."""
    retyped = command_argument(message, command) if command is not None else None
    msg = incoming(message, retyped=retyped)
    await conversation.customer_edited(ctx.uow, ctx.presenter, msg, ctx.now())


async def on_rating(callback: CallbackQuery, callback_data: RatingCb, ctx: HandlerContext) -> None:
    """A CSAT star under a resolved ticket."""
    await conversation.rate(
        ctx.uow, ctx.presenter, ctx.actor, callback_data.t, callback_data.s, ctx.now()
    )
    await answer(callback)


def build_router() -> Router:
    """Customer handlers, limited to private chats."""
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.edited_message.filter(F.chat.type == "private")
    router.callback_query.filter(F.message.chat.type == "private")
    router.message.register(on_start, CommandStart())
    router.message.register(on_help, Command("help"))
    router.message.register(on_my_tickets, Command("mytickets"))
    router.message.register(on_new, Command("new"))
    router.message.register(on_language, Command("language"))
    router.message.register(on_unknown_command, a_command)
    router.message.register(on_message)
    router.edited_message.register(on_edit, Command("new"))
    router.edited_message.register(on_edit)
    router.callback_query.register(
        on_language_chosen, LanguageCb.filter(F.lang.in_(SUPPORTED_LANGUAGES))
    )
    router.callback_query.register(on_ticket_button, CustomerCb.filter())
    router.callback_query.register(on_rating, RatingCb.filter(F.s.in_(range(1, 6))))
    router.callback_query.register(on_stale_button)
    return router
