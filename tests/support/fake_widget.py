"""The fake website chat widget's visitors and conversations (see :mod:`tests.support.fake_uow`):
rows written by statements at once, as in ``storage.widget``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from models.widget import Direction, Visitor, WidgetMessage
from tests.support.fake_stores import FakeState


@dataclass
class VisitorRow:
    id: int
    token_hash: str
    name: str | None
    email: str | None
    created_at: datetime
    last_seq: int = 0
    customer_id: int | None = None
    last_read_at: datetime | None = None

    def visitor(self) -> Visitor:
        return Visitor(
            self.id,
            self.customer_id or 0,
            self.name,
            self.email,
            self.created_at,
            self.last_read_at,
        )


@dataclass
class ConversationRow:
    id: int
    visitor_id: int
    seq: int
    direction: Direction
    text: str
    created_at: datetime
    ticket_id: int | None = None
    client_id: str | None = None
    outbox_id: int | None = None

    def message(self, ticket_number: int | None = None) -> WidgetMessage:
        return WidgetMessage(
            self.seq,
            self.direction,
            self.text,
            self.created_at,
            ticket_number,
            self.client_id,
            self.id,
        )


class FakeWidget:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    @property
    def _visitors(self) -> dict[int, VisitorRow]:
        return self._state.table("widget_visitors")

    @property
    def _messages(self) -> dict[int, ConversationRow]:
        return self._state.table("widget_messages")

    async def add_visitor(
        self, token_hash: str, name: str | None, email: str | None, now: datetime
    ) -> int:
        row = VisitorRow(self._state.next_id("widget_visitors"), token_hash, name, email, now)
        self._visitors[row.id] = row
        return row.id

    async def link(self, visitor_id: int, customer_id: int) -> None:
        if visitor_id in self._visitors:
            self._visitors[visitor_id].customer_id = customer_id

    async def seen(self, visitor_id: int, now: datetime) -> None:
        if visitor_id in self._visitors:
            self._visitors[visitor_id].last_read_at = now

    async def by_token_hash(self, token_hash: str) -> Visitor | None:
        found = (v for v in self._visitors.values() if v.token_hash == token_hash)
        row = next(found, None)
        return None if row is None or row.customer_id is None else row.visitor()

    async def by_customer(self, customer_id: int) -> Visitor | None:
        found = (v for v in self._visitors.values() if v.customer_id == customer_id)
        return next((v.visitor() for v in found), None)

    def _next_seq(self, visitor_id: int) -> int:
        visitor = self._visitors[visitor_id]
        visitor.last_seq += 1
        return visitor.last_seq

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
        row = ConversationRow(
            self._state.next_id("widget_messages"),
            visitor_id,
            self._next_seq(visitor_id),
            direction,
            text,
            now,
            ticket_id,
            client_id,
        )
        self._messages[row.id] = row
        return row.message()

    async def by_client_id(self, visitor_id: int, client_id: str) -> WidgetMessage | None:
        found = (
            m
            for m in self._messages.values()
            if m.visitor_id == visitor_id and m.client_id == client_id
        )
        return next((m.message() for m in found), None)

    async def deliver(
        self, customer_id: int, outbox_id: int, text: str, ticket_id: int | None, now: datetime
    ) -> tuple[Visitor | None, bool]:
        visitor = await self.by_customer(customer_id)
        if visitor is None:
            return None, False
        if any(m.outbox_id == outbox_id for m in self._messages.values()):
            return visitor, False
        seq = self._next_seq(visitor.id)
        row_id = self._state.next_id("widget_messages")
        row = ConversationRow(row_id, visitor.id, seq, Direction.DESK, text, now, ticket_id)
        self._messages[row_id] = replace(row, outbox_id=outbox_id)
        return visitor, True

    async def after(self, visitor_id: int, seq: int, limit: int = 100) -> list[WidgetMessage]:
        tickets = self._state.table("tickets")
        mine = sorted(
            (m for m in self._messages.values() if m.visitor_id == visitor_id and m.seq > seq),
            key=lambda m: m.seq,
        )
        return [
            m.message(tickets[m.ticket_id].number if m.ticket_id in tickets else None)
            for m in mine[:limit]
        ]
