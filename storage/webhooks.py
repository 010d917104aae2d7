"""Webhook endpoints, and the deliveries a transaction owes them (written in that transaction).

:meth:`WebhookRepository.emit` runs inside :meth:`SqlAlchemyUnitOfWork.commit`: it turns what
the unit of work tracked (events recorded by tickets, new messages, new ratings) into one outbox
row per event and subscribed endpoint. No use case can forget to send an event, and an event is
sent only if its transaction commits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import ActorKind, EventKind, MessageDirection, TicketEvent, TicketMessage
from models import webhooks as wh
from models.delivery import Channel, OutboxStatus
from models.people import Agent, Customer, Team
from models.ticket import Rating, Ticket
from storage import mappers
from storage.delivery import OutboxRepository
from storage.orm import (
    AgentRecord,
    CustomerRecord,
    OutboxRecord,
    TeamRecord,
    TicketRecord,
    WebhookRecord,
)
from storage.ports.rows import Delivery
from storage.reports import first_channels

_WEBHOOKS: Table = WebhookRecord.__table__  # type: ignore[assignment]
# Read at every commit that has events (plain rows, not ORM objects: the rows are only read).
_ACTIVE = select(_WEBHOOKS).where(_WEBHOOKS.c.active.is_(True)).order_by(_WEBHOOKS.c.id)


def _webhook_from(record: WebhookRecord | Row[Any]) -> wh.Webhook:
    return wh.Webhook(
        id=record.id,
        url=record.url,
        secret=record.secret,
        events=tuple(e for e in record.events.split(",") if e),
        active=record.active,
        created_by=record.created_by,
        created_at=record.created_at,
    )


def _delivery_from(record: OutboxRecord) -> Delivery:
    params = json.loads(record.params)
    return Delivery(
        id=record.id,
        webhook_id=record.chat_id,  # the webhook channel queues per endpoint id
        event=str(params.get("event", "")),
        delivery=str(params.get("delivery", "")),
        status=record.status,
        attempts=record.attempts,
        created_at=record.created_at,
        sent_at=record.sent_at,
        last_error=record.last_error,
        ticket_id=record.ticket_id,
    )


@dataclass(frozen=True)
class _Raw:
    """An event before it is rendered for an endpoint."""

    type: str
    ticket_id: int
    at: datetime
    data: Callable[[_Context], dict[str, Any]]


@dataclass
class _Context:
    tickets: dict[int, Ticket]
    customers: dict[int, Customer]
    teams: dict[int, Team]
    agents: dict[int, Agent]
    channels: dict[int, Channel]

    def ticket(self, ticket_id: int) -> dict[str, Any] | None:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return None
        return wh.ticket_view(
            ticket,
            customer=self.customers.get(ticket.customer_id),
            team=self.teams.get(ticket.team_id or 0),
            assignee=self.agents.get(ticket.assignee_id or 0),
            channel=self.channels.get(ticket_id),
        )

    def agent(self, agent_id: str | int | None) -> dict[str, Any] | None:
        return wh.agent_view(self.agents.get(_int(agent_id) or 0))


def _int(value: str | int | None) -> int | None:
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


def _from_event(event: TicketEvent) -> _Raw | None:
    assert event.ticket_id is not None
    if event.kind is EventKind.CREATED:
        return _Raw(
            wh.OPENED,
            event.ticket_id,
            event.at,
            lambda c: {"actor": wh.actor_view(event.actor, c.agents)},
        )
    if event.kind is EventKind.ASSIGNED:
        return _Raw(
            wh.ASSIGNED,
            event.ticket_id,
            event.at,
            lambda c: {
                "actor": wh.actor_view(event.actor, c.agents),
                "from": c.agent(event.old),
                "to": c.agent(event.new),
            },
        )
    if event.kind is EventKind.STATUS_CHANGED:
        return _Raw(
            wh.STATUS_CHANGED,
            event.ticket_id,
            event.at,
            lambda c: {
                "actor": wh.actor_view(event.actor, c.agents),
                "from": event.old,
                "to": event.new,
            },
        )
    return None


def _from_message(message: TicketMessage) -> _Raw | None:
    kinds = {
        MessageDirection.CUSTOMER: wh.MESSAGE,
        MessageDirection.AGENT: wh.MESSAGE,
        MessageDirection.NOTE: wh.NOTE,
    }
    kind = kinds.get(message.direction)
    if kind is None:
        return None
    return _Raw(
        kind,
        message.ticket_id,
        message.sent_at,
        lambda c: {
            "message": wh.message_view(message, c.agents.get(message.author_agent_id or 0))
        },
    )


def _from_rating(rating: Rating) -> _Raw:
    return _Raw(
        wh.RATED, rating.ticket_id, rating.rated_at, lambda c: {"rating": wh.rating_view(rating)}
    )


def order_events(
    events: Sequence[TicketEvent], messages: Sequence[TicketMessage], ratings: Sequence[Rating]
) -> list[_Raw]:
    """A transaction's events in a fixed order: openings, messages, the tickets' other changes
    (in the order they happened), ratings."""
    from_events = [r for r in map(_from_event, events) if r is not None]
    opened = [r for r in from_events if r.type == wh.OPENED]
    changes = [r for r in from_events if r.type != wh.OPENED]
    said = [r for r in map(_from_message, messages) if r is not None]
    return opened + said + changes + [_from_rating(r) for r in ratings]


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, webhook: wh.Webhook) -> wh.Webhook:
        record = WebhookRecord(
            url=webhook.url,
            secret=webhook.secret,
            events=",".join(webhook.events),
            active=webhook.active,
            created_by=webhook.created_by,
            created_at=webhook.created_at,
        )
        self.session.add(record)
        await self.session.flush()
        webhook.id = record.id
        return webhook

    async def get(self, webhook_id: int) -> wh.Webhook | None:
        record = await self.session.get(WebhookRecord, webhook_id)
        return None if record is None else _webhook_from(record)

    async def active(self) -> list[wh.Webhook]:
        return [_webhook_from(row) for row in await self.session.execute(_ACTIVE)]

    async def deactivate(self, webhook_id: int) -> bool:
        """Remove an endpoint from service (its row stays; see :class:`WebhookRecord`)."""
        result = await self.session.execute(
            update(WebhookRecord)
            .where(WebhookRecord.id == webhook_id, WebhookRecord.active.is_(True))
            .values(active=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def deliveries(self, *, before_id: int | None = None, limit: int = 50) -> list[Delivery]:
        """Webhook deliveries, newest first (the outbox keeps them for the retention period)."""
        query = select(OutboxRecord).where(OutboxRecord.channel == str(Channel.WEBHOOK))
        if before_id is not None:
            query = query.where(OutboxRecord.id < before_id)
        rows = await self.session.scalars(query.order_by(OutboxRecord.id.desc()).limit(limit))
        return [_delivery_from(r) for r in rows]

    async def delivery(self, outbox_id: int) -> tuple[Delivery, dict[str, Any]] | None:
        """One delivery and its outbox parameters (to queue it again)."""
        record = await self.session.get(OutboxRecord, outbox_id)
        if record is None or record.channel != str(Channel.WEBHOOK):
            return None
        return _delivery_from(record), json.loads(record.params)

    async def delivery_stats(self, webhook_ids: Sequence[int]) -> dict[int, wh.DeliveryStats]:
        if not webhook_ids:
            return {}
        channel = OutboxRecord.channel == str(Channel.WEBHOOK)
        counts: dict[int, dict[str, int]] = {i: {} for i in webhook_ids}
        rows = await self.session.execute(
            select(OutboxRecord.chat_id, OutboxRecord.status, func.count())
            .where(channel, OutboxRecord.chat_id.in_(list(webhook_ids)))
            .group_by(OutboxRecord.chat_id, OutboxRecord.status)
        )
        for webhook_id, status, n in rows:
            counts[webhook_id][status] = int(n)
        errors: dict[int, str | None] = {}
        for webhook_id in webhook_ids:
            errors[webhook_id] = await self.session.scalar(
                select(OutboxRecord.last_error)
                .where(
                    channel,
                    OutboxRecord.chat_id == webhook_id,
                    OutboxRecord.last_error.is_not(None),
                )
                .order_by(OutboxRecord.id.desc())
                .limit(1)
            )
        return {
            i: wh.DeliveryStats(
                pending=c.get(str(OutboxStatus.PENDING), 0),
                sent=c.get(str(OutboxStatus.SENT), 0),
                failed=c.get(str(OutboxStatus.FAILED), 0) + c.get(str(OutboxStatus.UNKNOWN), 0),
                last_error=errors.get(i),
            )
            for i, c in counts.items()
        }

    async def emit(
        self,
        outbox: OutboxRepository,
        events: Sequence[TicketEvent],
        messages: Sequence[TicketMessage],
        ratings: Sequence[Rating],
        now: datetime,
    ) -> int:
        """Queue a delivery of each event for every active endpoint that subscribed to it.

        Called by the unit of work at commit, after the tickets were written back (so the
        ticket in a payload is its state at the end of the transaction). Returns how many
        deliveries were queued.
        """
        raws = order_events(events, messages, ratings)
        if not raws:
            return 0
        endpoints = [e for e in await self.active() if any(e.wants(r.type) for r in raws)]
        if not endpoints:
            return 0
        context = await self._context(raws, events, messages)
        queued = 0
        for raw in raws:
            ticket = context.ticket(raw.ticket_id)
            data = raw.data(context)
            for endpoint in endpoints:
                if endpoint.wants(raw.type):
                    await outbox.add(
                        wh.delivery_call(endpoint, raw.type, raw.at, ticket, data), now
                    )
                    queued += 1
        return queued

    async def _context(
        self,
        raws: Sequence[_Raw],
        events: Sequence[TicketEvent],
        messages: Sequence[TicketMessage],
    ) -> _Context:
        """Everything the payloads show, in five queries (after an autoflush: a new ticket's
        first message is there)."""
        ticket_rows = await self.session.execute(
            select(TicketRecord).where(TicketRecord.id.in_({r.ticket_id for r in raws}))
        )
        tickets = {t.id: t for t in map(mappers.ticket_from, ticket_rows.scalars())}
        agent_ids = {t.assignee_id for t in tickets.values()}
        agent_ids |= {m.author_agent_id for m in messages}
        for event in events:
            if event.actor.id is not None and event.actor.kind is ActorKind.AGENT:
                agent_ids.add(event.actor.id)
            if event.kind is EventKind.ASSIGNED:
                agent_ids |= {_int(event.old), _int(event.new)}
        wanted_agents = {i for i in agent_ids if i is not None}
        agents = await self._by_id(AgentRecord, wanted_agents, mappers.agent_from)
        customers = await self._by_id(
            CustomerRecord, {t.customer_id for t in tickets.values()}, mappers.customer_from
        )
        teams = await self._by_id(
            TeamRecord, {t.team_id for t in tickets.values() if t.team_id}, mappers.team_from
        )
        channels = await first_channels(self.session, list(tickets))
        return _Context(tickets, customers, teams, agents, channels)  # type: ignore[arg-type]

    async def _by_id(self, record_cls: Any, ids: set[int], convert: Any) -> dict[int, Any]:
        if not ids:
            return {}
        rows = await self.session.execute(select(record_cls).where(record_cls.id.in_(ids)))
        return {r.id: convert(r) for r in rows.scalars()}
