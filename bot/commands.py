"""The desk's commands in one table: who may use each, the menus Telegram shows for them
(``setMyCommands`` per scope and language), the agents' ``/help`` and the one-line refusal.

The table is the single source: the menu, the help, the refusal and the handlers' role filters
(``bot.filters.desk_command``) read who may do what from it, so they cannot disagree. The use
cases check the role again (``bot.services.auth.require_agent``): a handler is not the only way
in (the REST API, the jobs, a test).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeChatMember,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.logs import get_logger
from bot.texts import SUPPORTED_LANGUAGES
from models import Role

log = get_logger(__name__)


@dataclass(frozen=True)
class DeskCommand:
    name: str
    #: The least role that may use the command at all (some subcommands need more; the
    #: services say so when refused).
    role: Role
    #: A lazy gettext text: rendered in each menu's and each reader's language.
    description: Any
    #: Used inside a ticket's topic (or as a reply to its card).
    in_ticket: bool = False
    #: Who the handler lets through, when that is more people than ``role``: any agent reaches
    #: ``/set``, and its use case refuses them naming the role ("This needs the admin role."),
    #: as it refuses an agent's ``/teams add``. None: the handler lets ``role`` through only,
    #: and everyone else gets the group's one-line refusal (``refusal``).
    reaches: Role | None = None

    @property
    def handler_role(self) -> Role:
        """The role the command's handler filter asks for."""
        return self.reaches or self.role


A, S, ADM = Role.AGENT, Role.SUPERVISOR, Role.ADMIN

DESK_COMMANDS: tuple[DeskCommand, ...] = (
    DeskCommand("help", A, __("what you may do here")),
    DeskCommand("note", A, __("an internal note (or start a message with //)"), True),
    DeskCommand("status", A, __("set the status: open, waiting, on hold, resolved"), True),
    DeskCommand("assign", A, __("assign: me, a @username or none"), True),
    DeskCommand("priority", A, __("set the priority: low, normal, high, urgent"), True),
    DeskCommand("team", A, __("move to a team"), True),
    DeskCommand("category", A, __("correct the category"), True),
    DeskCommand("resolve", A, __("mark resolved"), True),
    DeskCommand("close", A, __("close the ticket"), True),
    DeskCommand("reopen", A, __("reopen the ticket"), True),
    DeskCommand("history", A, __("the ticket's history"), True),
    DeskCommand("tag", A, __("add tags"), True),
    DeskCommand("untag", A, __("remove tags"), True),
    DeskCommand("merge", A, __("merge into another ticket of the customer"), True),
    DeskCommand("c", A, __("send a canned answer"), True),
    DeskCommand("detach", A, __("take a ticket out of its incident")),
    DeskCommand("link", A, __("link an email address to a Telegram customer")),
    DeskCommand("unlink", A, __("unlink an email address")),
    DeskCommand("ban", S, __("stop a customer's new tickets"), True),
    DeskCommand("unban", S, __("lift a ban"), True),
    DeskCommand("queue", A, __("active tickets: mine, unassigned, overdue…")),
    DeskCommand("ticket", A, __("a link to a ticket by number")),
    DeskCommand("search", A, __("search tickets and messages")),
    DeskCommand("away", A, __("get no new tickets for now")),
    DeskCommand("back", A, __("get new tickets again")),
    DeskCommand("canned", A, __("the canned answers")),
    DeskCommand("teams", A, __("teams and their members")),
    DeskCommand("categories", A, __("the categories")),
    DeskCommand("settings", ADM, __("the desk's settings")),
    DeskCommand("stats", S, __("statistics and charts")),
    DeskCommand("sla", S, __("SLA targets")),
    DeskCommand("hours", ADM, __("business hours")),
    DeskCommand("holiday", ADM, __("holidays")),
    DeskCommand("agent", ADM, __("register agents and their roles"), reaches=A),
    DeskCommand("set", ADM, __("change a setting"), reaches=A),
    DeskCommand("text", ADM, __("change the welcome texts"), reaches=A),
    DeskCommand("autoanswer", ADM, __("answer a category automatically"), reaches=A),
    DeskCommand("export", ADM, __("export the data (sent to you privately)")),
    DeskCommand("health", ADM, __("the desk's health")),
    DeskCommand("failed", ADM, __("calls that failed")),
    DeskCommand("model", ADM, __("the triage model")),
    DeskCommand("webhook", ADM, __("outgoing webhooks")),
    DeskCommand("apikey", ADM, __("REST API keys (the key is sent to you privately)")),
)
BY_NAME = {c.name: c for c in DESK_COMMANDS}

