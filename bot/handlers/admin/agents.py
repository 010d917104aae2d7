"""``/agent add|remove|role|capacity``: admins register agents and their roles, in an agents'
group (by id, or replying to the person)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import Message

from bot.adapters.presenter import Presenter
from bot.filters import InAgentsGroup, desk_command
from bot.handlers.common import replied_person, telegram_user
from bot.services import agents
from bot.services.ports import AbstractUnitOfWork, Clock


async def on_agent_command(
    message: Message,
    command: CommandObject,
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    clock: Clock,
) -> None:
    """``/agent add [user id] [role]`` (or as a reply to the person): admins register agents."""
    assert message.from_user is not None
    await agents.agent_command(
        uow,
        presenter,
        actor=telegram_user(message.from_user),
        args=command.args or "",
        replied_user=replied_person(message),
        chat_id=message.chat.id,
        thread_id=message.message_thread_id if message.is_topic_message else None,
        now=clock.now(),
    )


def build_router(agent_chat_id: int) -> Router:
    router = Router(name=__name__)
    router.message.filter(InAgentsGroup(agent_chat_id))
    router.message.register(on_agent_command, *desk_command("agent"))
    return router
