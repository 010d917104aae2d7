"""Teams and categories, for agents to read and admins to change: ``/teams`` (members,
assignment strategy, a team's own group) and ``/categories`` (their titles and teams)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from aiogram import Bot, Router
from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot import commands
from bot.adapters.chats import TelegramChats
from bot.adapters.labels import strategy_label
from bot.context import HandlerContext
from bot.filters import desk_command
from bot.handlers.common import replied_person
from bot.services import agents, categories, teams
from bot.services.conversation import DeskConfig
from bot.services.ports import AbstractUnitOfWork, TelegramUser
from models import Category, InvalidInput


async def on_team(
    message: Message,
    command: CommandObject,
    ctx: HandlerContext,
    desk_config: DeskConfig,
    bot: Bot,
) -> None:
    """``/teams list|add|rename|remove|join|leave|strategy|group``."""
    sub, rest = team_request(command.args or "")
    asked = _TeamsAsked(
        ctx.actor,
        rest,
        replied_person(message),
        teams.GroupRules(TelegramChats(bot), desk_config.agent_chat_id),
    )
    done, views = await _team_change(ctx.uow, sub, asked)
    if sub == "group":
        await _team_group_menus(bot, ctx.uow, views, desk_config.default_language)
    await ctx.say(done + teams_text(views))


TEAM_SUBCOMMANDS = ("list", "add", "rename", "remove", "join", "leave", "strategy", "group")


def team_request(args: str) -> tuple[str, str]:
    """``/teams``' subcommand (``list`` when none is given) and what follows it."""
    sub, _sep, rest = args.strip().partition(" ")
    sub = sub.lower() or "list"
    if sub not in TEAM_SUBCOMMANDS:
        raise InvalidInput("command", sub, teams.TEAM_USAGE)
    return sub, rest.strip()


@dataclass(frozen=True)
class _TeamsAsked:
    user: TelegramUser
    rest: str
    replied: TelegramUser | None
    groups: teams.GroupRules


async def _team_change(
    uow: AbstractUnitOfWork, sub: str, asked: _TeamsAsked
) -> tuple[list[str], list[teams.TeamView]]:
    """``/teams``' subcommand, run: the lines that say what was done, and the teams."""
    user, rest = asked.user, asked.rest
    match sub:
        case "list":
            return [], await teams.list_teams(uow, user)
        case "add":
            views = await teams.add_team(uow, user, rest)
        case "rename":
            views = await teams.rename_team(uow, user, rest)
        case "remove":
            orphans, views = await teams.remove_team(uow, user, rest)
            if orphans:
                text = _("Team removed; these categories have no team now: {keys}")
                return [text.format(keys=escape(",".join(orphans)))], views
        case "join" | "leave":
            views = await teams.set_membership(
                uow, user, rest, asked.replied, member=sub == "join"
            )
        case "strategy":
            views = await teams.set_strategy(uow, user, rest)
        case "group":
            views = await teams.set_group(uow, user, rest, asked.groups)
        case _:
            raise InvalidInput("command", sub, teams.TEAM_USAGE)
    return [_("Done.")], views


async def _team_group_menus(
    bot: Bot, uow: AbstractUnitOfWork, views: list[teams.TeamView], language: str
) -> None:
    """A team's group just set shows the agents' command menu at once (not after a restart)."""
    chats = {v.team.group_chat_id for v in views if v.team.group_chat_id is not None}
    i18n = I18n.get_current()
    assert i18n is not None, "I18n.set_current() is called at start-up"
    staff = await agents.staff(uow)
    await commands.publish(bot, i18n, sorted(chats), staff, language, customers=False)


def teams_text(views: list[teams.TeamView]) -> list[str]:
    """Each team with its members and group (what ``/teams`` answers after what was done)."""
    lines = []
    lines.append(
        "<b>" + _("Teams") + "</b>" if views else escape(_("No teams yet: /teams add <name>"))
    )
    for view in views:
        members = ", ".join(escape(a.name) for a in view.members) or "—"
        group = view.team.group_chat_id
        where = " · " + _("own group {chat}").format(chat=f"<code>{group}</code>") if group else ""
        lines.append(
            f"<b>{escape(view.team.name)}</b> · {strategy_label(view.team.strategy)}{where}"
            f"\n  {members}"
        )
    return lines


CATEGORY_USAGE = (
    "usage: /categories | add <key> [team] | team <key> <team|none> | title <key> <title> | "
    "remove <key>"
)


async def on_categories(message: Message, command: CommandObject, ctx: HandlerContext) -> None:
    """``/categories [add|team|title|remove]``: the categories and the team each routes to."""
    uow, user = ctx.uow, ctx.actor
    sub, key, value = category_request(command.args or "")
    match sub:
        case "list":
            shown = await categories.categories(uow, user)
        case "add":
            shown = await categories.add(uow, user, key, value)
        case "team":
            shown = await categories.route(uow, user, key, value)
        case "title":
            shown = await categories.retitle(uow, user, key, value or "")
        case _:  # "remove": category_request lets no other word through
            shown = await categories.remove(uow, user, key)
    await ctx.say(await categories_text(uow, shown, changed=sub != "list"))


def category_request(args: str) -> tuple[str, str, str | None]:
    """``/categories``' subcommand (``list`` when none is given), the category's key, and
    the team's name (None: no team) or the new title."""
    sub, _sep, rest = args.strip().partition(" ")
    key, _sep, value = rest.strip().partition(" ")
    sub, value = sub.lower() or "list", value.strip()
    if sub not in ("list", "add", "team", "title", "remove") or (sub == "team" and not value):
        raise InvalidInput("command", sub, CATEGORY_USAGE)
    if sub == "add":
        return sub, key, value or None
    if sub == "team":
        return sub, key, None if value.lower() in ("none", "-") else value
    return sub, key, value


async def categories_text(
    uow: AbstractUnitOfWork, shown: list[Category], *, changed: bool
) -> list[str]:
    names = {v.team.id: v.team.name for v in await teams.team_views(uow)}
    lines = [_("Done.")] if changed else []
    lines.append("<b>" + _("Categories") + "</b>")
    for c in shown:
        team = names.get(c.team_id, "—") if c.team_id else "—"
        lines.append(f"<code>{escape(c.key)}</code> · {escape(c.title)} → {escape(team)}")
    return lines


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_team, *desk_command("teams"))
    router.message.register(on_categories, *desk_command("categories"))
    return router
