"""The desk's runtime settings, for agents to read and admins to change: ``/settings``,
``/set <name> <value>`` and ``/text`` (the welcome texts)."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.adapters.labels import strategy_label
from bot.context import HandlerContext
from bot.filters import desk_command
from bot.services import desk_settings, texts
from bot.services.conversation import DeskConfig
from bot.texts import SUPPORTED_LANGUAGES
from models import InvalidInput


async def on_set(
    message: Message, command: CommandObject, ctx: HandlerContext, desk_config: DeskConfig
) -> None:
    """``/set <name> <value>``: the setting changes, then the configuration at a glance."""
    uow, user = ctx.uow, ctx.actor
    name, _sep, value = (command.args or "").strip().partition(" ")
    setting, value = await desk_settings.change(uow, user, name, value.strip(), ctx.now())
    line = _("{name} is now {value}.").format(name=setting.name, value=escape(value))
    shown = await desk_settings.overview(uow, user, _environment(desk_config))
    await ctx.say([line, *overview_lines(shown)])


async def on_settings(message: Message, ctx: HandlerContext, desk_config: DeskConfig) -> None:
    """``/settings``: the desk's configuration at a glance."""
    shown = await desk_settings.overview(ctx.uow, ctx.actor, _environment(desk_config))
    await ctx.say(overview_lines(shown))


def _environment(desk_config: DeskConfig) -> dict[str, str]:
    """The settings that come from the environment until an admin sets them."""
    return {
        "reopen_window": f"{desk_config.reopen_window.total_seconds() / 3600:g}h",
        "sign_replies": "on" if desk_config.sign_replies else "off",
    }


def overview_lines(shown: desk_settings.Overview) -> list[str]:
    """``/settings`` as lines of HTML, in the reader's language."""
    lines = ["<b>" + _("Settings") + "</b> " + escape(_("(change with /set <name> <value>)"))]
    for setting, value in shown.settings:
        lines.append(f"<code>{setting.name}</code> = {escape(value)} — {escape(setting.help)}")
    teams_shown = ", ".join(
        f"{escape(v.team.name)} ({strategy_label(v.team.strategy)}, {len(v.members)})"
        for v in shown.teams
    )
    lines.append(_("Teams: {teams}").format(teams=teams_shown or "—"))
    names = {v.team.id: v.team.name for v in shown.teams}
    categories = ", ".join(
        escape(c.key + (f" → {names[c.team_id]}" if c.team_id in names else ""))
        + (f" 🤖 {escape(c.auto_answer_key)}" if c.auto_answer_key else "")
        for c in shown.categories
    )
    lines.append(_("Categories: {categories}").format(categories=categories or "—"))
    agents = ", ".join(f"{role} {n}" for role, n in shown.agents_by_role.items())
    lines.append(_("Agents: {agents}").format(agents=agents))
    lines.append(escape(_("More: /sla, /canned list, /teams, /model, /health")))
    return lines


async def on_text(message: Message, ctx: HandlerContext) -> None:
    """``/text welcome|registered <language>`` + the new wording, or ``reset``."""
    name, language, wording = text_request((message.text or "").partition(" ")[2])
    text = await texts.set_text(ctx.uow, ctx.actor, name, language, wording, ctx.now())
    if text is None:
        line = _("The {name} text in {language} is back to the built-in one.")
    else:
        line = _("The {name} text in {language} is saved.")
    await ctx.say([line.format(name=name, language=language)])


TEXT_USAGE = (
    "usage: /text welcome|registered <language> with the new text on the next lines, "
    "or /text welcome|registered <language> reset"
)


def text_request(args: str) -> tuple[str, str, str | None]:
    """``/text``'s text name, language and new wording (None: ``reset``)."""
    first, _sep, body = args.partition("\n")
    parts = first.split()
    if len(parts) < 2 or parts[0].lower() not in texts.CUSTOM_TEXTS:
        raise InvalidInput("text", first[:40], TEXT_USAGE)
    name, language = parts[0].lower(), parts[1].lower()
    if language not in SUPPORTED_LANGUAGES:
        raise InvalidInput(
            "language", language, "expected one of: " + ", ".join(SUPPORTED_LANGUAGES)
        )
    reset = len(parts) > 2 and parts[2].lower() == "reset"
    return name, language, None if reset else body


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_set, *desk_command("set"))
    router.message.register(on_settings, *desk_command("settings"))
    router.message.register(on_text, *desk_command("text"))
    return router
