"""The agents' ``/help`` and the answer to a desk command the caller may not use.

Registered last: a command reaches the refusal only when no handler took it, which is exactly
when the caller lacks the role (the handlers' filters let it fall through). The answer is one
line in the caller's language, at most once per ``REFUSAL_EVERY`` seconds per person, so the
bot cannot be made to flood the group.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.commands import BY_NAME, help_text, refusal
from bot.config import Settings
from bot.filters import HasRole, InAgentsGroup
from bot.handlers.errors import REFUSAL_EVERY
from bot.runtime.coordination import Coordinator
from bot.texts import pick_language, use_language
from models import Agent, Role


def caller_locale(message: Message, settings: Settings) -> AbstractContextManager[None]:
    """The caller's own language (texts addressed to one person), else the desk's."""
    user = message.from_user
    return use_language(
        pick_language(user.language_code if user else None, settings.default_language)
    )


async def _reply(message: Message, text: str) -> None:
    # Direct, not through the outbox: nothing changed, so nothing is lost if it fails.
    with contextlib.suppress(TelegramAPIError):
        await message.reply(text)


async def on_agent_help(message: Message, agent: Agent, settings: Settings) -> None:
    """``/help`` from an agent (in the group or privately): what their role may do."""
    with caller_locale(message, settings):
        text = help_text(agent.role)
    await _reply(message, text)


async def on_stranger_help(message: Message, settings: Settings) -> None:
    """``/help`` in the agents' group from someone who is not an agent."""
    with caller_locale(message, settings):
        text = help_text(None)
    await _reply(message, text)


async def on_refused(
    message: Message, command: CommandObject, settings: Settings, coordinator: Coordinator
) -> None:
    """A desk command nobody took: the caller lacks the role. One line, rate-limited."""
    assert message.from_user is not None
    if not await coordinator.claim_once(f"refusal:{message.from_user.id}", REFUSAL_EVERY):
        return
    with caller_locale(message, settings):
        text = refusal(command.command)
    await _reply(message, text)


def build_router() -> Router:
    """Agents' ``/help``, in the group or privately (before the customers' ``/help``)."""
    router = Router(name=__name__)
    router.message.register(on_agent_help, Command("help"), HasRole(Role.AGENT))
    return router


def build_fallback_router(agent_chat_id: int) -> Router:
    """In the agents' group, after every other handler: help for strangers, refusals."""
    router = Router(name=__name__ + ".fallback")
    in_group = InAgentsGroup(agent_chat_id)
    router.message.filter(in_group)
    router.message.register(on_stranger_help, Command("help"))
    router.message.register(on_refused, Command(*BY_NAME))
    return router
