"""Canned answers, for agents to read and admins to change: ``/canned add|list|del`` and
``/autoanswer`` (a category answered with one of them automatically)."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.context import HandlerContext
from bot.filters import desk_command
from bot.services import canned
from bot.services.conversation import DeskConfig
from bot.texts import SUPPORTED_LANGUAGES
from models import InvalidInput

CANNED_USAGE = (
    "usage: /canned add <key> [language] [category] (as a reply to the answer's text, or with "
    "the text on the next lines), /canned list, /canned del <key> [language]"
)


async def on_canned(
    message: Message, command: CommandObject, ctx: HandlerContext, desk_config: DeskConfig
) -> None:
    """``/canned add|list|del``: the list for agents, changes for admins."""
    # The whole text after the command: the answer's text may be on the next lines.
    args = (message.text or "").partition(" ")[2] or command.args or ""
    sub, parts, text = canned_request(args, _quoted(message))
    uow, user, presenter = ctx.uow, ctx.actor, ctx.presenter
    languages = list(SUPPORTED_LANGUAGES)
    if sub == "list":
        calls = presenter.canned_list(*ctx.place, await canned.list_canned(uow, user))
    elif sub == "add":
        known = (desk_config.default_language, languages)
        key = await canned.save_canned(uow, user, parts[0], parts[1:], text, known, ctx.now())
        calls = presenter.canned_changed(*ctx.place, key, None)
    else:
        removed = await canned.remove_canned(uow, user, parts[0], parts[1:], languages)
        calls = presenter.canned_changed(*ctx.place, parts[0].lower(), removed)
    await ctx.tell(calls)


def canned_request(args: str, quoted: str | None) -> tuple[str, list[str], str]:
    """``/canned``'s subcommand (``list``, ``add`` or ``del``), the key and its options, and
    an added answer's text: the lines after the command, else the ``quoted`` message's."""
    first, _sep, body = args.partition("\n")
    sub, *parts = first.split() or [""]
    sub = "del" if sub.lower() in ("del", "delete", "remove") else sub.lower()
    if sub == "list":
        return sub, [], ""
    if sub not in ("add", "del") or not parts:
        raise InvalidInput("command", args[:60], CANNED_USAGE)
    text = (body if body.strip() else quoted or "") if sub == "add" else ""
    return sub, parts, text


def _quoted(message: Message) -> str | None:
    """The text of the message the command replies to (not a topic's opening message)."""
    replied = message.reply_to_message
    if replied is None or replied.forum_topic_created:
        return None
    return replied.text or replied.caption


async def on_autoanswer(message: Message, command: CommandObject, ctx: HandlerContext) -> None:
    """``/autoanswer <category> <key> [threshold]`` or ``/autoanswer <category> off``."""
    category_key, answer_key, at_least = auto_answer_request(command.args or "")
    category, key, threshold = await canned.set_auto_answer(
        ctx.uow, ctx.actor, category_key, answer_key, at_least
    )
    if key is None:
        text = _("Category “{category}” no longer answers automatically.")
    else:
        text = _(
            "Category “{category}” answers new tickets with “{key}” when triage is at least "
            "{threshold:.0%} sure."
        )
    await ctx.say(
        [text.format(category=escape(category), key=escape(key or ""), threshold=threshold or 0)]
    )


AUTO_ANSWER_USAGE = (
    "usage: /autoanswer <category> <canned key> [threshold 0.5-1.0], or <category> off"
)


def auto_answer_request(args: str) -> tuple[str, str | None, float]:
    """``/autoanswer``'s category, canned key (None: ``off``) and threshold (0.9 unless
    given)."""
    parts = args.split()
    if len(parts) < 2:
        raise InvalidInput("command", args, AUTO_ANSWER_USAGE)
    if parts[1].lower() == "off":
        return parts[0], None, 0.9
    if len(parts) < 3:
        return parts[0], parts[1], 0.9
    try:
        return parts[0], parts[1], float(parts[2])
    except ValueError:
        raise InvalidInput("threshold", parts[2], "a confidence from 0.5 to 1.0") from None


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_canned, *desk_command("canned"))
    router.message.register(on_autoanswer, *desk_command("autoanswer"))
    return router
