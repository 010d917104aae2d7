"""Repositories of tickets and their conversations: tickets (numbers, pages, lookups by topic
and card), messages, events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    EventKind,
    MessageDirection,
    Priority,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketStatus,
)
from storage import mappers
from storage.orm import (
    CounterRecord,
    TicketEventRecord,
    TicketMessageRecord,
    TicketRecord,
)
from storage.tracking import DONE_STATUSES, TrackingRepository

_DONE = DONE_STATUSES
_MESSAGES: Table = TicketMessageRecord.__table__  # type: ignore[assignment]
# Every customer message counts its sender's last minute (flood control): built once, on the
# table (no ORM statement compilation per message).
_CUSTOMER_MESSAGES_SINCE = (
    select(func.count())
    .select_from(_MESSAGES)
    .where(
        _MESSAGES.c.customer_chat_id
        == bindparam("p_chat", type_=_MESSAGES.c.customer_chat_id.type),
        _MESSAGES.c.direction == bindparam("p_customer", type_=_MESSAGES.c.direction.type),
        _MESSAGES.c.sent_at >= bindparam("p_since", type_=_MESSAGES.c.sent_at.type),
    )
)


class TicketRepository(TrackingRepository[Ticket, TicketRecord]):
    record_cls = TicketRecord
    to_domain = staticmethod(mappers.ticket_from)

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.stored_events: list[TicketEvent] = []

    async def next_number(self) -> int:
        """Allocate the next ticket number with one atomic statement (no ``max() + 1`` races)."""
        result = await self.session.execute(
            update(CounterRecord)
            .where(CounterRecord.name == "ticket")
            .values(value=CounterRecord.value + 1)
            .returning(CounterRecord.value)
        )
        return int(result.scalar_one())

    async def add(self, obj: Ticket) -> Ticket:
        if obj.number is None:
            obj.number = await self.next_number()
        return await super().add(obj)

    async def by_number(self, number: int) -> Ticket | None:
        return await self._one(select(TicketRecord).where(TicketRecord.number == number))

    async def get_for_update(self, ticket_id: int) -> Ticket | None:
        """The ticket, locked until commit where the database can (PostgreSQL ``FOR UPDATE``;
        SQLite's writers are serialised by ``BEGIN IMMEDIATE`` already)."""
        return await self._one(
            select(TicketRecord)
            .where(TicketRecord.id == ticket_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def queue(
        self,
        *,
        assignee_id: int | None = None,
        unassigned: bool = False,
        breached: bool = False,
        not_sure: bool = False,
        team_id: int | None = None,
        tag: str | None = None,
        offset: int = 0,
        limit: int = 10,
    ) -> tuple[list[Ticket], int]:
        """Active tickets matching every given filter, most urgent first; and how many match."""
        conditions: list[Any] = [TicketRecord.status.not_in(_DONE)]
        if assignee_id is not None:
            conditions.append(TicketRecord.assignee_id == assignee_id)
        if unassigned:
            conditions.append(TicketRecord.assignee_id.is_(None))
        if breached:
            conditions.append(TicketRecord.sla_breached.is_(True))
        if not_sure:
            conditions.append(TicketRecord.needs_human.is_(True))
        if team_id is not None:
            conditions.append(TicketRecord.team_id == team_id)
        if tag is not None:
            conditions.append(TicketRecord.tags.contains(f" {tag} ", autoescape=True))
        total = await self.session.scalar(
            select(func.count()).select_from(TicketRecord).where(*conditions)
        )
        urgency = case(
            {str(p): -i for i, p in enumerate(Priority)}, value=TicketRecord.priority, else_=0
        )
        tickets = await self._many(
            select(TicketRecord)
            .where(*conditions)
            .order_by(TicketRecord.sla_breached.desc(), urgency, TicketRecord.created_at)
            .offset(offset)
            .limit(limit)
        )
        return tickets, int(total or 0)

    async def count_by_status(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(TicketRecord.status, func.count()).group_by(TicketRecord.status)
        )
        return {str(status): int(count) for status, count in rows}

    async def ids_with_tag(self, tag: str) -> list[int]:
        """Ids of every ticket with ``tag`` (active or not)."""
        rows = await self.session.execute(
            select(TicketRecord.id).where(TicketRecord.tags.contains(f" {tag} ", autoescape=True))
        )
        return [int(i) for i in rows.scalars()]

    async def open_counts(self, agent_ids: Sequence[int]) -> dict[int, int]:
        """How many active tickets each agent has."""
        if not agent_ids:
            return {}
        rows = await self.session.execute(
            select(TicketRecord.assignee_id, func.count())
            .where(TicketRecord.assignee_id.in_(agent_ids), TicketRecord.status.not_in(_DONE))
            .group_by(TicketRecord.assignee_id)
        )
        return {int(agent): int(count) for agent, count in rows if agent is not None}

    async def placed_in(self, chat_id: int) -> bool:
        """Whether some ticket lives in the agents' group ``chat_id``."""
        found = await self.session.execute(
            select(TicketRecord.id).where(TicketRecord.agent_chat_id == chat_id).limit(1)
        )
        return found.first() is not None

    async def by_topic(self, chat_id: int, thread_id: int) -> Ticket | None:
        return await self._one(
            select(TicketRecord).where(
                TicketRecord.agent_chat_id == chat_id, TicketRecord.agent_thread_id == thread_id
            )
        )

    async def by_card(self, chat_id: int, message_id: int) -> Ticket | None:
        return await self._one(
            select(TicketRecord).where(
                TicketRecord.agent_chat_id == chat_id, TicketRecord.card_message_id == message_id
            )
        )

    async def latest_for_customer(self, customer_id: int) -> Ticket | None:
        """The customer's most recent ticket that is not closed, if any."""
        return await self._one(
            select(TicketRecord)
            .where(
                TicketRecord.customer_id == customer_id,
                TicketRecord.status != str(TicketStatus.CLOSED),
            )
            .order_by(TicketRecord.updated_at.desc(), TicketRecord.id.desc())
            .limit(1)
        )

    async def with_running_sla(self, *, after: int = 0, limit: int | None = None) -> list[Ticket]:
        """Tickets whose SLA clocks run: active and not paused (new or open); with ``after``
        and ``limit``, one window of them in id order (jobs go through them in batches)."""
        return await self.with_status(
            TicketStatus.NEW, TicketStatus.OPEN, after=after, limit=limit
        )

    async def with_status(
        self, *statuses: TicketStatus, after: int = 0, limit: int | None = None
    ) -> list[Ticket]:
        return await self._many(
            select(TicketRecord)
            .where(TicketRecord.status.in_([str(s) for s in statuses]), TicketRecord.id > after)
            .order_by(TicketRecord.id)
            .limit(limit)
        )

    async def active_summary(self) -> list[tuple[int | None, str, bool, bool, int]]:
        """(team id, status, breached, not sure, count) over tickets that are not done."""
        done = [str(TicketStatus.RESOLVED), str(TicketStatus.CLOSED)]
        rows = await self.session.execute(
            select(
                TicketRecord.team_id,
                TicketRecord.status,
                TicketRecord.sla_breached,
                TicketRecord.needs_human,
                func.count(),
            )
            .where(TicketRecord.status.not_in(done))
            .group_by(
                TicketRecord.team_id,
                TicketRecord.status,
                TicketRecord.sla_breached,
                TicketRecord.needs_human,
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]

    async def for_customer(self, customer_id: int, *, limit: int | None = 20) -> list[Ticket]:
        """The customer's tickets, newest first (``limit`` None: all of them)."""
        return await self._many(
            select(TicketRecord)
            .where(TicketRecord.customer_id == customer_id)
            .order_by(TicketRecord.id.desc())
            .limit(limit)
        )

    async def count_for_customer(self, customer_id: int) -> int:
        result = await self.session.execute(
            select(func.count())
            .select_from(TicketRecord)
            .where(TicketRecord.customer_id == customer_id)
        )
        return int(result.scalar_one())

    async def sync(self) -> None:
        """Write tickets back and store their recorded events (kept in ``stored_events``)."""
        await super().sync()
        stored = self.stored_events
        for ticket, record in self._seen.values():
            for event in ticket.take_events():
                self.session.add(mappers.event_record(event, record.id))
                stored.append(event if event.ticket_id else _with_ticket(event, record.id))


def _with_ticket(event: TicketEvent, ticket_id: int) -> TicketEvent:
    return replace(event, ticket_id=ticket_id)


class MessageRepository(TrackingRepository[TicketMessage, TicketMessageRecord]):
    record_cls = TicketMessageRecord
    to_domain = staticmethod(mappers.message_from)

    async def by_customer_side(self, chat_id: int, message_id: int) -> TicketMessage | None:
        return await self._one(
            select(TicketMessageRecord).where(
                TicketMessageRecord.customer_chat_id == chat_id,
                TicketMessageRecord.customer_message_id == message_id,
            )
        )

    async def by_agent_side(self, chat_id: int, message_id: int) -> TicketMessage | None:
        return await self._one(
            select(TicketMessageRecord).where(
                TicketMessageRecord.agent_chat_id == chat_id,
                TicketMessageRecord.agent_message_id == message_id,
            )
        )

    async def album_part(self, chat_id: int, media_group_id: str) -> TicketMessage | None:
        """Any stored part of a customer's album (albums arrive as one message per part)."""
        return await self._one(
            select(TicketMessageRecord)
            .where(
                TicketMessageRecord.customer_chat_id == chat_id,
                TicketMessageRecord.media_group_id == media_group_id,
            )
            .order_by(TicketMessageRecord.id)
            .limit(1)
        )

    async def album(self, ticket_id: int, media_group_id: str) -> list[TicketMessage]:
        return await self._many(
            select(TicketMessageRecord)
            .where(
                TicketMessageRecord.ticket_id == ticket_id,
                TicketMessageRecord.media_group_id == media_group_id,
            )
            .order_by(TicketMessageRecord.id)
        )

    async def for_ticket(self, ticket_id: int) -> list[TicketMessage]:
        return await self._many(
            select(TicketMessageRecord)
            .where(TicketMessageRecord.ticket_id == ticket_id)
            .order_by(TicketMessageRecord.id)
        )

    async def first_customer_message(self, ticket_id: int) -> TicketMessage | None:
        return await self._one(
            select(TicketMessageRecord)
            .where(
                TicketMessageRecord.ticket_id == ticket_id,
                TicketMessageRecord.direction == str(MessageDirection.CUSTOMER),
            )
            .order_by(TicketMessageRecord.id)
            .limit(1)
        )

    async def last_agent_reply(self, ticket_id: int) -> TicketMessage | None:
        """The newest message an agent sent to the customer in this ticket."""
        return await self._one(
            select(TicketMessageRecord)
            .where(
                TicketMessageRecord.ticket_id == ticket_id,
                TicketMessageRecord.direction == str(MessageDirection.AGENT),
            )
            .order_by(TicketMessageRecord.id.desc())
            .limit(1)
        )

    async def customer_messages_since(self, chat_id: int, since: datetime) -> int:
        """How many messages the customer in ``chat_id`` sent since ``since`` (flood control)."""
        count = await self.session.scalar(
            _CUSTOMER_MESSAGES_SINCE,
            {"p_chat": chat_id, "p_customer": str(MessageDirection.CUSTOMER), "p_since": since},
        )
        return int(count or 0)

    async def last_from(self, chat_id: int) -> datetime | None:
        """When the customer in ``chat_id`` last wrote (None: never)."""
        return await self.session.scalar(
            select(func.max(TicketMessageRecord.sent_at)).where(
                TicketMessageRecord.customer_chat_id == chat_id,
                TicketMessageRecord.direction == str(MessageDirection.CUSTOMER),
            )
        )

    async def move(self, from_ticket: int, to_ticket: int) -> int:
        """Move every message of one ticket to another (merging); returns how many moved."""
        await self.sync()  # pending changes first, then the bulk update
        result = await self.session.execute(
            update(TicketMessageRecord)
            .where(TicketMessageRecord.ticket_id == from_ticket)
            .values(ticket_id=to_ticket)
            .execution_options(synchronize_session=False)
        )
        for message, record in self._seen.values():
            if message.ticket_id == from_ticket:  # keep loaded copies in step with the rows
                message.ticket_id = record.ticket_id = to_ticket
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class EventRepository:
    """Read access to ticket history (events are written through the ticket repository)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def status_changes(self, ticket_ids: list[int]) -> dict[int, list[TicketEvent]]:
        """Status-change events of many tickets at once, in order (for SLA pauses)."""
        found: dict[int, list[TicketEvent]] = {i: [] for i in ticket_ids}
        if not ticket_ids:
            return found
        rows = await self.session.execute(
            select(TicketEventRecord)
            .where(
                TicketEventRecord.ticket_id.in_(ticket_ids),
                TicketEventRecord.kind == "status_changed",
            )
            .order_by(TicketEventRecord.id)
        )
        for record in rows.scalars():
            found[record.ticket_id].append(mappers.event_from(record))
        return found

    async def for_ticket(self, ticket_id: int, *, limit: int = 200) -> Sequence[TicketEvent]:
        return await self.for_tickets([ticket_id], limit=limit)

    async def for_tickets(
        self, ticket_ids: Sequence[int], *, limit: int = 200
    ) -> Sequence[TicketEvent]:
        """The history of several tickets (a ticket and those merged into it), in order."""
        rows = await self.session.execute(
            select(TicketEventRecord)
            .where(TicketEventRecord.ticket_id.in_(ticket_ids))
            .order_by(TicketEventRecord.at, TicketEventRecord.id)
            .limit(limit)
        )
        return [mappers.event_from(r) for r in rows.scalars()]

    async def latest(self, ticket_id: int, kind: EventKind) -> TicketEvent | None:
        """A ticket's newest event of ``kind`` (who set its category, for the card)."""
        rows = await self.session.execute(
            select(TicketEventRecord)
            .where(TicketEventRecord.ticket_id == ticket_id, TicketEventRecord.kind == str(kind))
            .order_by(TicketEventRecord.id.desc())
            .limit(1)
        )
        record = rows.scalars().first()
        return mappers.event_from(record) if record is not None else None

    async def merged_into(self, ticket_id: int) -> list[int]:
        """Ids of the tickets merged into ``ticket_id``."""
        rows = await self.session.execute(
            select(TicketRecord.id).where(TicketRecord.merged_into_id == ticket_id)
        )
        return [int(i) for i in rows.scalars()]
