"""Use cases about the agent registry."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.logs import get_logger
from bot.services.auth import audit, require_agent
from bot.services.customers import queue
from bot.services.ports import Presenter, TelegramUser
from models import Agent, InvalidInput, Role
from models.ids import parse_id
from storage import AbstractUnitOfWork

log = get_logger(__name__)


async def staff(uow: AbstractUnitOfWork) -> list[tuple[int, Role]]:
    """Every agent's Telegram id and role (the command menus follow the roles)."""
    return [(a.telegram_id, a.role) for a in await uow.agents.list()]


async def ensure_admins(
    uow: AbstractUnitOfWork, telegram_ids: Iterable[int], now: datetime
) -> int:
    """Make the configured first admins agents with the admin role; returns how many were added.

    An existing agent listed there is promoted to admin and reactivated: the settings file is the
    operator's way back in when every admin was removed by mistake.
    """
    added = 0
    for telegram_id in telegram_ids:
        agent = await uow.agents.by_telegram_id(telegram_id)
        if agent is None:
            await uow.agents.add(
                Agent(
                    telegram_id=telegram_id, name=str(telegram_id), role=Role.ADMIN, created_at=now
                )
            )
            added += 1
        else:
            agent.role = Role.ADMIN
            agent.active = True
    await uow.commit()
    return added


AGENT_USAGE = (
    "usage: /agent add|remove|role <user id> [agent|supervisor|admin], "
    "/agent capacity <user id> <tickets|none>, or reply to the person"
)


async def agent_command(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    *,
    actor: TelegramUser,
    args: str,
    replied_user: TelegramUser | None,
    chat_id: int,
    thread_id: int | None,
    now: datetime,
) -> Agent:
    """``/agent add|remove|role``: the admin's agent registry."""
    await require_agent(uow, actor, Role.ADMIN)
    parts = args.split()
    if not parts or parts[0] not in ("add", "remove", "role", "capacity"):
        raise InvalidInput("command", args, AGENT_USAGE)
    sub, rest = parts[0], parts[1:]
    target_id: int | None = replied_user.id if replied_user else None
    if rest and (typed := parse_id(rest[0], signed=True)) is not None:
        rest.pop(0)
        target_id = typed
    if target_id is None:
        raise InvalidInput("user", args, AGENT_USAGE)
    if sub == "capacity":
        return await _set_capacity(uow, presenter, target_id, rest, chat_id, thread_id, now)
    role = Role.AGENT
    if rest:
        try:
            role = Role(rest[0].lower())
        except ValueError:
            raise InvalidInput("role", rest[0], "expected agent, supervisor or admin") from None
    agent = await uow.agents.by_telegram_id(target_id)
    if sub == "add":
        if agent is None:
            name = str(target_id)
            if replied_user is not None and replied_user.id == target_id:
                name = " ".join(p for p in (replied_user.first_name, replied_user.last_name) if p)
            agent = await uow.agents.add(
                Agent(
                    telegram_id=target_id,
                    name=name,
                    username=replied_user.username if replied_user else None,
                    role=role,
                    created_at=now,
                )
            )
        agent.active = True
        agent.role = role if rest else agent.role
    elif agent is None:
        raise InvalidInput("user", target_id, "is not a registered agent")
    elif sub == "remove":
        if agent.telegram_id == actor.id:
            raise InvalidInput("user", target_id, "you cannot remove yourself")
        agent.active = False
    else:
        agent.role = role
    await queue(uow, presenter.agent_changed(chat_id, thread_id, agent), now)
    await uow.commit()
    audit(f"agent {sub}", actor, agent=agent.telegram_id, role=agent.role, active=agent.active)
    return agent


async def _set_capacity(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    target_id: int,
    rest: list[str],
    chat_id: int,
    thread_id: int | None,
    now: datetime,
) -> Agent:
    """How many active tickets auto-assignment gives an agent at most (``none``: no limit)."""
    agent = await uow.agents.by_telegram_id(target_id)
    if agent is None or not agent.active:
        raise InvalidInput("user", target_id, "is not a registered agent")
    value = rest[0].lower() if rest else ""
    if value in ("none", "-", "off"):
        agent.capacity = None
    elif value.isdigit() and 1 <= int(value) <= 1000:
        agent.capacity = int(value)
    else:
        raise InvalidInput("capacity", value, "a number of tickets from 1 to 1000, or none")
    await queue(uow, presenter.agent_changed(chat_id, thread_id, agent), now)
    await uow.commit()
    log.info("agent capacity set", agent=agent.telegram_id, capacity=agent.capacity)
    return agent
