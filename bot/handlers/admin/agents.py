"""``/agent add|remove|role|capacity``: admins register agents and their roles, in an agents'
group (by id, or replying to the person)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import Message

from bot.context import HandlerContext
from bot.filters import InAgentsGroup, desk_command
from bot.handlers.common import replied_person
from bot.services import agents
from bot.services.ports import TelegramUser
from models import InvalidInput, Role
from models.ids import parse_id

AGENT_USAGE = (
    "usage: /agent add|remove|role <user id> [agent|supervisor|admin], "
    "/agent capacity <user id> <tickets|none>, or reply to the person"
)


async def on_agent_command(message: Message, command: CommandObject, ctx: HandlerContext) -> None:
    """``/agent add [user id] [role]`` (or as a reply to the person): admins register agents."""
    replied = replied_person(message)
    sub, target_id, rest = agent_request(command.args or "", replied)
    asked = agents.Asked(ctx.actor, target_id, *ctx.place)
    uow, presenter, now = ctx.uow, ctx.presenter, ctx.now()
    if sub == "add":
        await agents.add_agent(uow, presenter, asked, role(rest) if rest else None, replied, now)
    elif sub == "remove":
        await agents.remove_agent(uow, presenter, asked, now)
    elif sub == "role":
        await agents.set_role(uow, presenter, asked, role(rest) if rest else Role.AGENT, now)
    else:
        await agents.set_capacity(uow, presenter, asked, capacity(rest), now)


def agent_request(args: str, replied: TelegramUser | None) -> tuple[str, int, str]:
    """``/agent``'s subcommand, the person it is about (a typed id, else the person replied
    to) and what follows."""
    parts = args.split()
    if not parts or parts[0] not in ("add", "remove", "role", "capacity"):
        raise InvalidInput("command", args, AGENT_USAGE)
    sub, rest = parts[0], parts[1:]
    target_id = replied.id if replied else None
    if rest and (typed := parse_id(rest[0], signed=True)) is not None:
        rest.pop(0)
        target_id = typed
    if target_id is None:
        raise InvalidInput("user", args, AGENT_USAGE)
    return sub, target_id, rest[0] if rest else ""


def role(text: str) -> Role:
    try:
        return Role(text.lower())
    except ValueError:
        raise InvalidInput("role", text, "expected agent, supervisor or admin") from None


def capacity(text: str) -> int | None:
    """At most this many active tickets (None: no limit)."""
    value = text.lower()
    if value in ("none", "-", "off"):
        return None
    if value.isdigit() and 1 <= int(value) <= agents.MAX_CAPACITY:
        return int(value)
    limit = agents.MAX_CAPACITY
    raise InvalidInput("capacity", value, f"a number of tickets from 1 to {limit}, or none")


def build_router(agent_chat_id: int) -> Router:
    router = Router(name=__name__)
    router.message.filter(InAgentsGroup(agent_chat_id))
    router.message.register(on_agent_command, *desk_command("agent"))
    return router
