"""Read-only queries for managers: statistics of a period, and exports streamed row by row."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from models import (
    EventKind,
    MessageDirection,
    Rating,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketStatus,
)
from models.delivery import Channel
from models.stats import TicketHistory
from storage import mappers
from storage.orm import (
    AgentRecord,
    RatingRecord,
    TeamRecord,
    TicketEventRecord,
    TicketMessageRecord,
    TicketRecord,
)

#: The events the statistics read (status history, triage verdicts, corrections).
STATS_EVENT_KINDS = [
    str(EventKind.STATUS_CHANGED),
    str(EventKind.TRIAGED),
    str(EventKind.CATEGORY_CHANGED),
]
_ACTIVE = [str(s) for s in TicketStatus if s.is_active]
_CUSTOMER = str(MessageDirection.CUSTOMER)
#: Rows fetched per round trip when streaming an export.
STREAM_BATCH = 500


def first_channel_of(ticket_id: Any) -> Any:
    """A scalar subquery: the channel of the ticket's first customer message
    (:func:`models.message.ticket_channel`), NULL when there is none; walks the ticket's
    messages in id order (``ix_ticket_messages_ticket``)."""
    return (
        select(TicketMessageRecord.channel)
        .where(
            TicketMessageRecord.ticket_id == ticket_id,
            TicketMessageRecord.direction == _CUSTOMER,
        )
        .order_by(TicketMessageRecord.id)
        .limit(1)
        .scalar_subquery()
    )


async def first_channels(session: AsyncSession, ids: Any) -> dict[int, Channel]:
    """The channel of each ticket of ``ids`` (a collection or a subquery) that has a customer
    message."""
    first = (
        select(func.min(TicketMessageRecord.id))
        .where(TicketMessageRecord.ticket_id.in_(ids), TicketMessageRecord.direction == _CUSTOMER)
        .group_by(TicketMessageRecord.ticket_id)
    )
    rows = await session.execute(
        select(TicketMessageRecord.ticket_id, TicketMessageRecord.channel).where(
            TicketMessageRecord.id.in_(first)
        )
    )
    return {int(ticket_id): Channel(channel) for ticket_id, channel in rows}


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _relevant_ids(self, start: datetime, end: datetime) -> Select[Any]:
        """Tickets a report of ``[start, end)`` needs: created before the end and either still
        active, changed since the start (every status change moves ``updated_at``), or rated in
        the period. A superset of those created, resolved, active at the end or rated."""
        rated = select(RatingRecord.ticket_id).where(
            RatingRecord.rated_at >= start, RatingRecord.rated_at < end
        )
        return select(TicketRecord.id).where(
            TicketRecord.created_at < end,
            or_(
                TicketRecord.status.in_(_ACTIVE),
                TicketRecord.updated_at >= start,
                TicketRecord.id.in_(rated),
            ),
        )

    async def histories(self, start: datetime, end: datetime) -> list[TicketHistory]:
        """What :func:`models.stats.compute_report` needs for ``[start, end)``, in five queries
        (tickets with team names, their events up to the end, their ratings, their channels,
        their customer messages of the period per channel). A customer's message moves its
        ticket's ``updated_at``, so every ticket with one in the period is among ``ids``."""
        ids = self._relevant_ids(start, end)
        rows = await self.session.execute(
            select(TicketRecord, TeamRecord.name)
            .outerjoin(TeamRecord, TeamRecord.id == TicketRecord.team_id)
            .where(TicketRecord.id.in_(ids))
            .order_by(TicketRecord.id)
        )
        tickets = [(mappers.ticket_from(record), team) for record, team in rows]
        events: dict[int, list[TicketEvent]] = {}
        for record in (
            await self.session.execute(
                select(TicketEventRecord)
                .where(
                    TicketEventRecord.ticket_id.in_(ids),
                    TicketEventRecord.kind.in_(STATS_EVENT_KINDS),
                    TicketEventRecord.at < end,
                )
                .order_by(TicketEventRecord.ticket_id, TicketEventRecord.id)
            )
        ).scalars():
            events.setdefault(record.ticket_id, []).append(mappers.event_from(record))
        ratings = {
            r.ticket_id: mappers.rating_from(r)
            for r in (
                await self.session.execute(
                    select(RatingRecord).where(RatingRecord.ticket_id.in_(ids))
                )
            ).scalars()
        }
        channels = await first_channels(self.session, ids)
        messages_in: dict[int, list[tuple[Channel, int]]] = {}
        for ticket_id, channel, count in await self.session.execute(
            select(TicketMessageRecord.ticket_id, TicketMessageRecord.channel, func.count())
            .where(
                TicketMessageRecord.ticket_id.in_(ids),
                TicketMessageRecord.direction == _CUSTOMER,
                TicketMessageRecord.sent_at >= start,
                TicketMessageRecord.sent_at < end,
            )
            .group_by(TicketMessageRecord.ticket_id, TicketMessageRecord.channel)
        ):
            messages_in.setdefault(int(ticket_id), []).append((Channel(channel), int(count)))
        return [
            TicketHistory(
                ticket=ticket,
                events=tuple(events.get(ticket.id or 0, ())),
                team=team,
                rating=ratings.get(ticket.id or 0),
                channel=channels.get(ticket.id or 0),
                messages_in=tuple(sorted(messages_in.get(ticket.id or 0, ()))),
            )
            for ticket, team in tickets
        ]

    async def agent_names(self) -> dict[int, str]:
        rows = await self.session.execute(select(AgentRecord.id, AgentRecord.name))
        return {int(row.id): str(row.name) for row in rows}


