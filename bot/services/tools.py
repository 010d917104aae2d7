"""Agents' tools beyond the conversation: queues, ticket links, tags, merges, bans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.logs import get_logger
from bot.services.auth import require_agent
from bot.services.customers import queue, writing_to
from bot.services.ports import Presenter, TelegramUser
from bot.services.teams import find_team
from models import (
    Agent,
    Customer,
    InvalidInput,
    Role,
    Ticket,
    TicketNotFound,
    parse_tags,
)
from models.ids import parse_id
from models.search import SearchPage, parse_query
from storage import AbstractUnitOfWork

log = get_logger(__name__)

QUEUE_PAGE = 10


class QueueKind(StrEnum):
    """Which active tickets a queue lists (``team`` and ``tag`` take an argument)."""

    MINE = "mine"
    UNASSIGNED = "unassigned"
    OVERDUE = "overdue"
    NOT_SURE = "notsure"
    TEAM = "team"
    TAG = "tag"
    ALL = "all"


@dataclass(frozen=True)
class QueueRequest:
    """What a ``/queue`` lists: a kind, its argument (team id or tag), a page."""

    kind: QueueKind = QueueKind.ALL
    arg: str = ""
    page: int = 0


@dataclass(frozen=True)
class QueuePage:
    request: QueueRequest
    title: str
    tickets: list[Ticket]
    total: int
    assignees: dict[int, str]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // QUEUE_PAGE))


async def queue_request(uow: AbstractUnitOfWork, kind: QueueKind, arg: str) -> QueueRequest:
    """A queue as asked for: a team is given by name and kept by id, a tag is checked."""
    if kind is QueueKind.TEAM:
        return QueueRequest(kind, str((await find_team(uow, arg)).id))
    if kind is QueueKind.TAG:
        return QueueRequest(kind, parse_tags(arg)[0])
    return QueueRequest(kind)


async def queue_page(
    uow: AbstractUnitOfWork, user: TelegramUser, request: QueueRequest
) -> QueuePage:
    """One page of active tickets for a queue, most urgent first."""
    agent = await require_agent(uow, user)
    filters: dict[str, object] = {}
    title = str(request.kind)
    if request.kind is QueueKind.MINE:
        filters["assignee_id"] = agent.id
    elif request.kind is QueueKind.UNASSIGNED:
        filters["unassigned"] = True
    elif request.kind is QueueKind.OVERDUE:
        filters["breached"] = True
    elif request.kind is QueueKind.NOT_SURE:
        filters["not_sure"] = True
    elif request.kind is QueueKind.TEAM:
        team_id = parse_id(request.arg)
        team = await uow.teams.get(team_id) if team_id else None
        if team is None:
            raise InvalidInput("team", request.arg, "this team no longer exists")
        filters["team_id"] = team.id
        title = f"team {team.name}"
    elif request.kind is QueueKind.TAG:
        filters["tag"] = request.arg
        title = f"#{request.arg}"
    page = max(0, request.page)
    tickets, total = await uow.tickets.queue(
        offset=page * QUEUE_PAGE,
        limit=QUEUE_PAGE,
        **filters,  # type: ignore[arg-type]
    )
    names = {a.id: a.name for a in await uow.agents.list(active_only=False) if a.id is not None}
    return QueuePage(QueueRequest(request.kind, request.arg, page), title, tickets, total, names)


SEARCH_PAGE = 10


@dataclass(frozen=True)
class SearchResult:
    text: str
    tag: str | None
    page: SearchPage
    tickets: dict[int, Ticket]  # the hits' tickets, for links to their topics


async def search(uow: AbstractUnitOfWork, user: TelegramUser, text: str) -> SearchResult:
    """``/search <words> [#tag]``: tickets by subject and messages, best first.

    A ``#tag`` word limits the search to tickets with that tag; the rest is the query language
    of :func:`models.search.parse_query` (words, "phrases", -exclusions, OR, prefix*).
    """
    await require_agent(uow, user)
    words = text.split()
    tags = [w for w in words if w.startswith("#") and len(w) > 1]
    if len(tags) > 1:
        raise InvalidInput("tag", " ".join(tags), "one #tag at most")
    tag = parse_tags(tags[0])[0] if tags else None
    query = parse_query(" ".join(w for w in words if w not in tags))
    only: list[int] | None = None
    if tag is not None:
        only = await uow.tickets.ids_with_tag(tag)
    page = await uow.search.page(query, limit=SEARCH_PAGE, ticket_ids_filter=only)
    tickets = {h.ticket_id: await uow.tickets.get(h.ticket_id) for h in page.hits}
    return SearchResult(text, tag, page, {i: t for i, t in tickets.items() if t is not None})


async def find_ticket(
    uow: AbstractUnitOfWork, user: TelegramUser, number: str
) -> tuple[Ticket, Agent | None]:
    """``/ticket <number>``: a ticket by its number (``#`` optional), and its assignee."""
    await require_agent(uow, user)
    wanted = parse_id(number.strip().removeprefix("#"))
    if wanted is None:
        raise InvalidInput("number", number, "give a ticket number, like /ticket 42")
    ticket = await uow.tickets.by_number(wanted)
    if ticket is None:
        raise TicketNotFound(wanted)
    assignee = await uow.agents.get(ticket.assignee_id) if ticket.assignee_id else None
    return ticket, assignee


async def tag(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    ticket: Ticket,
    args: str,
    now: datetime,
    *,
    remove: bool = False,
) -> list[str]:
    """``/tag`` and ``/untag``: returns the tags that changed."""
    tags = parse_tags(args)
    actor = agent.actor
    changed = ticket.remove_tags(tags, actor, now) if remove else ticket.add_tags(tags, actor, now)
    if changed:
        await queue(uow, presenter.card_changed(ticket), now)
        await uow.commit()
    return changed


async def merge(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    ticket: Ticket,
    args: str,
    now: datetime,
) -> Ticket:
    """``/merge <number>``: this ticket goes into another one of the same customer.

    Its messages move to the target (so the target's history is the whole conversation), the
    customer is told, this ticket is closed as merged and its topic closed with a link.
    """
    digits = args.strip().removeprefix("#")
    wanted = parse_id(digits)
    if wanted is None:
        raise InvalidInput("number", args, "usage: /merge <ticket number to merge this one into>")
    target = await uow.tickets.by_number(wanted)
    if target is None:
        raise TicketNotFound(digits)
    target_was_active = target.is_active
    ticket.merge_into(target, agent.actor, now)
    moved = await uow.messages.move(ticket.id, target.id)  # type: ignore[arg-type]
    customer = await writing_to(uow, ticket)
    calls = presenter.merged(
        ticket, target, customer, moved, reopened=target.is_active and not target_was_active
    )
    await queue(uow, calls + presenter.card_changed(ticket) + presenter.card_changed(target), now)
    await uow.commit()
    log.info("tickets merged", ticket=ticket.number, into=target.number, agent=agent.id)
    return target


@dataclass(frozen=True)
class BanTarget:
    """Whom ``/ban`` or ``/unban`` means: the customer with a Telegram id, else the ticket's;
    and why."""

    ticket: Ticket | None
    telegram_id: int | None
    reason: str


async def ban(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    user: TelegramUser,
    target: BanTarget,
    chat_id: int,
    thread_id: int | None,
    now: datetime,
    *,
    banned: bool,
) -> Customer:
    """``/ban [reason]`` / ``/unban`` in a ticket's topic, or with a customer's Telegram id.

    Supervisors and admins only; every ban is logged with who and why. A banned customer's
    messages open no tickets; they are told so (at most once per flood window).
    """
    agent = await require_agent(uow, user, Role.SUPERVISOR)
    customer: Customer | None = None
    reason = target.reason
    if target.telegram_id is not None:
        customer = await uow.customers.by_telegram_id(target.telegram_id)
        if customer is None:
            raise InvalidInput("user", target.telegram_id, "no customer with this Telegram id")
    elif target.ticket is not None:
        customer = await uow.customers.get(target.ticket.customer_id)
    if customer is None:
        raise InvalidInput(
            "customer", reason, "use it in a ticket's topic, or give the customer's Telegram id"
        )
    if banned and not reason:
        raise InvalidInput("reason", "", "say why: /ban <reason>")
    customer.banned = banned
    customer.ban_reason = reason[:256] if banned and reason else None
    await queue(uow, presenter.ban_changed(chat_id, thread_id, customer, agent), now)
    await uow.commit()
    log.info(
        "customer banned" if banned else "customer unbanned",
        customer=customer.telegram_id,
        agent=agent.telegram_id,
        reason=reason,
    )
    return customer
