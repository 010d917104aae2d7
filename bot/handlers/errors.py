"""Domain errors become short, translated answers where they happened; nothing else is caught."""

from __future__ import annotations

import contextlib
from html import escape

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import Chat, ErrorEvent, Update, User
from aiogram.utils.i18n import gettext as _

from bot.adapters.labels import status_label
from bot.config import Settings
from bot.runtime.coordination import Coordinator, LocalCoordinator
from bot.texts import pick_language, use_language
from models import (
    AlreadyAssigned,
    DomainError,
    GroupProblem,
    GroupRefused,
    InvalidInput,
    InvalidTransition,
    LinkProblem,
    LinkRefused,
    NotAllowed,
    NotFound,
    NoTicketHere,
    TicketClosed,
    TicketMerged,
    TicketStatus,
)
from models.incidents import IncidentNotFound

#: In a group, a person hears at most one refusal in this many seconds (so refusals cannot be
#: used to make the bot flood the group).
REFUSAL_EVERY = 30.0


def explain(error: DomainError) -> str:
    """The user-facing sentence for a domain error (in the current locale)."""
    if isinstance(error, AlreadyAssigned):
        return _("Already taken by {name}.").format(name=escape(error.assignee))
    if isinstance(error, NotAllowed) and error.role is not None:
        return _("This needs the {role} role.").format(role=error.role)
    if isinstance(error, NotAllowed):
        return _("Only registered agents can work on tickets here. Ask an admin to add you.")
    if isinstance(error, TicketMerged):
        text = _("Ticket #{number} was merged into #{target}; it cannot change any more.").format(
            number=error.number, target=error.into_number or "?"
        )
        return f"{text} {error.link}" if error.link else text
    if isinstance(error, GroupRefused):
        return _group_refused(error)
    if isinstance(error, LinkRefused):
        return _link_refused(error)
    if isinstance(error, TicketClosed):
        return _("This ticket is closed. Reopen it first to change it.")
    if isinstance(error, NoTicketHere):
        return _("Use this command inside a ticket's topic, or as a reply to the ticket's card.")
    if isinstance(error, IncidentNotFound):
        return _("This incident does not exist (any more).")
    if isinstance(error, NotFound):
        return _("This ticket does not exist (any more).")
    if isinstance(error, InvalidTransition):
        return _("A ticket cannot go from “{current}” to “{target}”.").format(
            current=status_label(TicketStatus(str(error.current))),
            target=status_label(TicketStatus(str(error.target))),
        )
    if isinstance(error, InvalidInput) and not str(error.value).strip():
        return _("Not accepted: {reason}").format(reason=escape(error.reason))
    if isinstance(error, InvalidInput):
        return _("Not accepted: {value} — {reason}").format(
            value=escape(str(error.value)[:100]), reason=escape(error.reason)
        )
    return _("That did not work.")


def _group_refused(error: GroupRefused) -> str:
    chat = error.chat_id
    if error.problem is GroupProblem.MAIN_GROUP:
        return escape(
            _(
                "{chat} is the desk's main group; to keep a team there, use: "
                "/teams group <team> off"
            ).format(chat=chat)
        )
    reason = {
        GroupProblem.UNSEEN: _(
            "the bot cannot see that chat. Add the bot to the group first, and check the id "
            "(supergroup ids start with -100)."
        ),
        GroupProblem.NOT_SUPERGROUP: _(
            "it is not a supergroup. Turn on topics in the group's settings (that makes it a "
            "forum supergroup), then try again with its new id."
        ),
        GroupProblem.NOT_FORUM: _(
            "topics are switched off there. Turn on topics in the group's settings."
        ),
        GroupProblem.NOT_ADMIN: _(
            "the bot is not an administrator there. Make it an administrator with the right "
            "to manage topics."
        ),
        GroupProblem.CANNOT_MANAGE_TOPICS: _(
            "the bot may not manage topics there. Give it the administrator right “Manage topics”."
        ),
    }[error.problem]
    return _("Group {chat} cannot be a team's group: {reason}").format(chat=chat, reason=reason)


_LINK_USAGE = (
    "/link &lt;#ticket|Telegram id|@username&gt; &lt;email address&gt;",
    "/unlink &lt;email address&gt;",
)


def _link_refused(error: LinkRefused) -> str:
    value, problem = escape(error.value), error.problem
    if problem is LinkProblem.USAGE:
        return _(
            "Usage: {link} (in a ticket's topic one of the two is enough: the topic's customer "
            "is the other); {unlink}."
        ).format(link=_LINK_USAGE[0], unlink=_LINK_USAGE[1])
    if problem is LinkProblem.NEEDS_BOTH:
        return _("Outside a ticket's topic, name both sides: {link}").format(link=_LINK_USAGE[0])
    text = {
        LinkProblem.NOT_AN_ADDRESS: _("“{value}” is not an email address (like ann@example.com)."),
        LinkProblem.NOT_A_CUSTOMER: _(
            "“{value}” names no Telegram customer: give a ticket number as #42, a Telegram "
            "user id (a positive number) or an @username."
        ),
        LinkProblem.NO_SUCH_TICKET: _("Ticket {value} does not exist."),
        LinkProblem.UNKNOWN_USERNAME: _("No customer {value} has written to the bot."),
        LinkProblem.TICKET_NOT_BY_EMAIL: _(
            "The customer of ticket {value} does not write by email: name the address to "
            "link, /link &lt;email address&gt;."
        ),
        LinkProblem.BY_EMAIL: _(
            "That customer writes by email ({value}): an address is linked to a customer who "
            "writes in Telegram. Name a Telegram customer's ticket, id or @username."
        ),
        LinkProblem.VISITOR: _(
            "That customer ({value}) writes in the website chat: only an email address and a "
            "Telegram customer can be linked."
        ),
        LinkProblem.NOBODY_KNOWN: _(
            "Neither that Telegram user nor {value} has written to the desk yet: link them "
            "once one of them has."
        ),
        LinkProblem.ALREADY_LINKED: _("{value} is already linked to this customer."),
        LinkProblem.LINKED_ELSEWHERE: _(
            "{value} is already linked to {other}: /unlink {value} first."
        ),
        LinkProblem.NOT_LINKED: _("{value} is not linked to anyone."),
        LinkProblem.UNKNOWN_ADDRESS: _("Nobody has written from {value}."),
    }[problem]
    return text.format(value=value, other=escape(error.other or "?"))


async def on_domain_error(
    event: ErrorEvent, settings: Settings, coordinator: Coordinator | None = None
) -> None:
    """Answers where the request came from: an alert on a button, a reply to a message.

    Best effort and direct (not through the outbox): nothing changed, so nothing is lost if the
    answer itself does not arrive. A refusal (the role is missing) is addressed to one person:
    in their language, and in a group at most once per ``REFUSAL_EVERY`` seconds each.
    """
    update = event.update
    user, chat = _sender(update)
    refused = isinstance(event.exception, NotAllowed)
    if refused and user is not None and chat is not None and chat.type != "private":
        coordinator = coordinator or LocalCoordinator()
        if not await coordinator.claim_once(f"refusal:{user.id}", REFUSAL_EVERY):
            return
    language: str = settings.default_language
    if user is not None and (chat is None or chat.type == "private" or refused):
        language = pick_language(user.language_code, settings.default_language)
    with use_language(language):
        text = explain(event.exception)  # type: ignore[arg-type]
    with contextlib.suppress(TelegramAPIError):
        if update.callback_query is not None:
            await update.callback_query.answer(text[:200], show_alert=True)
        elif update.message is not None:
            await update.message.reply(text)


def _sender(update: Update) -> tuple[User | None, Chat | None]:
    """Who pressed or wrote, and in which chat (a button's chat is not needed: alerts are
    personal)."""
    if update.callback_query is not None:
        return update.callback_query.from_user, None
    if update.message is not None:
        return update.message.from_user, update.message.chat
    return None, None


def build_router() -> Router:
    router = Router(name=__name__)
    router.errors.register(on_domain_error, ExceptionTypeFilter(DomainError))
    return router
