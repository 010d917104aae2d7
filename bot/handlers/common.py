"""Small helpers shared by the handler modules."""

from __future__ import annotations

from aiogram.types import User

from bot.services.ports import TelegramUser


def telegram_user(user: User) -> TelegramUser:
    return TelegramUser(
        id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )
