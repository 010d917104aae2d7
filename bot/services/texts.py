"""Texts admins word themselves, per language: the greeting and the "ticket opened" answer."""

from __future__ import annotations

from datetime import datetime

from bot.services.auth import audit, require_agent
from bot.services.ports import TelegramUser
from models import InvalidInput, Role
from models.canned import check_template
from storage import AbstractUnitOfWork

#: Which texts can be replaced, and the placeholders each may use.
CUSTOM_TEXTS = {
    "welcome": ("name",),  # the answer to /start
    "registered": ("name", "ticket"),  # the automatic answer when a ticket opens
}


def _key(name: str, language: str) -> str:
    return f"text:{name}:{language}"


async def custom_text(uow: AbstractUnitOfWork, name: str, language: str) -> str | None:
    """The admins' wording of a text in a language, if they set one."""
    return await uow.desk_settings.get(_key(name, language))


async def set_text(
    uow: AbstractUnitOfWork,
    actor: TelegramUser,
    name: str,
    language: str,
    text: str | None,
    now: datetime,
) -> str | None:
    """An admin words text ``name`` in ``language`` (None: back to the built-in one); returns
    the stored wording."""
    await require_agent(uow, actor, Role.ADMIN)
    if name not in CUSTOM_TEXTS:
        raise InvalidInput("text", name, "expected one of: " + ", ".join(CUSTOM_TEXTS))
    if text is None:
        await uow.desk_settings.delete(_key(name, language))
    else:
        text = check_template(text, CUSTOM_TEXTS[name])
        await uow.desk_settings.set(_key(name, language), text)
    await uow.commit()
    audit("text", actor, text=name, language=language, reset=text is None)
    return text
