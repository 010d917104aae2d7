"""The bot's view of a chat (implements the ChatInspector port): ``getChat`` and the bot's own
membership there, read the same way at start-up (the main group) and by ``/teams group``."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

from bot.services.ports import ChatFacts


async def read_chat(bot: Bot, chat_id: int) -> ChatFacts:
    """The chat's type and topics, the bot's status and rights there (a chat the bot cannot
    see raises ``TelegramBadRequest`` or ``TelegramForbiddenError``)."""
    chat = await bot.get_chat(chat_id)
    member = await bot.get_chat_member(chat_id, bot.id)
    rights = frozenset(
        key for key, value in member.model_dump().items() if key.startswith("can_") and value
    )
    return ChatFacts(chat.type, bool(chat.is_forum), member.status, rights)


@dataclass(frozen=True)
class TelegramChats:
    bot: Bot

    async def inspect(self, chat_id: int) -> ChatFacts | None:
        try:
            return await read_chat(self.bot, chat_id)
        except (TelegramBadRequest, TelegramForbiddenError):
            return None
