"""Agents at work in their group: messages, notes, commands and card buttons."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

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
    Ticket,
    TicketStatus,
)
from models.ids import parse_id
from storage import AbstractUnitOfWork

NOTE_PREFIX = "//"


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


@dataclass(frozen=True)
class WriteNote:
    text: str


@dataclass(frozen=True)
class ChangeStatus:
    status: TicketStatus


@dataclass(frozen=True)
class ChangePriority:
    priority: Priority


@dataclass(frozen=True)
class Assign:
    """To the agent who asks (``me``), to an agent by Telegram id or ``@username``
    (``who``), or to nobody (``who`` None and not ``me``)."""

    who: str | None = None
    me: bool = False


@dataclass(frozen=True)
class MoveToTeam:
    """To the team named ``team`` (None: no team)."""

    team: str | None


@dataclass(frozen=True)
class Recategorise:
    key: str


@dataclass(frozen=True)
class ShowHistory:
    pass


@dataclass(frozen=True)
class ChangeTags:
    tags: str
    remove: bool = False


@dataclass(frozen=True)
class MergeInto:
    target: str


@dataclass(frozen=True)
class SendCanned:
    key: str


#: What an agent can ask of the ticket whose topic they write in (parsed by the handlers).
TicketCommand = (
    WriteNote
    | ChangeStatus
    | ChangePriority
    | Assign
    | MoveToTeam
    | Recategorise
    | ShowHistory
    | ChangeTags
    | MergeInto
    | SendCanned
)


async def ticket_command(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    config: DeskConfig,
    msg: Incoming,
    command: TicketCommand,
    now: datetime,
) -> bool:
    """One of the ticket commands typed in a ticket's topic; returns whether anything changed
    (and then the command is acknowledged with a reaction)."""
    agent = await require_agent(uow, msg.user)
    ticket = await ticket_for_agent_message(uow, config, msg, follow_merges=False)
    if ticket is None:
        raise NoTicketHere()
    await refuse_if_merged(uow, ticket)
    changed = await _run(uow, presenter, config, _InTicket(msg, agent, ticket), command, now)
    if changed:
        await _acknowledge(uow, presenter, msg, now, note=isinstance(command, WriteNote))
    return changed


@dataclass(frozen=True)
class _InTicket:
    """Where a ticket command was typed: the message, by whom, in which ticket."""

    msg: Incoming
    agent: Agent
    ticket: Ticket


async def _run(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    config: DeskConfig,
    at: _InTicket,
    command: TicketCommand,
    now: datetime,
) -> bool:
    msg, agent, ticket = at.msg, at.agent, at.ticket
    match command:
        case WriteNote(text):
            note = replace(msg, text=text)
            stored = await agent_message(
                uow, presenter, config, agent, ticket, note, now, note=True
            )
            return stored is not None
        case ChangeStatus(status):
            return await change_status(uow, presenter, agent, ticket, status, now)
        case ChangePriority(priority):
            return await set_priority(uow, presenter, agent, ticket, priority, now)
        case Assign(who, me):
            assignee = agent if me else await _assignee(uow, who) if who else None
            return await assign(uow, presenter, agent, ticket, assignee, now)
        case MoveToTeam(team):
            found = await find_team(uow, team) if team is not None else None
            return await set_team(uow, presenter, agent, ticket, found, now)
        case Recategorise(key):
            category = await uow.categories.by_key(key) if key else None
            if category is None:
                keys = ", ".join(c.key for c in await uow.categories.list()) or "none yet"
                raise InvalidInput("category", key, f"unknown category; categories: {keys}")
            return await set_category(uow, presenter, agent, ticket, category, now)
        case ShowHistory():
            await _history(uow, presenter, ticket, msg, now)
            return False
        case ChangeTags(tags, remove):
            return bool(await tools.tag(uow, presenter, agent, ticket, tags, now, remove=remove))
        case MergeInto(target):
            await tools.merge(uow, presenter, agent, ticket, target, now)
            return True
        case SendCanned(key):
            return await send_canned(uow, presenter, config, agent, ticket, key, now) is not None


async def _assignee(uow: AbstractUnitOfWork, who: str) -> Agent:
    user_id = parse_id(who)
    agent = (
        await uow.agents.by_telegram_id(user_id)
        if user_id is not None
        else await uow.agents.by_username(who)
    )
    if agent is None or not agent.active:
        raise InvalidInput("agent", who, "is not a registered agent")
    return agent


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


@dataclass(frozen=True)
class Claim:
    pass


@dataclass(frozen=True)
class OpenMenu:
    """The card shows one of its menus (status, priority, team, category)."""

    menu: str


@dataclass(frozen=True)
class CloseMenu:
    pass


@dataclass(frozen=True)
class PickTeam:
    team_id: int | None


@dataclass(frozen=True)
class PickCategory:
    category_id: int


@dataclass(frozen=True)
class MarkOutOfScope:
    pass


#: What a ticket card's button asks for (parsed from its callback data by the handler).
CardPress = (
    Claim
    | OpenMenu
    | CloseMenu
    | ChangeStatus
    | ChangePriority
    | PickTeam
    | PickCategory
    | MarkOutOfScope
    | SendCanned
)


async def card_button(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    config: DeskConfig,
    ticket_id: int,
    press: CardPress,
    now: datetime,
) -> bool:
    """A button on a ticket card; returns whether the ticket changed.

    Old cards keep their buttons: a merged ticket answers where it went, a closed one takes
    only its status buttons (reopen; the domain refuses the rest) and changes nothing else.
    """
    ticket = await load_ticket(uow, ticket_id)
    await refuse_if_merged(uow, ticket)
    if not isinstance(press, ChangeStatus):
        ticket.ensure_changeable()
    match press:
        case Claim():
            return await assignment.claim(uow, presenter, agent, ticket_id, now)
        case SendCanned(key):
            return await send_canned(uow, presenter, config, agent, ticket, key, now) is not None
        case OpenMenu(menu):
            teams, categories = await uow.teams.list(), await uow.categories.list()
            await queue(uow, presenter.card_menu(ticket, menu, teams, categories), now)
            await uow.commit()
            return False
        case CloseMenu():
            await queue(uow, presenter.card_changed(ticket), now)
            await uow.commit()
            return False
        case ChangeStatus(status):
            return await change_status(uow, presenter, agent, ticket, status, now)
        case ChangePriority(priority):
            return await set_priority(uow, presenter, agent, ticket, priority, now)
        case PickCategory(category_id):
            category = await uow.categories.get(category_id)
            if category is None:
                raise InvalidInput("category", category_id, "no such category")
            return await set_category(uow, presenter, agent, ticket, category, now)
        case MarkOutOfScope():
            return await mark_out_of_scope(uow, presenter, agent, ticket, now)
        case PickTeam(team_id):
            team = await uow.teams.get(team_id) if team_id is not None else None
            if team_id is not None and team is None:
                raise InvalidInput("team", team_id, "no such team")
            return await set_team(uow, presenter, agent, ticket, team, now)
