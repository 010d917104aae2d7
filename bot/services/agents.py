"""Use cases about the agent registry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.logs import get_logger
from bot.services.auth import audit, require_agent
from bot.services.customers import queue
from bot.services.ports import Presenter, TelegramUser
from models import Agent, InvalidInput, Role
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


@dataclass(frozen=True)
class Asked:
    """An admin's request about one person: who asks, about whom (a Telegram id), and where
    the answer goes."""

    actor: TelegramUser
    target_id: int
    chat_id: int
    thread_id: int | None


async def add_agent(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    asked: Asked,
    role: Role | None,
    known: TelegramUser | None,
    now: datetime,
) -> Agent:
    """An admin registers the person as an agent with ``role`` (None: a new agent is an
    agent, a known one keeps theirs), or brings a removed one back; ``known``: the person as
    Telegram showed them (their name), when the command replied to them."""
    await require_agent(uow, asked.actor, Role.ADMIN)
    agent = await uow.agents.by_telegram_id(asked.target_id)
    if agent is None:
        person = known if known is not None and known.id == asked.target_id else None
        name = " ".join(p for p in (person.first_name, person.last_name) if p) if person else ""
        agent = await uow.agents.add(
            Agent(
                telegram_id=asked.target_id,
                name=name or str(asked.target_id),
                username=person.username if person else None,
                role=role or Role.AGENT,
                created_at=now,
            )
        )
    agent.active = True
    agent.role = role or agent.role
    return await _changed(uow, presenter, asked, agent, "agent add", now)


async def remove_agent(
    uow: AbstractUnitOfWork, presenter: Presenter, asked: Asked, now: datetime
) -> Agent:
    """An admin removes an agent (not themselves): they keep their history, lose their role."""
    await require_agent(uow, asked.actor, Role.ADMIN)
    agent = await _registered(uow, asked.target_id, active_only=False)
    if agent.telegram_id == asked.actor.id:
        raise InvalidInput("user", asked.target_id, "you cannot remove yourself")
    agent.active = False
    return await _changed(uow, presenter, asked, agent, "agent remove", now)


async def set_role(
    uow: AbstractUnitOfWork, presenter: Presenter, asked: Asked, role: Role, now: datetime
) -> Agent:
    """An admin gives an agent another role."""
    await require_agent(uow, asked.actor, Role.ADMIN)
    agent = await _registered(uow, asked.target_id, active_only=False)
    agent.role = role
    return await _changed(uow, presenter, asked, agent, "agent role", now)


#: The most active tickets an agent's capacity may name.
MAX_CAPACITY = 1000


async def set_capacity(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    asked: Asked,
    capacity: int | None,
    now: datetime,
) -> Agent:
    """How many active tickets auto-assignment gives an agent at most (None: no limit)."""
    await require_agent(uow, asked.actor, Role.ADMIN)
    if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput("capacity", capacity, f"a number of tickets from 1 to {MAX_CAPACITY}")
    agent = await _registered(uow, asked.target_id, active_only=True)
    agent.capacity = capacity
    await queue(uow, presenter.agent_changed(asked.chat_id, asked.thread_id, agent), now)
    await uow.commit()
    log.info("agent capacity set", agent=agent.telegram_id, capacity=agent.capacity)
    return agent


async def _registered(uow: AbstractUnitOfWork, telegram_id: int, *, active_only: bool) -> Agent:
    agent = await uow.agents.by_telegram_id(telegram_id)
    if agent is None or (active_only and not agent.active):
        raise InvalidInput("user", telegram_id, "is not a registered agent")
    return agent


async def _changed(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    asked: Asked,
    agent: Agent,
    action: str,
    now: datetime,
) -> Agent:
    await queue(uow, presenter.agent_changed(asked.chat_id, asked.thread_id, agent), now)
    await uow.commit()
    audit(action, asked.actor, agent=agent.telegram_id, role=agent.role, active=agent.active)
    return agent
