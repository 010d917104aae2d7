"""Agents' tools in their group (and in a private chat with the bot): availability, queues,
ticket links, canned answers, teams, bans and the desk's runtime settings."""

from __future__ import annotations

from html import escape

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot import commands
from bot.adapters.chats import TelegramChats
from bot.adapters.labels import strategy_label
from bot.adapters.presenter import Presenter
from bot.callbacks import QueueCb
from bot.filters import HasRole, InAgentsGroup
from bot.handlers.common import answer, incoming, replied_person, telegram_user, where
from bot.services import agents, assignment, canned, desk_settings, teams, texts, tools
from bot.services.agent_messages import ticket_for_agent_message
from bot.services.conversation import DeskConfig
from bot.services.customers import tell
from bot.services.ports import AbstractUnitOfWork, Clock
from bot.texts import SUPPORTED_LANGUAGES
from models import Role


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


async def on_queue(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    clock: Clock,
) -> None:
    """``/queue [mine|unassigned|overdue|notsure|team <t>|tag <t>|all]``."""
    assert message.from_user is not None
    request = await tools.parse_queue(uow, command.args or "")
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


async def on_canned(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    desk_config: DeskConfig,
    clock: Clock,
) -> None:
    """``/canned add|list|del``."""
    assert message.from_user is not None
    replied = message.reply_to_message
    quoted = replied is not None and not replied.forum_topic_created
    args = (message.text or "").partition(" ")[2] if message.text else ""
    result = await canned.canned_command(
        uow,
        telegram_user(message.from_user),
        args or (command.args or ""),
        (replied.text or replied.caption) if quoted and replied is not None else None,
        desk_config.default_language,
        list(SUPPORTED_LANGUAGES),
        clock.now(),
    )
    chat, thread = where(message)
    if isinstance(result, list):
        calls = presenter.canned_list(chat, thread, result)
    else:
        removed = result.count if result.action == "removed" else None
        calls = presenter.canned_changed(chat, thread, result.key, removed)
    await tell(uow, calls, clock.now())


async def on_autoanswer(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    clock: Clock,
) -> None:
    """``/autoanswer <category> <key> [threshold]`` or ``/autoanswer <category> off``."""
    assert message.from_user is not None
    category, key, threshold = await canned.set_auto_answer(
        uow, telegram_user(message.from_user), command.args or ""
    )
    if key is None:
        text = _("Category “{category}” no longer answers automatically.")
    else:
        text = _(
            "Category “{category}” answers new tickets with “{key}” when triage is at least "
            "{threshold:.0%} sure."
        )
    chat, thread = where(message)
    line = text.format(category=escape(category), key=escape(key or ""), threshold=threshold or 0)
    await tell(uow, presenter.said(chat, thread, [line]), clock.now())


async def on_team(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    desk_config: DeskConfig,
    clock: Clock,
    bot: Bot,
) -> None:
    """``/teams list|add|rename|remove|join|leave|strategy|group``."""
    assert message.from_user is not None
    rules = teams.GroupRules(TelegramChats(bot), desk_config.agent_chat_id)
    done, views = await teams.team_command(
        uow, telegram_user(message.from_user), command.args or "", replied_person(message), rules
    )
    if done == "group":
        await _team_group_menus(bot, uow, views, desk_config.default_language)
    chat, thread = where(message)
    await tell(uow, presenter.said(chat, thread, teams_text(done, views)), clock.now())


async def _team_group_menus(
    bot: Bot, uow: AbstractUnitOfWork, views: list[teams.TeamView], language: str
) -> None:
    """A team's group just set shows the agents' command menu at once (not after a restart)."""
    chats = {v.team.group_chat_id for v in views if v.team.group_chat_id is not None}
    i18n = I18n.get_current()
    assert i18n is not None, "I18n.set_current() is called at start-up"
    staff = await agents.staff(uow)
    await commands.publish(bot, i18n, sorted(chats), staff, language, customers=False)