CUSTOMER_COMMANDS: tuple[tuple[str, Any], ...] = (
    ("start", __("start over")),
    ("help", __("how this works")),
    ("mytickets", __("your tickets")),
    ("new", __("start a new request")),
    ("language", __("change the language")),
)


def allowed(role: Role | None) -> list[DeskCommand]:
    """The commands ``role`` may use (None: someone who is not an agent: none but /help)."""
    if role is None:
        return [BY_NAME["help"]]
    return [c for c in DESK_COMMANDS if role.at_least(c.role)]


def who_may(role: Role) -> str:
    """The people a role stands for, in the current language."""
    if role is Role.ADMIN:
        return _("admins")
    if role is Role.SUPERVISOR:
        return _("supervisors and admins")
    return _("registered agents")


def refusal(name: str) -> str:
    """One line: who may use ``/name`` (in the current language)."""
    command = BY_NAME.get(name)
    needed = command.role if command is not None else Role.AGENT
    return _("Only {who} may use /{command}.").format(who=who_may(needed), command=name)


def help_text(role: Role | None) -> str:
    """The agents' ``/help``: what the caller's role may do, in the current language."""
    if role is None:
        return _(
            "This is the agents' group of the help desk. You are not registered as an agent: "
            "ask an admin to add you with /agent add."
        )
    role_name = {Role.AGENT: _("agent"), Role.SUPERVISOR: _("supervisor"), Role.ADMIN: _("admin")}
    mine = allowed(role)
    lines = [_("You are {role}. What you may do:").format(role=role_name[role]), ""]
    lines.append("<b>" + _("In a ticket's topic (or replying to its card)") + "</b>")
    lines += [f"/{c.name} — {c.description}" for c in mine if c.in_ticket]
    lines += ["", "<b>" + _("Anywhere in the group") + "</b>"]
    lines += [f"/{c.name} — {c.description}" for c in mine if not c.in_ticket]
    lines += ["", _("Anything else you write in a ticket's topic goes to the customer.")]
    return "\n".join(lines)


def _menu(entries: Iterable[tuple[str, Any]]) -> list[BotCommand]:
    return [BotCommand(command=name, description=str(text)) for name, text in entries]


async def publish(
    bot: Bot,
    i18n: I18n,
    agent_chat_ids: Iterable[int],
    staff: Iterable[tuple[int, Role]],
    default_language: str,
    *,
    customers: bool = True,
) -> int:
    """``setMyCommands`` for customers (private chats), each agents' group (the main one and
    the teams' own), and each supervisor and admin there, in every supported language plus the
    default; returns the calls made.

    A refused call is logged and skipped: the menu is a convenience, the desk works without it.
    """
    scopes: list[tuple[Any, list[tuple[str, Any]]]] = []
    if customers:  # off: only the menus of the groups given (a team's group just set)
        scopes.append((BotCommandScopeAllPrivateChats(), list(CUSTOMER_COMMANDS)))
    staff = list(staff)
    for agent_chat_id in agent_chat_ids:
        scopes.append(
            (
                BotCommandScopeChat(chat_id=agent_chat_id),
                [(c.name, c.description) for c in allowed(Role.AGENT)],
            )
        )
        for user_id, role in staff:
            if role is not Role.AGENT:
                scopes.append(
                    (
                        BotCommandScopeChatMember(chat_id=agent_chat_id, user_id=user_id),
                        [(c.name, c.description) for c in allowed(role)],
                    )
                )
    calls = 0
    for scope, entries in scopes:
        for language in ("", *SUPPORTED_LANGUAGES):
            with i18n.use_locale(language or default_language):
                commands = _menu(entries)
            try:
                await bot.set_my_commands(commands, scope=scope, language_code=language or None)
                calls += 1
            except TelegramAPIError as exc:
                log.warning("command menu refused", scope=scope.type, error=exc.message)
    return calls
