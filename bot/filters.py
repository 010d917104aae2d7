"""Filters that need the database: they pass only for agents with a role."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.services.agent_messages import find_agent
from models import Role
from storage import AbstractUnitOfWork


class HasRole(Filter):
    """Passes for registered, active agents with at least ``role``; injects ``agent``.

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
