"""Agents at work in their group: messages, notes, commands and card buttons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from bot.services import assignment, incidents, tools
from bot.services.agent_messages import (
    agent_edited,
    agent_message,
    send_canned,
    ticket_for_agent_message,
)
from bot.services.auth import require_agent
from bot.services.conversation import DeskConfig, Incoming
from bot.services.customers import queue
from bot.services.finality import refuse_if_merged
from bot.services.ports import HistoryNames, Presenter
from bot.services.teams import find_team
from bot.services.ticket_changes import (
    assign,
    change_status,
    load_ticket,
    mark_out_of_scope,
    set_category,
    set_priority,
    set_team,
)
from models import (
    Agent,
    InvalidInput,
    NoTicketHere,
    Priority,
    Team,
    Ticket,
    TicketStatus,
    parse_status,
)
from models.ids import parse_id
from storage import AbstractUnitOfWork

T = TypeVar("T")
NOTE_PREFIX = "//"
TICKET_COMMANDS = (
    "note",
    "status",
    "assign",
    "team",
    "priority",
    "category",
    "close",
    "reopen",
    "resolve",
    "history",
    "tag",
    "untag",
    "merge",
    "c",
)


async def agent_writes(
    uow: AbstractUnitOfWork, presenter: Presenter, config: DeskConfig, msg: Incoming, now: datetime
) -> bool:
    """A message in the agents' group: in a ticket it goes to the customer (or stays as a note).

    Messages outside any ticket (chatter in the General topic) are left alone. Returns whether
    the message belonged to a ticket.
    """
    ticket = await ticket_for_agent_message(uow, config, msg)
    if ticket is None:
        incident = await incidents.for_agent_message(uow, msg)
        if incident is not None:
            agent = await require_agent(uow, msg.user)
            await incidents.agent_writes(uow, presenter, agent, incident, msg, now)
            return True
        await _learn_name(uow, msg)
        return False
    agent = await require_agent(uow, msg.user)
    note = (msg.text or "").lstrip().startswith(NOTE_PREFIX)
    stored = await agent_message(uow, presenter, config, agent, ticket, msg, now, note=note)
    if note and stored is not None:
        await _acknowledge(uow, presenter, msg, now, note=True)
    return True


async def _acknowledge(
    uow: AbstractUnitOfWork, presenter: Presenter, msg: Incoming, now: datetime, *, note: bool
) -> None:
    """A reaction on the agent's own message: the change was made (the card is far up)."""
    await queue(uow, presenter.acknowledged(msg.chat_id, msg.message_id, note=note), now)
    await uow.commit()


async def _learn_name(uow: AbstractUnitOfWork, msg: Incoming) -> None:
    """Chatter outside tickets changes nothing, except that an agent registered by id (name
    unknown) gets their Telegram name, so cards and lists show it, and an agent's language is
    kept up to date for the messages addressed to them alone."""
    agent = await uow.agents.by_telegram_id(msg.user.id)
    if agent is None or not agent.active:
        return
    new_language = msg.user.language_code and msg.user.language_code != agent.language
    if agent.name == str(agent.telegram_id) or new_language:
        await require_agent(uow, msg.user)  # refreshes name and username
        await uow.commit()


async def agent_edits(
    uow: AbstractUnitOfWork, presenter: Presenter, msg: Incoming, now: datetime
) -> bool:
    await require_agent(uow, msg.user)
    return await agent_edited(uow, presenter, msg, now)


def parse_priority(text: str) -> Priority:
    key = text.strip().lower()
    try:
        return Priority(key)
    except ValueError:
        raise InvalidInput("priority", text, "expected one of: " + ", ".join(Priority)) from None


async def ticket_command(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    config: DeskConfig,
    msg: Incoming,
    name: str,
    args: str | None,
    now: datetime,
) -> bool:
    """One of the ticket commands typed in a ticket's topic; returns whether anything changed
    (and then the command is acknowledged with a reaction)."""
    agent = await require_agent(uow, msg.user)
    ticket = await ticket_for_agent_message(uow, config, msg, follow_merges=False)
    if ticket is None:
        raise NoTicketHere()
    await refuse_if_merged(uow, ticket)
    command = _Command(name, (args or "").strip(), msg, agent, ticket)
    changed = await _run(uow, presenter, config, command, now)
    if changed:
        await _acknowledge(uow, presenter, msg, now, note=name == "note")
    return changed


@dataclass(frozen=True)
class _Command:
    """A ticket command as typed: its name and argument, by whom, in which ticket."""

    name: str
    arg: str
    msg: Incoming
    agent: Agent
    ticket: Ticket


