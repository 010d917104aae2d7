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
TEXT_USAGE = (
    "usage: /text welcome|registered <language> with the new text on the next lines, "
    "or /text welcome|registered <language> reset"
)


def _key(name: str, language: str) -> str:
    return f"text:{name}:{language}"


async def custom_text(uow: AbstractUnitOfWork, name: str, language: str) -> str | None:
    """The admins' wording of a text in a language, if they set one."""
    return await uow.desk_settings.get(_key(name, language))


async def text_command(
    uow: AbstractUnitOfWork,
    actor: TelegramUser,
    args: str,
    languages: list[str],
    now: datetime,
) -> tuple[str, str, str | None]:
    """``/text <name> <language>`` + text, or ``reset``: returns (name, language, new text)."""
    await require_agent(uow, actor, Role.ADMIN)
    first, _, body = args.partition("\n")
    parts = first.split()
    if len(parts) < 2 or parts[0].lower() not in CUSTOM_TEXTS:
        raise InvalidInput("text", first[:40], TEXT_USAGE)
    name, language = parts[0].lower(), parts[1].lower()
    if language not in languages:
        raise InvalidInput("language", language, "expected one of: " + ", ".join(languages))
    if len(parts) > 2 and parts[2].lower() == "reset":
        await uow.desk_settings.delete(_key(name, language))
        text = None
    else:
        text = check_template(body, CUSTOM_TEXTS[name])
        await uow.desk_settings.set(_key(name, language), text)
    await uow.commit()
    audit("text", actor, text=name, language=language, reset=text is None)
    return name, language, text
