"""Who may do what: the agent registry decides."""

from __future__ import annotations

from bot.logs import get_logger
from bot.services.ports import TelegramUser
from models import Agent, NotAllowed, Role
from storage import AbstractUnitOfWork

_log = get_logger("bot.audit")


async def require_agent(
    uow: AbstractUnitOfWork, user: TelegramUser, needed: Role = Role.AGENT
) -> Agent:
    """The registered, active agent behind ``user`` with at least the ``needed`` role."""
    agent = await uow.agents.by_telegram_id(user.id)
    if agent is None or not agent.active:
        raise NotAllowed(f"requires role {needed}")
    if not agent.can(needed):
        raise NotAllowed(f"requires role {needed}", role=str(needed))
    # Keep the registry's names fresh: admins from the settings start with their id as name.
    agent.name = " ".join(p for p in (user.first_name, user.last_name) if p)
    agent.username = user.username
    agent.language = user.language_code or agent.language
    return agent


def audit(action: str, actor: TelegramUser, **details: object) -> None:
    """Log a configuration change with who made it (the desk's audit trail)."""
    _log.info("configuration changed", action=action, by=actor.id, **details)
