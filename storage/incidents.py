"""Incidents, their bulk replies, and the ticket queries surge detection needs.

Detection runs in every worker that processes a customer's message; :meth:`IncidentRepository.
lock` makes the decision one at a time across workers (a row lock on PostgreSQL, SQLite's one
writer elsewhere), so a surge becomes one incident, not one per worker.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import Ticket
from models.incidents import BulkReply, Incident, IncidentStatus
from storage.orm import BulkReplyRecord, CounterRecord, IncidentRecord, TicketRecord
from storage.tickets import TicketRepository
from storage.tracking import DONE_STATUSES, TrackingRepository


def _incident_from(record: IncidentRecord) -> Incident:
    return Incident(
        number=record.number,
        created_at=record.created_at,
        category=record.category,
        status=IncidentStatus(record.status),
        subject=record.subject,
        updated_at=record.updated_at,
        closed_at=record.closed_at,
        agent_chat_id=record.agent_chat_id,
        thread_id=record.thread_id,
        card_message_id=record.card_message_id,
        id=record.id,
    )


def _reply_from(record: BulkReplyRecord) -> BulkReply:
    return BulkReply(
        incident_id=record.incident_id,
        agent_chat_id=record.agent_chat_id,
        agent_message_id=record.agent_message_id,
        author_agent_id=record.author_agent_id,
        sent_at=record.sent_at,
        text=record.text,
        note=record.note,
        total=record.total,
        sent=record.sent,
        failed=record.failed,
        id=record.id,
    )


class IncidentRepository(TrackingRepository[Incident, IncidentRecord]):
    record_cls = IncidentRecord
    to_domain = staticmethod(_incident_from)

    def __init__(self, session: AsyncSession, tickets: TicketRepository) -> None:
        super().__init__(session)
        #: Linked tickets are read through it, so the unit of work saves their changes.
        self.tickets = tickets

    async def lock(self) -> int:
        """Wait for the detection lock (held until commit or rollback); returns the highest
        incident number so far. Whatever was committed before the lock was granted is visible
        to the statements after it (READ COMMITTED; SQLite: this transaction began after it)."""
        value = await self.session.scalar(
            select(CounterRecord.value).where(CounterRecord.name == "incident").with_for_update()
        )
        if value is None:
            raise RuntimeError("the incident counter row is missing (migration 0015)")
        return int(value)

    async def add(self, obj: Incident) -> Incident:
        """Store a new incident; call under :meth:`lock`, which read the number before it."""
        await self.session.execute(
            update(CounterRecord).where(CounterRecord.name == "incident").values(value=obj.number)
        )
        return await super().add(obj)

    async def get_for_update(self, incident_id: int) -> Incident | None:
        """The incident, locked until commit (PostgreSQL ``FOR UPDATE``; SQLite has one writer):
        joining, replying, resolving and splitting each see the others' committed result."""
        return await self._one(
            select(IncidentRecord)
            .where(IncidentRecord.id == incident_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def open(self) -> list[Incident]:
        return await self._many(
            select(IncidentRecord)
            .where(IncidentRecord.status == str(IncidentStatus.OPEN))
            .order_by(IncidentRecord.id)
        )

    async def by_number(self, number: int) -> Incident | None:
        return await self._one(select(IncidentRecord).where(IncidentRecord.number == number))

    async def by_topic(self, chat_id: int, thread_id: int) -> Incident | None:
        return await self._one(
            select(IncidentRecord).where(
                IncidentRecord.agent_chat_id == chat_id, IncidentRecord.thread_id == thread_id
            )
        )

    async def by_card(self, chat_id: int, message_id: int) -> Incident | None:
        return await self._one(
            select(IncidentRecord).where(
                IncidentRecord.agent_chat_id == chat_id,
                IncidentRecord.card_message_id == message_id,
            )
        )

    # -- linked tickets ------------------------------------------------------------------------

    async def members(self, incident_id: int, *, active_only: bool = False) -> list[Ticket]:
        """The tickets linked to an incident, oldest first (tracked: changes are saved)."""
        stmt = select(TicketRecord).where(TicketRecord.incident_id == incident_id)
        if active_only:
            stmt = stmt.where(TicketRecord.status.not_in(DONE_STATUSES))
        return await self._tickets(stmt.order_by(TicketRecord.id))

    async def latest_members(self, incident_id: int, limit: int) -> list[Ticket]:
        return await self._tickets(
            select(TicketRecord)
            .where(TicketRecord.incident_id == incident_id)
            .order_by(TicketRecord.id.desc())
            .limit(limit)
        )

    async def member_counts(self, incident_id: int) -> tuple[int, int]:
        """(linked tickets, of them still active)."""
        row = (
            await self.session.execute(
                select(
                    func.count(),
                    func.count().filter(TicketRecord.status.not_in(DONE_STATUSES)),
                ).where(TicketRecord.incident_id == incident_id)
            )
        ).one()
        return int(row[0]), int(row[1])

    async def first_and_latest(self, incident_id: int) -> tuple[Ticket, Ticket] | None:
        first = await self._tickets(
            select(TicketRecord)
            .where(TicketRecord.incident_id == incident_id)
            .order_by(TicketRecord.id)
            .limit(1)
        )
        latest = await self.latest_members(incident_id, 1)
        return (first[0], latest[0]) if first and latest else None

    async def unlinked_since(
        self, since: datetime, *, exclude: int, limit: int
    ) -> list[tuple[int, str]]:
        """(id, subject) of the active tickets created since ``since`` that no incident has
        (nor had: detached ones never join again), newest first: the candidates of a new
        cluster. Plain rows, not tracked tickets: detection reads them twice (before and under
        the lock) and must not write back what it read first."""
        rows = await self.session.execute(
            select(TicketRecord.id, TicketRecord.subject)
            .where(
                TicketRecord.created_at >= since,
                TicketRecord.id != exclude,
                TicketRecord.incident_id.is_(None),
                TicketRecord.incident_detached.is_(False),
                TicketRecord.merged_into_id.is_(None),
                TicketRecord.status.not_in(DONE_STATUSES),
            )
            .order_by(TicketRecord.id.desc())
            .limit(limit)
        )
        return [(int(i), str(subject)) for i, subject in rows]

    async def member_subjects(self, incident_id: int, limit: int) -> list[str]:
        """The subjects of an incident's newest tickets (what a new ticket is compared with)."""
        rows = await self.session.scalars(
            select(TicketRecord.subject)
            .where(TicketRecord.incident_id == incident_id)
            .order_by(TicketRecord.id.desc())
            .limit(limit)
        )
        return list(rows)

    async def _tickets(self, stmt: Select[Any]) -> list[Ticket]:
        return await self.tickets._many(stmt)

    # -- bulk replies --------------------------------------------------------------------------

    async def add_reply(self, reply: BulkReply) -> BulkReply:
        record = BulkReplyRecord(
            incident_id=reply.incident_id,
            agent_chat_id=reply.agent_chat_id,
            agent_message_id=reply.agent_message_id,
            author_agent_id=reply.author_agent_id,
            sent_at=reply.sent_at,
            text=reply.text,
            note=reply.note,
            total=reply.total,
            sent=0,
            failed=0,
        )
        self.session.add(record)
        await self.session.flush()
        reply.id = record.id
        return reply

    async def reply_by_agent_side(self, chat_id: int, message_id: int) -> BulkReply | None:
        record = await self.session.scalar(
            select(BulkReplyRecord).where(
                BulkReplyRecord.agent_chat_id == chat_id,
                BulkReplyRecord.agent_message_id == message_id,
            )
        )
        return None if record is None else _reply_from(record)

    async def latest_reply(self, incident_id: int) -> BulkReply | None:
        record = await self.session.scalar(
            select(BulkReplyRecord)
            .where(BulkReplyRecord.incident_id == incident_id, BulkReplyRecord.note.is_(False))
            .order_by(BulkReplyRecord.id.desc())
            .limit(1)
        )
        return None if record is None else _reply_from(record)

    async def count_delivery(self, reply_id: int, *, ok: bool) -> BulkReply | None:
        """One customer's copy went out (or failed for good): counted with one atomic UPDATE,
        since the calls of one bulk reply go out in parallel (one private chat each)."""
        column = BulkReplyRecord.sent if ok else BulkReplyRecord.failed
        await self.session.execute(
            update(BulkReplyRecord)
            .where(BulkReplyRecord.id == reply_id)
            .values({column: column + 1})
            .execution_options(synchronize_session=False)
        )
        record = await self.session.scalar(
            select(BulkReplyRecord)
            .where(BulkReplyRecord.id == reply_id)
            .execution_options(populate_existing=True)
        )
        return None if record is None else _reply_from(record)
