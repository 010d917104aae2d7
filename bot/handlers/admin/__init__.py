"""Every admin and supervisor command, one router per concern.

A new admin command is a handler in the module of its concern (or a new module, included
below), registered with its ``Command`` filter and the role it needs; its role is also in
``bot/commands.py`` (menus, ``/help``, refusals) and checked again in its use case.
"""

from __future__ import annotations

from aiogram import Router

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