async def _run(
    uow: AbstractUnitOfWork, presenter: Presenter, config: DeskConfig, c: _Command, now: datetime
) -> bool:
    name, arg, msg, agent, ticket = c.name, c.arg, c.msg, c.agent, c.ticket
    if name == "note":
        if not arg:
            raise InvalidInput("note", "", "write the note after /note")
        note = replace(msg, text=arg)
        return (
            await agent_message(uow, presenter, config, agent, ticket, note, now, note=True)
            is not None
        )
    if name in ("status", "close", "reopen", "resolve"):
        target = {
            "close": TicketStatus.CLOSED,
            "reopen": TicketStatus.OPEN,
            "resolve": TicketStatus.RESOLVED,
        }.get(name) or _required(arg, "status", parse_status)
        return await change_status(uow, presenter, agent, ticket, target, now)
    if name == "priority":
        priority = _required(arg, "priority", parse_priority)
        return await set_priority(uow, presenter, agent, ticket, priority, now)
    if name == "assign":
        return await assign(uow, presenter, agent, ticket, await _assignee(uow, agent, arg), now)
    if name == "team":
        return await set_team(uow, presenter, agent, ticket, await _team(uow, arg), now)
    if name == "category":
        category = await uow.categories.by_key(arg) if arg else None
        if category is None:
            keys = ", ".join(c.key for c in await uow.categories.list()) or "none yet"
            raise InvalidInput("category", arg, f"unknown category; categories: {keys}")
        return await set_category(uow, presenter, agent, ticket, category, now)
    if name == "history":
        await _history(uow, presenter, ticket, msg, now)
        return False
    if name in ("tag", "untag"):
        return bool(
            await tools.tag(uow, presenter, agent, ticket, arg, now, remove=name == "untag")
        )
    if name == "merge":
        await tools.merge(uow, presenter, agent, ticket, arg, now)
        return True
    if name == "c":
        if not arg:
            raise InvalidInput("key", "", "usage: /c <key>; /canned list shows the keys")
        return await send_canned(uow, presenter, config, agent, ticket, arg, now) is not None
    raise InvalidInput("command", name, "unknown ticket command")


def _required(arg: str, field: str, parse: Callable[[str], T]) -> T:
    if not arg:
        raise InvalidInput(field, "", f"give a {field}")
    return parse(arg)


async def _assignee(uow: AbstractUnitOfWork, me: Agent, arg: str) -> Agent | None:
    if arg in ("", "me"):
        return me
    if arg.lower() in ("none", "nobody", "-"):
        return None
    user_id = parse_id(arg)
    agent = (
        await uow.agents.by_telegram_id(user_id)
        if user_id is not None
        else await uow.agents.by_username(arg)
    )
    if agent is None or not agent.active:
        raise InvalidInput("agent", arg, "is not a registered agent")
    return agent


async def _team(uow: AbstractUnitOfWork, arg: str) -> Team | None:
    if not arg:
        raise InvalidInput("team", "", "give a team name, or 'none'")
    if arg.lower() in ("none", "-"):
        return None
    return await find_team(uow, arg)


async def _history(
    uow: AbstractUnitOfWork, presenter: Presenter, ticket: Ticket, msg: Incoming, now: datetime
) -> None:
    merged = await uow.events.merged_into(ticket.id)  # type: ignore[arg-type]
    events = list(await uow.events.for_tickets([ticket.id, *merged]))  # type: ignore[list-item]
    customer = await uow.customers.get(ticket.customer_id)
    numbers = {ticket.id: ticket.number}
    for ticket_id in merged:
        other = await uow.tickets.get(ticket_id)
        if other is not None:
            numbers[ticket_id] = other.number
    names = HistoryNames(
        customer=customer.display_name if customer else "?",
        agents={a.id: a.name for a in await uow.agents.list(active_only=False) if a.id},
        teams={t.id: t.name for t in await uow.teams.list() if t.id},
        numbers=numbers,  # type: ignore[arg-type]
        api_keys={k.id: k.name for k in await uow.apikeys.list(include_revoked=True) if k.id},
    )
    calls = presenter.history(ticket, events, names, msg.user.language_code)
    await queue(uow, calls, now)
    await uow.commit()


async def card_button(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    user_agent: Agent,
    config: DeskConfig,
    ticket_id: int,
    action: str,
    value: str,
    now: datetime,
) -> bool:
    """A button on a ticket card; returns whether the ticket changed.

    Old cards keep their buttons: a merged ticket answers where it went, a closed one takes
    only its status buttons (reopen; the domain refuses the rest) and changes nothing else.
    """
    ticket = await load_ticket(uow, ticket_id)
    await refuse_if_merged(uow, ticket)
    if action != "status":
        ticket.ensure_changeable()
    if action == "claim":
        return await assignment.claim(uow, presenter, user_agent, ticket_id, now)
    if action == "canned":
        return (
            await send_canned(uow, presenter, config, user_agent, ticket, value, now) is not None
        )
    if action == "menu":
        teams = await uow.teams.list()
        categories = await uow.categories.list()
        await queue(uow, presenter.card_menu(ticket, value, teams, categories), now)
        await uow.commit()
        return False
    if action == "back":
        await queue(uow, presenter.card_changed(ticket), now)
        await uow.commit()
        return False
    if action == "status":
        return await change_status(uow, presenter, user_agent, ticket, parse_status(value), now)
    if action == "priority":
        return await set_priority(uow, presenter, user_agent, ticket, parse_priority(value), now)
    if action == "category":
        category_id = parse_id(value)
        category = await uow.categories.get(category_id) if category_id else None
        if category is None:
            raise InvalidInput("category", value, "no such category")
        return await set_category(uow, presenter, user_agent, ticket, category, now)
    if action == "other":
        return await mark_out_of_scope(uow, presenter, user_agent, ticket, now)
    if action == "team":
        team = None
        if value not in ("", "0"):
            team_id = parse_id(value)
            team = await uow.teams.get(team_id) if team_id else None
            if team is None:
                raise InvalidInput("team", value, "no such team")
        return await set_team(uow, presenter, user_agent, ticket, team, now)
    raise InvalidInput("action", action, "unknown button")
