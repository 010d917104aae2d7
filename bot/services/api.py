"""Use cases of the REST API: a key acts as the desk (with its scopes), never as a customer.

Every change goes through the same use cases as Telegram's commands and buttons, so the same
rules hold: a closed ticket changes only by being reopened, a merged one not at all, a reply
reaches the customer through the outbox. What is API-specific lives here: authentication by
key, the version (ETag) of a ticket, and reading pages of tickets.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from bot.services import agent_messages, groups, sla, ticket_changes, tools
from bot.services.customers import queue
from bot.services.finality import refuse_if_merged
from bot.services.ports import Presenter, UowFactory
from bot.services.reports import compute, period_from
from bot.services.teams import find_team
from models import (
    Actor,
    Agent,
    Category,
    Customer,
    DomainError,
    InvalidInput,
    MessageDirection,
    NotFound,
    Priority,
    Rating,
    Role,
    Team,
    Ticket,
    TicketMessage,
    TicketNotFound,
    TicketStatus,
    make_subject,
)
from models import apikeys as ak
from models import webhooks as wh
from models.delivery import Channel, OutboundCall
from models.search import parse_query
from models.stats import Period, Report
from storage import AbstractUnitOfWork
from storage.ports import Cards


class StaleTicket(DomainError):
    """``If-Match`` named a version of the ticket that is no longer current."""

    def __init__(self, current: str) -> None:
        super().__init__("the ticket changed since that version")
        self.current = current


def key_agent(key: ak.ApiKey) -> Agent:
    """The stand-in the use cases see for a key: the desk itself (never stored, no Telegram
    account; its changes are recorded as the key's)."""
    return Agent(telegram_id=0, name=f"API: {key.name}", role=Role.ADMIN, api_key_id=key.id)


async def authenticate(uow: AbstractUnitOfWork, presented: str) -> ak.ApiKey | None:
    """The key in service whose hash matches, or None."""
    if not presented.startswith(ak.KEY_PREFIX):
        return None
    key = await uow.apikeys.by_hash(ak.hash_key(presented))
    return key if key is not None and key.active else None


def etag(ticket: Ticket) -> str:
    """The ticket's version: changes whenever anything a client sees of it changes."""
    state = [
        (f.name, getattr(ticket, f.name))
        for f in fields(ticket)
        if f.name not in ("pending_events", "suggestions")
    ]
    return '"' + hashlib.sha256(repr(state).encode()).hexdigest()[:20] + '"'


async def ticket_by_number(uow: AbstractUnitOfWork, number: int) -> Ticket:
    ticket = await uow.tickets.by_number(number)
    if ticket is None:
        raise TicketNotFound(number)
    return ticket


@dataclass(frozen=True)
class TicketFilter:
    statuses: tuple[TicketStatus, ...] = ()
    team: str | None = None
    category: str | None = None
    customer_telegram_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    priority: Priority | None = None
    not_sure: bool = False
    breached: bool = False
    created_since: datetime | None = None
    updated_since: datetime | None = None


@dataclass
class Related:
    """Who and what tickets refer to by id, read once for a page."""

    customers: dict[int, Customer] = field(default_factory=dict)
    teams: dict[int, Team] = field(default_factory=dict)
    agents: dict[int, Agent] = field(default_factory=dict)
    numbers: dict[int, int] = field(default_factory=dict)
    #: The next SLA deadline of active tickets with a running clock: (kind, due).
    deadlines: dict[int, tuple[str, datetime]] = field(default_factory=dict)
    ratings: dict[int, Rating] = field(default_factory=dict)


async def list_tickets(
    uow: AbstractUnitOfWork,
    wanted: TicketFilter,
    before_id: int | None,
    limit: int,
    zone: str,
    now: datetime,
) -> tuple[list[Ticket], Related]:
    """A page of tickets, newest first, and what they refer to; an unknown team is refused, an
    unknown customer matches nothing."""
    team_id = None
    if wanted.team is not None:
        team_id = (await find_team(uow, wanted.team)).id
    found = await uow.ticket_cards.page(
        statuses=[str(s) for s in wanted.statuses],
        team_id=team_id,
        category=wanted.category,
        customer_telegram_id=wanted.customer_telegram_id,
        assignee_id=wanted.assignee_id,
        unassigned=wanted.unassigned,
        priority=str(wanted.priority) if wanted.priority else None,
        not_sure=wanted.not_sure,
        breached=wanted.breached,
        created_since=wanted.created_since,
        updated_since=wanted.updated_since,
        before_id=before_id,
        limit=limit,
    )
    tickets = [card.ticket for card in found.cards]
    return tickets, await _related(uow, tickets, found, zone, now)


async def get_ticket(
    uow: AbstractUnitOfWork, number: int, zone: str, now: datetime
) -> tuple[Ticket, Related]:
    found = await uow.ticket_cards.by_number(number)
    if not found.cards:
        raise TicketNotFound(number)
    ticket = found.cards[0].ticket
    return ticket, await _related(uow, [ticket], found, zone, now)


async def related(
    uow: AbstractUnitOfWork, tickets: list[Ticket], zone: str, now: datetime
) -> Related:
    """What tickets in hand (just changed) refer to, read as a page's tickets are."""
    found = await uow.ticket_cards.by_ids([t.id for t in tickets if t.id is not None])
    return await _related(uow, tickets, found, zone, now)


async def _related(
    uow: AbstractUnitOfWork, tickets: list[Ticket], found: Cards, zone: str, now: datetime
) -> Related:
    """Sort what the cards refer to by id, and work out the tickets' SLA deadlines as their
    cards in Telegram do."""
    out = Related()
    for card in found.cards:
        t = card.ticket
        if card.customer is not None:
            out.customers[t.customer_id] = card.customer
        if card.team is not None and t.team_id is not None:
            out.teams[t.team_id] = card.team
        if card.assignee is not None and t.assignee_id is not None:
            out.agents[t.assignee_id] = card.assignee
        if card.merged_into_number is not None and t.merged_into_id is not None:
            out.numbers[t.merged_into_id] = card.merged_into_number
        if card.rating is not None and t.id is not None:
            out.ratings[t.id] = card.rating
    active = [t for t in tickets if t.is_active and t.id in found.status_changes]
    if active:
        config = await sla.load_config(uow, zone)
        for ticket in active:
            assert ticket.id is not None
            team = out.teams.get(ticket.team_id or 0)
            changes = found.status_changes[ticket.id]
            due = sla.deadline_of(ticket, changes, config, now, team.name if team else None)
            if due is not None:
                out.deadlines[ticket.id] = due
    return out


async def search_tickets(
    uow: AbstractUnitOfWork, text: str, offset: int, limit: int, zone: str, now: datetime
) -> tuple[list[tuple[Ticket, str]], Related, bool]:
    """Tickets by subject and messages, best first, with the matching words marked « »: the
    search ``/search`` runs (same query language); what they refer to; whether more follow."""
    try:
        query = parse_query(text)
    except InvalidInput as exc:
        raise InvalidInput("q", exc.value, exc.reason) from None
    page = await uow.search.page(query, limit=limit, offset=offset)
    found = await uow.ticket_cards.by_ids([hit.ticket_id for hit in page.hits])
    by_id = {card.ticket.id: card.ticket for card in found.cards}
    hits = [(by_id[h.ticket_id], h.snippet) for h in page.hits if h.ticket_id in by_id]
    rel = await _related(uow, [t for t, _snippet in hits], found, zone, now)
    return hits, rel, page.has_more


@dataclass(frozen=True)
class NewTicket:
    customer_telegram_id: int
    text: str
    subject: str | None = None
    priority: Priority | None = None
    team: str | None = None
    category: str | None = None


async def _category(uow: AbstractUnitOfWork, key: str) -> Category:
    category = await uow.categories.by_key(key)
    if category is None:
        keys = ", ".join(c.key for c in await uow.categories.list()) or "none yet"
        raise InvalidInput("category", key, f"unknown category; categories: {keys}")
    return category


async def open_ticket(
    uow: AbstractUnitOfWork, presenter: Presenter, key: ak.ApiKey, new: NewTicket, now: datetime
) -> Ticket:
    """An outbound contact: a ticket for a customer the desk knows (they started the bot, so
    Telegram lets the bot write to them), its topic and card, and the first message, which
    goes to the customer as a reply from the desk. The ticket then waits for the customer."""
    customer = await uow.customers.by_telegram_id(new.customer_telegram_id)
    if customer is None or customer.id is None:
        raise InvalidInput(
            "customer_telegram_id", new.customer_telegram_id, "is not a customer of the desk"
        )
    if customer.banned:
        raise InvalidInput("customer_telegram_id", new.customer_telegram_id, "is banned")
    category = await _category(uow, new.category) if new.category is not None else None
    team = await find_team(uow, new.team) if new.team is not None else None
    team_id = team.id if team else (category.team_id if category else None)
    ticket = Ticket.open(
        customer_id=customer.id,
        subject=make_subject(new.subject or new.text),
        now=now,
        priority=new.priority or Priority.NORMAL,
        category=category.key if category else None,
        team_id=team_id,
        actor=Actor.api(key.id),
    )
    await groups.place(uow, ticket, presenter.agent_chat_id)
    await uow.tickets.add(ticket)
    await queue(uow, presenter.ticket_topic(ticket), now)

    def render(customer: Customer, message: TicketMessage) -> list[OutboundCall]:
        return presenter.api_to_customer(ticket, customer, message, key.name)

    await agent_messages.desk_reply(
        uow, presenter, key_agent(key), ticket, new.text, now, render=render
    )
    return ticket


# -- changes -----------------------------------------------------------------------------------

#: "Leave this field as it is" (None means "none" for team and assignee).
UNCHANGED = object()


@dataclass(frozen=True)
class TicketChange:
    status: TicketStatus | None = None
    priority: Priority | None = None
    team: str | object | None = UNCHANGED
    assignee_id: int | object | None = UNCHANGED
    category: str | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()


async def change_ticket(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    key: ak.ApiKey,
    number: int,
    change: TicketChange,
    if_match: str | None,
    now: datetime,
) -> Ticket:
    """Apply a change with the same use cases as the ticket commands; each part is checked
    (names looked up) before anything is written."""
    ticket = await ticket_by_number(uow, number)
    if if_match is not None and if_match.strip() not in ("*", etag(ticket)):
        raise StaleTicket(etag(ticket))
    await refuse_if_merged(uow, ticket)
    agent = key_agent(key)
    team: Team | object | None = UNCHANGED
    if change.team is not UNCHANGED:
        team = None if change.team is None else await find_team(uow, str(change.team))
    assignee: Agent | object | None = UNCHANGED
    if change.assignee_id is not UNCHANGED:
        assignee = None
        if change.assignee_id is not None:
            assignee = await uow.agents.get(int(change.assignee_id))  # type: ignore[call-overload]
            if assignee is None or not assignee.active:
                raise InvalidInput("assignee_id", change.assignee_id, "is not an active agent")
    category = await _category(uow, change.category) if change.category is not None else None
    # A reopening comes first (a closed ticket takes no other change), a closing last (so the
    # other changes are made while it is still open).
    closing = change.status is not None and not change.status.is_active
    if change.status is not None and not closing:
        await ticket_changes.change_status(uow, presenter, agent, ticket, change.status, now)
    if change.priority is not None:
        await ticket_changes.set_priority(uow, presenter, agent, ticket, change.priority, now)
    if team is not UNCHANGED:
        await ticket_changes.set_team(uow, presenter, agent, ticket, team, now)  # type: ignore[arg-type]
    if assignee is not UNCHANGED:
        await ticket_changes.assign(uow, presenter, agent, ticket, assignee, now)  # type: ignore[arg-type]
    if category is not None:
        await ticket_changes.set_category(uow, presenter, agent, ticket, category, now)
    if change.add_tags:
        await tools.tag(uow, presenter, agent, ticket, " ".join(change.add_tags), now)
    if change.remove_tags:
        words = " ".join(change.remove_tags)
        await tools.tag(uow, presenter, agent, ticket, words, now, remove=True)
    if closing:
        assert change.status is not None
        await ticket_changes.change_status(uow, presenter, agent, ticket, change.status, now)
    return ticket


async def merge(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    key: ak.ApiKey,
    number: int,
    into: int,
    if_match: str | None,
    now: datetime,
) -> Ticket:
    """Fold a ticket into another of the same customer (``/merge``); returns the target."""
    ticket = await ticket_by_number(uow, number)
    if if_match is not None and if_match.strip() not in ("*", etag(ticket)):
        raise StaleTicket(etag(ticket))
    await refuse_if_merged(uow, ticket)
    return await tools.merge(uow, presenter, key_agent(key), ticket, str(into), now)


async def reply(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    key: ak.ApiKey,
    number: int,
    text: str,
    now: datetime,
) -> TicketMessage:
    """A reply to the customer, through the outbox like an agent's, recorded in the topic as
    "via API: <key name>". Written in the caller's transaction (which commits it)."""
    ticket = await ticket_by_number(uow, number)
    await refuse_if_merged(uow, ticket)

    def render(customer: Customer, message: TicketMessage) -> list[OutboundCall]:
        return presenter.api_to_customer(ticket, customer, message, key.name)

    message = await agent_messages.desk_reply(
        uow, presenter, key_agent(key), ticket, text, now, render=render
    )
    assert message is not None  # the desk never collides with itself
    return message


async def note(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    key: ak.ApiKey,
    number: int,
    text: str,
    now: datetime,
) -> TicketMessage:
    """An internal note: stays in the topic, the customer never sees it."""
    ticket = await ticket_by_number(uow, number)
    await refuse_if_merged(uow, ticket)
    message = await uow.messages.add(
        TicketMessage(
            ticket_id=ticket.id,  # type: ignore[arg-type]
            direction=MessageDirection.NOTE,
            sent_at=now,
            text=text,
        )
    )
    await queue(uow, presenter.api_note(ticket, message, key.name), now)
    await uow.commit()
    return message


class DeliveryNotFound(NotFound):
    def __init__(self, ref: object) -> None:
        super().__init__(f"webhook delivery {ref} not found")


async def redeliver(uow: AbstractUnitOfWork, outbox_id: int, now: datetime) -> int:
    """Queue a webhook delivery again, as it was (same event, same delivery id: a receiver
    that has it can tell), behind what its endpoint still has to receive; returns the new
    delivery's id. The endpoint must still be in service."""
    found = await uow.webhooks.delivery(outbox_id)
    if found is None:
        raise DeliveryNotFound(outbox_id)
    delivery, params = found
    webhook = await uow.webhooks.get(delivery.webhook_id)
    if webhook is None or not webhook.active:
        raise InvalidInput("id", outbox_id, "its webhook was removed")
    call = OutboundCall(
        chat_id=delivery.webhook_id,
        channel=Channel.WEBHOOK,
        method=wh.WEBHOOK_METHOD,
        params=params,
        ticket_id=delivery.ticket_id,
    )
    await uow.outbox.add(call, now)
    await uow.commit()
    latest = await uow.webhooks.deliveries(limit=1)
    return latest[0].id if latest else 0


#: A repeated Idempotency-Key within this time returns the first response.
IDEMPOTENCY_WINDOW = timedelta(hours=24)


async def prune_idempotency(uow_factory: UowFactory, now: datetime) -> int:
    """Forget the responses of POSTs older than the idempotency window (housekeeping)."""
    async with uow_factory() as uow:
        deleted = await uow.idempotency.prune(now - IDEMPOTENCY_WINDOW)
        await uow.commit()
    return deleted


async def stats(
    reader: UowFactory, period_text: str, team: str | None, zone: str, now: datetime
) -> tuple[Report, dict[int, str]]:
    """The figures ``/stats`` shows, for a period (same words: today, week, 2026-03-01 ...)."""
    period: Period = period_from(period_text, now, zone)
    if team is not None:
        async with reader(readonly=True) as read:
            team = (await find_team(read, team)).name
    return await compute(reader, period, team, zone)
