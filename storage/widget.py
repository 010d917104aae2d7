"""The website chat widget's visitors and their conversations (see :mod:`models.widget`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.widget import Direction, Visitor, WidgetMessage
from storage.orm import TicketRecord, WidgetMessageRecord, WidgetVisitorRecord


def _visitor(record: WidgetVisitorRecord) -> Visitor:
    return Visitor(
        id=record.id,
        customer_id=record.customer_id or 0,
        name=record.name,
        email=record.email,
        created_at=record.created_at,
        last_read_at=record.last_read_at,
    )


def _message(record: WidgetMessageRecord, ticket_number: int | None) -> WidgetMessage:
    return WidgetMessage(
        seq=record.seq,
        direction=Direction(record.direction),
        text=record.text,
        created_at=record.created_at,
        ticket_number=ticket_number,
        client_id=record.client_id,
        id=record.id,
    )


class WidgetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_visitor(
        self, token_hash: str, name: str | None, email: str | None, now: datetime
    ) -> int:
        """A new visitor's row (its customer is linked by :meth:`link`); returns its id."""
        record = WidgetVisitorRecord(
            token_hash=token_hash, name=name, email=email, last_seq=0, created_at=now
        )
        self.session.add(record)
        await self.session.flush()
        return record.id

    async def link(self, visitor_id: int, customer_id: int) -> None:
        await self.session.execute(
            update(WidgetVisitorRecord)
            .where(WidgetVisitorRecord.id == visitor_id)
            .values(customer_id=customer_id)
        )

    async def seen(self, visitor_id: int, now: datetime) -> None:
        """The visitor's widget read their conversation (they are not away)."""
        await self.session.execute(
            update(WidgetVisitorRecord)
            .where(WidgetVisitorRecord.id == visitor_id)
            .values(last_read_at=now)
        )

    async def by_token_hash(self, token_hash: str) -> Visitor | None:
        record = await self.session.scalar(
            select(WidgetVisitorRecord).where(WidgetVisitorRecord.token_hash == token_hash)
        )
        return None if record is None or record.customer_id is None else _visitor(record)

    async def by_customer(self, customer_id: int) -> Visitor | None:
        record = await self.session.scalar(
            select(WidgetVisitorRecord).where(WidgetVisitorRecord.customer_id == customer_id)
        )
        return None if record is None else _visitor(record)

    async def _next_seq(self, visitor_id: int) -> int:
        """The visitor's next number. The update holds their row until the transaction ends
        (PostgreSQL's row lock; SQLite has one writer), so numbers commit in order: a reader
        that saw ``seq`` n never later finds a new row below it."""
        seq = await self.session.scalar(
            update(WidgetVisitorRecord)
            .where(WidgetVisitorRecord.id == visitor_id)
            .values(last_seq=WidgetVisitorRecord.last_seq + 1)
            .returning(WidgetVisitorRecord.last_seq)
        )
        assert seq is not None, f"no visitor {visitor_id}"
        return int(seq)

    async def add_message(
        self,
        visitor_id: int,
        direction: Direction,
        text: str,
        now: datetime,
        *,
        ticket_id: int | None = None,
        client_id: str | None = None,
    ) -> WidgetMessage:
        """A row of the visitor's conversation (a visitor's message's id is its
        ``customer_message_id`` in the ticket)."""
        record = WidgetMessageRecord(
            visitor_id=visitor_id,
            seq=await self._next_seq(visitor_id),
            direction=str(direction),
            text=text,
            ticket_id=ticket_id,
            client_id=client_id,
            created_at=now,
        )
        self.session.add(record)
        await self.session.flush()
        return _message(record, None)

    async def by_client_id(self, visitor_id: int, client_id: str) -> WidgetMessage | None:
        """The visitor's message the widget sent with ``client_id`` before."""
        record = await self.session.scalar(
            select(WidgetMessageRecord).where(
                WidgetMessageRecord.visitor_id == visitor_id,
                WidgetMessageRecord.client_id == client_id,
            )
        )
        return None if record is None else _message(record, None)

    async def deliver(
        self, customer_id: int, outbox_id: int, text: str, ticket_id: int | None, now: datetime
    ) -> tuple[Visitor | None, bool]:
        """Store the desk's text (the outbox call ``outbox_id``) in its visitor's conversation;
        returns the visitor (None: no such visitor) and whether it was stored now (a call
        stored before is not stored again)."""
        visitor = await self.by_customer(customer_id)
        if visitor is None:
            return None, False
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        done = await self.session.scalar(
            select(WidgetMessageRecord.id).where(WidgetMessageRecord.outbox_id == outbox_id)
        )
        if done is not None:
            return visitor, False
        stmt = (
            insert(WidgetMessageRecord)
            .values(
                visitor_id=visitor.id,
                seq=await self._next_seq(visitor.id),
                direction=str(Direction.DESK),
                text=text,
                ticket_id=ticket_id,
                outbox_id=outbox_id,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["outbox_id"])
        )
        result = await self.session.execute(stmt)
        return visitor, bool(result.rowcount)  # type: ignore[attr-defined]

    async def after(self, visitor_id: int, seq: int, limit: int = 100) -> list[WidgetMessage]:
        """The visitor's conversation after ``seq``, oldest first (at most ``limit`` rows)."""
        rows = await self.session.execute(
            select(WidgetMessageRecord, TicketRecord.number)
            .outerjoin(TicketRecord, TicketRecord.id == WidgetMessageRecord.ticket_id)
            .where(WidgetMessageRecord.visitor_id == visitor_id, WidgetMessageRecord.seq > seq)
            .order_by(WidgetMessageRecord.seq)
            .limit(limit)
        )
        return [_message(record, number) for record, number in rows.all()]
