"""Small pieces every renderer uses: inline keyboards as Bot API JSON, mentions of agents."""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram.utils.keyboard import InlineKeyboardBuilder

from models import Agent


def markup(builder: InlineKeyboardBuilder) -> dict[str, Any]:
    """An inline keyboard as the Bot API's JSON (stored with its call in the outbox)."""
    return builder.as_markup().model_dump(mode="json", exclude_none=True)


def mention(agent: Agent) -> str:
    """An agent's name that notifies them (HTML)."""
    return f'<a href="tg://user?id={agent.telegram_id}">{escape(agent.name)}</a>'