def teams_text(done: str, views: list[teams.TeamView]) -> list[str]:
    """What ``/teams`` answers: what was done, then each team with its members and group."""
    lines = []
    if done.startswith("removed:") and done != "removed:":
        lines.append(
            _("Team removed; these categories have no team now: {keys}").format(
                keys=escape(done.partition(":")[2])
            )
        )
    elif done != "list":
        lines.append(_("Done."))
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


async def on_ban(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    desk_config: DeskConfig,
    clock: Clock,
) -> None:
    """``/ban [telegram id] <reason>`` and ``/unban [telegram id]``."""
    ticket = await ticket_for_agent_message(uow, desk_config, incoming(message))
    chat, thread = where(message)
    assert message.from_user is not None
    await tools.ban(
        uow,
        presenter,
        telegram_user(message.from_user),
        ticket,
        command.args or "",
        chat,
        thread,
        clock.now(),
        banned=command.command == "ban",
    )


async def on_set(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    desk_config: DeskConfig,
    clock: Clock,
) -> None:
    """``/set <name> <value>`` and ``/settings``: the desk's configuration at a glance."""
    assert message.from_user is not None
    user = telegram_user(message.from_user)
    lines = []
    if command.command == "set":
        setting, value = await desk_settings.change(uow, user, command.args or "", clock.now())
        lines.append(_("{name} is now {value}.").format(name=setting.name, value=escape(value)))
    environment = {
        "reopen_window": f"{desk_config.reopen_window.total_seconds() / 3600:g}h",
        "sign_replies": "on" if desk_config.sign_replies else "off",
    }
    lines += overview_lines(await desk_settings.overview(uow, user, environment))
    chat, thread = where(message)
    await tell(uow, presenter.said(chat, thread, lines), clock.now())


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


async def on_categories(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    clock: Clock,
) -> None:
    """``/categories [add|team|title|remove]``."""
    assert message.from_user is not None
    done, categories = await teams.category_command(
        uow, telegram_user(message.from_user), command.args or ""
    )
    names = {v.team.id: v.team.name for v in await teams.team_views(uow)}
    lines = [] if done == "list" else [_("Done.")]
    lines.append("<b>" + _("Categories") + "</b>")
    for c in categories:
        team = names.get(c.team_id, "—") if c.team_id else "—"
        lines.append(f"<code>{escape(c.key)}</code> · {escape(c.title)} → {escape(team)}")
    chat, thread = where(message)
    await tell(uow, presenter.said(chat, thread, lines), clock.now())


async def on_text(
    message: Message,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    clock: Clock,
) -> None:
    """``/text welcome|registered <language>`` + the new wording, or ``reset``."""
    assert message.from_user is not None
    args = (message.text or "").partition(" ")[2]
    name, language, text = await texts.text_command(
        uow, telegram_user(message.from_user), args, list(SUPPORTED_LANGUAGES), clock.now()
    )
    if text is None:
        line = _("The {name} text in {language} is back to the built-in one.")
    else:
        line = _("The {name} text in {language} is saved.")
    line = line.format(name=name, language=language)
    chat, thread = where(message)
    await tell(uow, presenter.said(chat, thread, [line]), clock.now())


def build_router(agent_chat_id: int | None) -> Router:
    router = Router(name=__name__)
    agent = HasRole(Role.AGENT)
    router.message.register(on_availability, Command("away", "back"), agent)
    router.message.register(on_queue, Command("queue"), agent)
    router.message.register(on_ticket, Command("ticket"), agent)
    router.message.register(on_search, Command("search"), agent)
    router.message.register(on_canned, Command("canned"), agent)
    router.message.register(on_team, Command("teams"), agent)
    router.message.register(on_autoanswer, Command("autoanswer"), agent)
    router.message.register(on_set, Command("set", "settings"), agent)
    router.message.register(on_categories, Command("categories"), agent)
    router.message.register(on_text, Command("text"), agent)
    if agent_chat_id is not None:
        in_group = InAgentsGroup(agent_chat_id)
        router.message.register(on_ban, Command("ban", "unban"), in_group, agent)
    router.callback_query.register(on_queue_page, QueueCb.filter(), agent)
    return router
