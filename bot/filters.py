"""Filters that need the database: they pass only for agents with a role."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Command, Filter
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.commands import BY_NAME
from bot.services import groups
from bot.services.agent_messages import find_agent
from models import Role
from storage import AbstractUnitOfWork


def looks_like_command(message: Message) -> bool:
    """A first look for routers whose message handlers all take commands: any other message
    (a customer's text) skips their every filter at once instead of trying each command's."""
    text = message.text or message.caption
    return text is not None and text.startswith("/")


class HasRole(Filter):
    """Passes for registered, active agents with at least ``role``; injects ``agent``.

    Desk commands take theirs from ``bot/commands.py`` through :func:`desk_command`.

    Used where a command must fall through to other handlers for everyone else (a customer
    typing ``/health`` in a private chat is just writing to their ticket).
    """

    def __init__(self, role: Role) -> None:
        self.role = role

    async def __call__(
        self, event: TelegramObject, uow: AbstractUnitOfWork, **_: Any
    ) -> bool | dict[str, Any]:
        user = getattr(event, "from_user", None)
        if user is None:
            return False
        agent = await find_agent(uow, user.id)
        if agent is None or not agent.can(self.role):
            return False
        return {"agent": agent}


class InAgentsGroup(Filter):
    """Passes for messages and button presses in an agents' group: the desk's main group or a
    team's own group (the same handlers, and so the same rules, in each)."""

    def __init__(self, main_chat_id: int) -> None:
        self.main_chat_id = main_chat_id

    async def __call__(self, event: TelegramObject, uow: AbstractUnitOfWork, **_: Any) -> bool:
        if isinstance(event, CallbackQuery):
            chat = event.message.chat if event.message is not None else None
        else:
            chat = event.chat if isinstance(event, Message) else None
        return chat is not None and await groups.is_agents_group(uow, chat.id, self.main_chat_id)


def desk_command(name: str) -> tuple[Command, HasRole]:
    """The filters of the handler of ``/name``: the command, and the role ``bot/commands.py``
    declares for it (the one place where a command's role is written down)."""
    return Command(name), HasRole(BY_NAME[name].handler_role)
