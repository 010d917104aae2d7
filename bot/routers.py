"""The router tree, scoped by audience."""

from __future__ import annotations

from aiogram import Router

from bot.config import Settings
from bot.handlers import customer


def build_routers(settings: Settings) -> Router:
    root = Router(name="helpdesk")
    root.include_router(customer.router)
    return root