class ExportRepository:
    """Everything of a period, streamed (server-side cursors on PostgreSQL), oldest first."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _stream(self, stmt: Executable) -> AsyncIterator[Any]:
        result = await self.session.stream(stmt.execution_options(yield_per=STREAM_BATCH))
        async for row in result:
            yield row

    async def tickets(
        self, start: datetime, end: datetime
    ) -> AsyncIterator[tuple[Ticket, str | None, str | None, Channel | None]]:
        """Tickets created in ``[start, end)`` with their team's and assignee's names and their
        channel."""
        stmt = (
            select(
                TicketRecord, TeamRecord.name, AgentRecord.name, first_channel_of(TicketRecord.id)
            )
            .outerjoin(TeamRecord, TeamRecord.id == TicketRecord.team_id)
            .outerjoin(AgentRecord, AgentRecord.id == TicketRecord.assignee_id)
            .where(TicketRecord.created_at >= start, TicketRecord.created_at < end)
            .order_by(TicketRecord.id)
        )
        async for record, team, assignee, channel in self._stream(stmt):
            yield (
                mappers.ticket_from(record),
                team,
                assignee,
                None if channel is None else Channel(channel),
            )

    async def messages(
        self, start: datetime, end: datetime
    ) -> AsyncIterator[tuple[int, TicketMessage]]:
        """Messages sent in ``[start, end)``, with their ticket's number."""
        stmt = (
            select(TicketMessageRecord, TicketRecord.number)
            .join(TicketRecord, TicketRecord.id == TicketMessageRecord.ticket_id)
            .where(TicketMessageRecord.sent_at >= start, TicketMessageRecord.sent_at < end)
            .order_by(TicketMessageRecord.id)
        )
        async for record, number in self._stream(stmt):
            yield number, mappers.message_from(record)

    async def events(
        self, start: datetime, end: datetime
    ) -> AsyncIterator[tuple[int, TicketEvent]]:
        """Ticket events in ``[start, end)``, with their ticket's number."""
        stmt = (
            select(TicketEventRecord, TicketRecord.number)
            .join(TicketRecord, TicketRecord.id == TicketEventRecord.ticket_id)
            .where(TicketEventRecord.at >= start, TicketEventRecord.at < end)
            .order_by(TicketEventRecord.id)
        )
        async for record, number in self._stream(stmt):
            yield number, mappers.event_from(record)

    async def ratings(self, start: datetime, end: datetime) -> AsyncIterator[tuple[int, Rating]]:
        """Ratings given in ``[start, end)``, with their ticket's number."""
        stmt = (
            select(RatingRecord, TicketRecord.number)
            .join(TicketRecord, TicketRecord.id == RatingRecord.ticket_id)
            .where(RatingRecord.rated_at >= start, RatingRecord.rated_at < end)
            .order_by(RatingRecord.id)
        )
        async for record, number in self._stream(stmt):
            yield number, mappers.rating_from(record)
