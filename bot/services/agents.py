"""Use cases about the agent registry."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from models import Agent, Role
from storage import AbstractUnitOfWork


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
