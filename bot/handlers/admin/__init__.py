"""Every admin and supervisor command, one router per concern.

A new admin command is one line in ``bot/commands.py`` (its role: the only place it is
written) and one handler in the module of its concern (or a new module, included below),
registered with ``*desk_command("name")``: the ``Command`` filter and the role filter the table
declares. The handler parses the arguments into typed values, its use case checks the role
again, and the answer goes through the outbox (``ctx.say``, an ``AnswerHere``).
"""

from __future__ import annotations

from aiogram import Router

from bot.filters import looks_like_command
from bot.handlers.admin import (
    agents,
    bans,
    canned,
    diagnostics,
    integrations,
    reports,
    settings,
    sla,
    teams,
)


def build_router(agent_chat_id: int | None) -> Router:
    """The admin routers; those that work only in an agents' group need its id."""
    router = Router(name=__name__)
    router.message.filter(looks_like_command)
    router.include_routers(
        diagnostics.build_router(),
        sla.build_router(),
        settings.build_router(),
        teams.build_router(),
        canned.build_router(),
        reports.build_router(),
        integrations.build_router(),
    )
    if agent_chat_id is not None:
        router.include_routers(
            agents.build_router(agent_chat_id), bans.build_router(agent_chat_id)
        )
    return router
