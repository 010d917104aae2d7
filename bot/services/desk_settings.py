"""Settings admins change at run time (``/set``, ``/settings``), kept in the database.

Each setting has a parser that refuses bad values with a clear reason, and a default used until
an admin sets it. Environment settings stay for what the process needs before it can read the
database (token, URLs); what a help desk team tunes while working lives here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.services.auth import audit, require_agent
from bot.services.ports import TelegramUser
from bot.services.teams import TeamView, team_views
from models import Category, CollisionMode, InvalidInput, Role
from models.sla import parse_duration
from storage import AbstractUnitOfWork

_PREFIX = "setting:"


def _collision(text: str) -> CollisionMode:
    try:
        return CollisionMode(text.strip().lower())
    except ValueError:
        raise InvalidInput("collision", text, "expected warn or block") from None


def _duration(text: str) -> timedelta:
    try:
        value = parse_duration(text)
    except ValueError:
        raise InvalidInput("duration", text, "use e.g. 2m, 1h or 1h30m") from None
    if value > timedelta(days=1):
        raise InvalidInput("duration", text, "at most one day")
    return value


def _window(text: str) -> timedelta:
    if text.strip() in ("0", "0h"):
        return timedelta(0)
    try:
        value = parse_duration(text)
    except ValueError:
        raise InvalidInput("duration", text, "use e.g. 72h, 3d or 0 (no reopening)") from None
    if value > timedelta(days=90):
        raise InvalidInput("duration", text, "at most 90 days")
    return value


def _switch(text: str) -> bool:
    key = text.strip().lower()
    if key in ("on", "yes", "true", "1"):
        return True
    if key in ("off", "no", "false", "0"):
        return False
    raise InvalidInput("switch", text, "expected on or off")


def _delay(text: str) -> timedelta:
    if text.strip() in ("0", "off"):
        return timedelta(0)
    return _duration(text)


def _per_minute(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 1000:
        raise InvalidInput("limit", text, "a whole number of messages from 1 to 1000")
    return int(text)


def _surge_window(text: str) -> timedelta:
    try:
        value = parse_duration(text)
    except ValueError:
        raise InvalidInput("incident_window", text, "use e.g. 10m, 30m or 1h") from None
    if not timedelta(minutes=1) <= value <= timedelta(hours=24):
        raise InvalidInput("incident_window", text, "from 1 minute to 24 hours")
    return value


def _surge_size(text: str) -> int:
    value = text.strip().lower()
    if value in ("0", "off"):
        return 0
    if not value.isdigit() or not 2 <= int(value) <= 1000:
        raise InvalidInput(
            "incident_size", text, "a whole number of tickets from 2 to 1000, or off"
        )
    return int(value)


def _similarity(text: str) -> float:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        raise InvalidInput("incident_similarity", text, "a number such as 0.35") from None
    if not 0.05 <= value <= 0.95:
        raise InvalidInput("incident_similarity", text, "from 0.05 to 0.95")
    return value


@dataclass(frozen=True)
class RuntimeSetting:
    name: str
    parse: Callable[[str], Any]
    #: None: the environment's value (``HELPDESK_...``) until an admin sets one here.
    default: str | None
    help: str


SETTINGS = {
    s.name: s
    for s in [
        RuntimeSetting(
            "collision",
            _collision,
            "warn",
            "an agent answering someone else's ticket: warn (sent, with a warning) or block",
        ),
        RuntimeSetting(
            "double_reply_window",
            _duration,
            "2m",
            "two agents answering the same ticket within this time are flagged",
        ),
        RuntimeSetting(
            "reopen_window",
            _window,
            None,
            "a customer's message reopens a resolved ticket within this time (0: never)",
        ),
        RuntimeSetting(
            "sign_replies",
            _switch,
            None,
            "on: replies to customers end with the agent's first name",
        ),
        RuntimeSetting(
            "flood_per_minute",
            _per_minute,
            "20",
            "messages a customer may send per minute before being asked to slow down",
        ),
        RuntimeSetting(
            "group_delay_notice",
            _delay,
            "2m",
            "the agents' group hears (at most every 15 minutes) when its queue is this far "
            "behind (0: never)",
        ),
        RuntimeSetting(
            "incident_size",
            _surge_size,
            "5",
            "this many similar new tickets within incident_window form an incident (off: never)",
        ),
        RuntimeSetting(
            "incident_window",
            _surge_window,
            "10m",
            "how recent the similar tickets of an incident must be",
        ),
        RuntimeSetting(
            "incident_similarity",
            _similarity,
            "0.35",
            "how similar (cosine, 0-1) tickets must be to form or join an incident",
        ),
    ]
}


async def get(uow: AbstractUnitOfWork, name: str, fallback: Any = None) -> Any:
    """The parsed current value of a setting: what an admin set, else its default, else
    ``fallback`` (the environment's value)."""
    setting = SETTINGS[name]
    stored = await uow.desk_settings.get(_PREFIX + name)
    if stored is not None:
        try:
            return setting.parse(stored)
        except InvalidInput:
            pass  # a value stored by an older version that no longer parses: use the default
    return fallback if setting.default is None else setting.parse(setting.default)


async def current(
    uow: AbstractUnitOfWork, environment: dict[str, str] | None = None
) -> list[tuple[RuntimeSetting, str]]:
    """Every setting with its current value as text."""
    values = []
    for setting in SETTINGS.values():
        stored = await uow.desk_settings.get(_PREFIX + setting.name)
        shown = stored or setting.default or (environment or {}).get(setting.name, "")
        values.append((setting, shown))
    return values


@dataclass(frozen=True)
class Overview:
    """What ``/settings`` shows: every setting, the teams, the categories, agents by role."""

    settings: list[tuple[RuntimeSetting, str]]
    teams: list[TeamView]
    categories: list[Category]
    agents_by_role: dict[str, int]


async def overview(
    uow: AbstractUnitOfWork, actor: TelegramUser, environment: dict[str, str]
) -> Overview:
    """The desk's configuration at a glance, for an admin (``environment``: the values of
    settings that come from the environment until an admin sets them)."""
    await require_agent(uow, actor, Role.ADMIN)
    roles = Counter(str(agent.role) for agent in await uow.agents.list())
    return Overview(
        await current(uow, environment),
        await team_views(uow),
        await uow.categories.list(),
        dict(sorted(roles.items())),
    )


async def change(
    uow: AbstractUnitOfWork, actor: TelegramUser, name: str, value: str, now: datetime
) -> tuple[RuntimeSetting, str]:
    """Setting ``name`` to ``value``, by an admin: validated first, stored only when valid."""
    await require_agent(uow, actor, Role.ADMIN)
    setting = SETTINGS.get(name.lower())
    if setting is None:
        raise InvalidInput("setting", name, "known settings: " + ", ".join(SETTINGS))
    if not value:
        raise InvalidInput(setting.name, "", "give a value: " + setting.help)
    setting.parse(value)
    await uow.desk_settings.set(_PREFIX + setting.name, value)
    await uow.commit()
    audit("setting", actor, setting=setting.name, value=value)
    return setting, value
