"""The router tree, scoped by audience: customers in private, agents in their group."""

from __future__ import annotations

from aiogram import Router

from bot.config import Settings
from bot.handlers import (
    admin,
    agents,
    customer,
    errors,
    help,
    incidents,
    links,
    similar,
    tools,
)
from bot.middlewares import context


def build_routers(settings: Settings) -> Router:
    root = Router(name="helpdesk")
    context.install(root)
    root.include_router(errors.build_router())
    root.include_router(admin.build_router(settings.agent_chat_id))
    root.include_router(tools.build_router())
    root.include_router(help.build_router())
    root.include_router(customer.build_router())
    if settings.agent_chat_id is not None:
        root.include_router(links.build_router(settings.agent_chat_id))
        root.include_router(incidents.build_router(settings.agent_chat_id))
        root.include_router(similar.build_router(settings.agent_chat_id))
        root.include_router(agents.build_router(settings.agent_chat_id))
        root.include_router(help.build_fallback_router(settings.agent_chat_id))
    return root
