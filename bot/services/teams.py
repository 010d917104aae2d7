"""Admins shape the teams: names, members and how new tickets are assigned."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.agent_chat import Shortfall, assess
from bot.services.assignment import parse_strategy
from bot.services.auth import audit, require_agent
from bot.services.ports import ChatInspector, TelegramUser
from models import (
    Agent,
    AssignStrategy,
    GroupProblem,
    GroupRefused,
    InvalidInput,
    Role,
    Team,
)
from models.ids import parse_id
from storage import AbstractUnitOfWork

TEAM_USAGE = (
    "usage: /teams list | add <name> | rename <name> <new name> | remove <name> | "
    "join <name> [user id] | leave <name> [user id] | strategy <name> manual|round_robin|"
    "least_open | group <name> <chat id>|off"
)
NAME_MAX = 64


@dataclass(frozen=True)
class TeamView:
    team: Team
    members: list[Agent]


def _name(text: str) -> str:
    name = " ".join(text.split())
    if not name or len(name) > NAME_MAX or name.lower() in ("none", "-"):
        raise InvalidInput("team", text, f"a team name is 1 to {NAME_MAX} characters")
    return name


async def find_team(uow: AbstractUnitOfWork, name: str) -> Team:
    """The team called ``name``; an unknown name is refused with the list of teams."""
    team = await uow.teams.by_name(name)
    if team is None:
        names = ", ".join(t.name for t in await uow.teams.list()) or "none yet"
        raise InvalidInput("team", name, f"unknown team; teams: {names}")
    return team


@dataclass(frozen=True)
class GroupRules:
    """What ``/teams group`` needs to verify a chat: the bot's view of chats, and the desk's
    main group (which is no team's own group)."""

    chats: ChatInspector
    main_chat_id: int


async def list_teams(uow: AbstractUnitOfWork, actor: TelegramUser) -> list[TeamView]:
    """Every team with its members, for agents."""
    await require_agent(uow, actor)
    return await team_views(uow)


async def add_team(uow: AbstractUnitOfWork, actor: TelegramUser, name: str) -> list[TeamView]:
    await require_agent(uow, actor, Role.ADMIN)
    name = _name(name)
    if await uow.teams.by_name(name) is not None:
        raise InvalidInput("team", name, "exists already")
    await uow.teams.add(Team(name=name))
    return await _saved(uow, actor, "team add", name)


async def rename_team(uow: AbstractUnitOfWork, actor: TelegramUser, text: str) -> list[TeamView]:
    """``text``: the team's name, then its new one."""
    await require_agent(uow, actor, Role.ADMIN)
    team, new = await _team_and_rest(uow, text)
    new_name = _name(new)
    other = await uow.teams.by_name(new_name)
    if other is not None and other.id != team.id:
        raise InvalidInput("team", new_name, "exists already")
    team.name = new_name
    return await _saved(uow, actor, "team rename", text)


async def remove_team(
    uow: AbstractUnitOfWork, actor: TelegramUser, name: str
) -> tuple[list[str], list[TeamView]]:
    """Returns the keys of the categories left without a team, and the teams."""
    await require_agent(uow, actor, Role.ADMIN)
    team = await find_team(uow, name)
    in_use = [c for c in await uow.categories.list() if c.team_id == team.id]
    for category in in_use:
        # Loaded here, so written back at commit: with the team they had, that write would
        # point at the deleted team.
        category.team_id = None
    await uow.teams.remove(team)
    # Tickets of the team keep working without one (the database sets their team to none);
    # the admin is told which categories lost their team.
    return [c.key for c in in_use], await _saved(uow, actor, "team remove", name)


async def set_membership(
    uow: AbstractUnitOfWork,
    actor: TelegramUser,
    text: str,
    replied_user: TelegramUser | None,
    *,
    member: bool,
) -> list[TeamView]:
    """``text``: the team's name, then an agent's Telegram id or username (else the person
    replied to, else the admin); ``member``: joins, else leaves."""
    await require_agent(uow, actor, Role.ADMIN)
    team, who = await _team_and_rest(uow, text, optional=True)
    agent = await _agent(uow, who, replied_user, actor)
    if member and team.id not in agent.team_ids:
        agent.team_ids = sorted([*agent.team_ids, team.id])  # type: ignore[list-item]
    elif not member:
        agent.team_ids = [t for t in agent.team_ids if t != team.id]
    return await _saved(uow, actor, "team join" if member else "team leave", text)


async def set_strategy(uow: AbstractUnitOfWork, actor: TelegramUser, text: str) -> list[TeamView]:
    """``text``: the team's name, then how its new tickets are assigned."""
    await require_agent(uow, actor, Role.ADMIN)
    team, value = await _team_and_rest(uow, text)
    team.strategy = parse_strategy(value)
    return await _saved(uow, actor, "team strategy", text)


async def set_group(
    uow: AbstractUnitOfWork, actor: TelegramUser, text: str, groups: GroupRules
) -> list[TeamView]:
    """``text``: the team's name, then its own group's chat id, or ``off``."""
    await require_agent(uow, actor, Role.ADMIN)
    team, value = await _team_and_rest(uow, text)
    team.group_chat_id = await _verified_group(groups, value)
    return await _saved(uow, actor, "team group", text)


async def _saved(
    uow: AbstractUnitOfWork, actor: TelegramUser, action: str, args: str
) -> list[TeamView]:
    await uow.commit()
    audit(action, actor, args=args)
    return await team_views(uow)


async def _verified_group(rules: GroupRules, value: str) -> int | None:
    """The chat id ``value`` names, once it is proven a group the desk can work in like the
    main one (a forum supergroup where the bot is an administrator that manages topics);
    None for ``off``. Each failure is refused with its own reason."""
    if value.lower() in ("off", "none", "-"):
        return None
    chat_id = parse_id(value, signed=True)
    if chat_id is None or chat_id >= 0:
        raise InvalidInput(
            "group", value, "a group's chat id is a negative number, like -1001234567890"
        )
    if chat_id == rules.main_chat_id:
        raise GroupRefused(chat_id, GroupProblem.MAIN_GROUP)
    facts = await rules.chats.inspect(chat_id)
    if facts is None or facts.status in ("left", "kicked"):
        raise GroupRefused(chat_id, GroupProblem.UNSEEN)
    if facts.kind != "supergroup":
        raise GroupRefused(chat_id, GroupProblem.NOT_SUPERGROUP)
    check = assess(is_forum=facts.is_forum, status=facts.status, rights=set(facts.rights))
    for shortfall, problem in (
        (Shortfall.NOT_ADMIN, GroupProblem.NOT_ADMIN),
        (Shortfall.NO_TOPICS, GroupProblem.NOT_FORUM),
        (Shortfall.CANNOT_MANAGE_TOPICS, GroupProblem.CANNOT_MANAGE_TOPICS),
    ):
        if shortfall in check.shortfalls:
            raise GroupRefused(chat_id, problem)
    return chat_id


async def _team_and_rest(
    uow: AbstractUnitOfWork, text: str, *, optional: bool = False
) -> tuple[Team, str]:
    """A team name that may have spaces, followed by one more argument: the longest known
    team name at the start wins."""
    words = text.split()
    for cut in range(len(words), 0, -1):
        team = await uow.teams.by_name(" ".join(words[:cut]))
        if team is not None:
            rest = " ".join(words[cut:])
            if not rest and not optional:
                raise InvalidInput("value", text, TEAM_USAGE)
            return team, rest
    return await find_team(uow, text), ""


async def _agent(
    uow: AbstractUnitOfWork, who: str, replied: TelegramUser | None, actor: TelegramUser
) -> Agent:
    if (user_id := parse_id(who, signed=True)) is not None:
        agent = await uow.agents.by_telegram_id(user_id)
    elif who:
        agent = await uow.agents.by_username(who)
    else:
        agent = await uow.agents.by_telegram_id((replied or actor).id)
    if agent is None or not agent.active:
        raise InvalidInput("agent", who or "?", "is not a registered agent")
    return agent


async def team_views(uow: AbstractUnitOfWork) -> list[TeamView]:
    agents = await uow.agents.list()
    return [
        TeamView(team, [a for a in agents if team.id in a.team_ids])
        for team in await uow.teams.list()
    ]


__all__ = [
    "TEAM_USAGE",
    "AssignStrategy",
    "GroupRules",
    "TeamView",
    "add_team",
    "list_teams",
    "remove_team",
    "rename_team",
    "set_group",
    "set_membership",
    "set_strategy",
    "team_views",
]
