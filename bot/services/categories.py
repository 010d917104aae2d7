"""Admins shape the categories tickets are sorted into, and the team each one routes to.

The classifier's own categories are created at start-up; admins add their own (a correction to
a new category teaches the next model), route them to a team, retitle or remove them.
"""

from __future__ import annotations

import re

from bot.services.auth import audit, require_agent
from bot.services.ports import TelegramUser
from bot.services.teams import find_team
from models import Category, InvalidInput, Role
from storage import AbstractUnitOfWork

_KEY = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


async def categories(uow: AbstractUnitOfWork, actor: TelegramUser) -> list[Category]:
    """Every category, for agents."""
    await require_agent(uow, actor)
    return await uow.categories.list()


async def add(
    uow: AbstractUnitOfWork, actor: TelegramUser, key: str, team: str | None
) -> list[Category]:
    """A new category ``key``, routed to the team named ``team`` (None: no team)."""
    key = await _admin_key(uow, actor, key)
    if await uow.categories.by_key(key) is not None:
        raise InvalidInput("category", key, "exists already")
    found = await find_team(uow, team) if team else None
    await uow.categories.add(Category(key=key, title=key, team_id=found.id if found else None))
    return await _saved(uow, actor, "category add", key, team or "")


async def route(
    uow: AbstractUnitOfWork, actor: TelegramUser, key: str, team: str | None
) -> list[Category]:
    """Category ``key`` routes to the team named ``team`` from now on (None: to no team)."""
    category = await _existing(uow, await _admin_key(uow, actor, key))
    found = await find_team(uow, team) if team is not None else None
    category.team_id = found.id if found else None
    return await _saved(uow, actor, "category team", category.key, team or "none")


async def retitle(
    uow: AbstractUnitOfWork, actor: TelegramUser, key: str, title: str
) -> list[Category]:
    category = await _existing(uow, await _admin_key(uow, actor, key))
    if not title or len(title) > 128:
        raise InvalidInput("title", title, "1 to 128 characters")
    category.title = title
    return await _saved(uow, actor, "category title", category.key, title)


async def remove(uow: AbstractUnitOfWork, actor: TelegramUser, key: str) -> list[Category]:
    category = await _existing(uow, await _admin_key(uow, actor, key))
    await uow.categories.remove(category)
    return await _saved(uow, actor, "category remove", category.key, "")


async def _admin_key(uow: AbstractUnitOfWork, actor: TelegramUser, key: str) -> str:
    await require_agent(uow, actor, Role.ADMIN)
    key = key.lower()
    if not _KEY.fullmatch(key):
        raise InvalidInput("category", key, "a key is one lower-case word, like billing")
    return key


async def _existing(uow: AbstractUnitOfWork, key: str) -> Category:
    category = await uow.categories.by_key(key)
    if category is None:
        keys = ", ".join(c.key for c in await uow.categories.list()) or "none yet"
        raise InvalidInput("category", key, f"unknown category; categories: {keys}")
    return category


async def _saved(
    uow: AbstractUnitOfWork, actor: TelegramUser, action: str, key: str, value: str
) -> list[Category]:
    await uow.commit()
    audit(action, actor, category=key, value=value)
    return await uow.categories.list()
