"""Inbox and outbox tables: the persisted edges of the bot."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Select,
    Table,
    Update,
    bindparam,
    delete,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.delivery import (
    INBOX_MAX_ATTEMPTS,
    Appearance,
    Channel,
    InboxStatus,
    Lane,
    OnSent,
    OutboundCall,
    OutboxStatus,
    Queue,
    decode_params,
    encode_params,
)
from storage.orm import InboxRecord, OutboxRecord, ShownMessageRecord
from storage.ports.rows import InboxItem

# The processor and the sender run these hundreds of times a second: built once, on the tables
# themselves (plain rows, no ORM identity map or bulk-update bookkeeping).
_INBOX: Table = InboxRecord.__table__  # type: ignore[assignment]
_OUTBOX: Table = OutboxRecord.__table__  # type: ignore[assignment]
_MARK_DONE = (
    update(_INBOX)
    .where(
        _INBOX.c.update_id == bindparam("p_update_id", type_=_INBOX.c.update_id.type),
        _INBOX.c.status == bindparam("p_pending", type_=_INBOX.c.status.type),
    )
    .values(
        status=bindparam("p_done", type_=_INBOX.c.status.type),
        processed_at=bindparam("p_now", type_=_INBOX.c.processed_at.type),
        last_error=None,
    )
)


class AlreadyProcessed(Exception):
    """The update was processed by someone else first; this attempt's changes roll back."""

    def __init__(self, update_id: int) -> None:
        super().__init__(f"update {update_id} was already processed")
        self.update_id = update_id


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_many(self, updates: list[tuple[int, str]], now: datetime) -> int:
        """Store raw updates; an update seen before is ignored. Returns how many were new."""
        if not updates:
            return 0
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        rows = [
            {
                "update_id": uid,
                "payload": payload,
                "status": str(InboxStatus.PENDING),
                "attempts": 0,
                "received_at": now,
            }
            for uid, payload in updates
        ]
        stmt = (
            insert(InboxRecord)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["update_id"])
            .returning(InboxRecord.update_id)
        )
        return len((await self.session.execute(stmt)).all())

    async def pending(self, limit: int = 100, after: int | None = None) -> list[InboxItem]:
        """The oldest unprocessed updates (with ``update_id`` above ``after``, if given)."""
        query = select(InboxRecord.update_id, InboxRecord.payload, InboxRecord.attempts).where(
            InboxRecord.status == str(InboxStatus.PENDING)
        )
        if after is not None:
            query = query.where(InboxRecord.update_id > after)
        rows = await self.session.execute(query.order_by(InboxRecord.update_id).limit(limit))
        return [InboxItem(uid, json.loads(payload), attempts) for uid, payload, attempts in rows]

    async def still_pending(self, update_ids: list[int]) -> set[int]:
        """Which of these updates nobody has processed yet (a fresh read, for several workers)."""
        if not update_ids:
            return set()
        rows = await self.session.execute(
            select(InboxRecord.update_id).where(
                InboxRecord.update_id.in_(update_ids),
                InboxRecord.status == str(InboxStatus.PENDING),
            )
        )
        return set(rows.scalars())

    async def mark_done(self, update_id: int, now: datetime) -> None:
        """Mark a pending update processed, in the transaction that applied it.

        Raises :class:`AlreadyProcessed` when it is not pending any more: another worker (or an
        earlier attempt) committed it first, so this transaction must roll back. On PostgreSQL
        a concurrent transaction holding the row waits here and then sees it done.
        """
        result = await self.session.execute(
            _MARK_DONE,
            {
                "p_update_id": update_id,
                "p_pending": str(InboxStatus.PENDING),
                "p_done": str(InboxStatus.DONE),
                "p_now": now,
            },
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise AlreadyProcessed(update_id)

    async def record_failure(
        self, update_id: int, error: str, now: datetime, *, park: bool = False
    ) -> bool:
        """Count a failed attempt; returns True when the update is now parked (after
        ``INBOX_MAX_ATTEMPTS`` attempts, or at once with ``park``).

        An update whose handler already committed (status done) stays done: the failure came
        after its effects were stored, and running it again would apply them twice.
        """
        row = (
            await self.session.execute(
                select(InboxRecord.attempts, InboxRecord.status).where(
                    InboxRecord.update_id == update_id
                )
            )
        ).first()
        if row is None or row.status != str(InboxStatus.PENDING):
            return row is not None and row.status == str(InboxStatus.PARKED)
        attempts = row.attempts + 1
        parked = park or attempts >= INBOX_MAX_ATTEMPTS
        await self.session.execute(
            update(InboxRecord)
            .where(InboxRecord.update_id == update_id)
            .values(
                attempts=attempts,
                last_error=error[:4000],
                status=str(InboxStatus.PARKED if parked else InboxStatus.PENDING),
                processed_at=now if parked else None,
            )
        )
        return parked

    async def parked(self, limit: int = 20) -> list[tuple[int, int, str | None]]:
        rows = await self.session.execute(
            select(InboxRecord.update_id, InboxRecord.attempts, InboxRecord.last_error)
            .where(InboxRecord.status == str(InboxStatus.PARKED))
            .order_by(InboxRecord.update_id.desc())
            .limit(limit)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]

    async def counts(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(InboxRecord.status, func.count()).group_by(InboxRecord.status)
        )
        return {status: int(n) for status, n in rows}

    async def prune(self, received_before: datetime, limit: int) -> int:
        """Delete up to ``limit`` processed updates received before ``received_before``.

        Parked updates are kept for ``/failed``. Telegram resends an unconfirmed update for at
        most 24 hours, so a retention above a day still recognises every repeat.
        """
        oldest = (
            select(InboxRecord.update_id)
            .where(
                InboxRecord.received_at < received_before,
                InboxRecord.status == str(InboxStatus.DONE),
            )
            .order_by(InboxRecord.received_at)
            .limit(limit)
        )
        result = await self.session.execute(
            delete(InboxRecord).where(InboxRecord.update_id.in_(oldest.scalar_subquery()))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def oldest_pending(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(InboxRecord.received_at)).where(
                InboxRecord.status == str(InboxStatus.PENDING)
            )
        )


def _call_from(record: Any) -> OutboundCall:
    """A call from its record (an ORM object or a row of the outbox table)."""
    return OutboundCall(
        id=record.id,
        channel=Channel(record.channel),
        chat_id=record.chat_id,
        method=record.method,
        params=decode_params(record.params),
        lane=Lane(record.lane),
        ticket_id=record.ticket_id,
        on_sent=OnSent(record.on_sent) if record.on_sent else None,
        ref_id=record.ref_id,
        dedupe_key=record.dedupe_key,
        status=OutboxStatus(record.status),
        attempts=record.attempts,
        not_before=record.not_before,
        created_at=record.created_at,
        sent_at=record.sent_at,
        last_error=record.last_error,
        result=json.loads(record.result) if record.result else None,
    )


@cache
def _queued_in(limit: int) -> Select[Any]:
    return (
        select(_OUTBOX)
        .where(
            _OUTBOX.c.status == bindparam("status", type_=_OUTBOX.c.status.type),
            _OUTBOX.c.channel == bindparam("channel", type_=_OUTBOX.c.channel.type),
            _OUTBOX.c.chat_id == bindparam("chat_id", type_=_OUTBOX.c.chat_id.type),
        )
        .order_by(_OUTBOX.c.lane, _OUTBOX.c.id)
        .limit(limit)
    )


@cache
def _setter(columns: tuple[str, ...]) -> Update:
    return (
        update(_OUTBOX)
        .where(_OUTBOX.c.id == bindparam("call_id"))
        .values({name: bindparam(f"new_{name}", type_=_OUTBOX.c[name].type) for name in columns})
    )


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        #: Calls queued in this transaction, written by :meth:`write_queued` at commit.
        self._queued: list[dict[str, Any]] = []

    async def add(self, call: OutboundCall, now: datetime) -> OutboundCall:
        """Queue a call (see :meth:`superseded` for calls sharing a ``dedupe_key``).

        Nothing is written yet: the unit of work writes every call queued in the transaction
        with one multi-row statement at commit (:meth:`write_queued`), in the order they were
        queued, so their ids keep that order.
        """
        self._queued.append(
            {
                "channel": str(call.channel),
                "chat_id": call.chat_id,
                "method": call.method,
                "params": encode_params(call.params),
                "lane": int(call.lane),
                "status": str(OutboxStatus.PENDING),
                "attempts": 0,
                "not_before": call.not_before,
                "created_at": now,
                "ticket_id": call.ticket_id,
                "on_sent": str(call.on_sent) if call.on_sent else None,
                "ref_id": call.ref_id,
                "dedupe_key": call.dedupe_key,
            }
        )
        call.created_at = now
        return call

    def discard_queued(self) -> None:
        """Forget the calls queued in a transaction that rolls back."""
        self._queued = []

    async def write_queued(self) -> int:
        """Write the calls queued in this transaction (called by the unit of work's commit,
        after everything they refer to was flushed)."""
        rows, self._queued = self._queued, []
        if rows:
            await self.session.execute(insert(_OUTBOX), rows)
        return len(rows)

    async def superseded(self, call: OutboundCall) -> bool:
        """Whether a newer pending call has the same ``dedupe_key`` (this one can be skipped).

        Coalescing happens when sending, not when queueing: a call already on the wire must not
        swallow a newer one, or the newest state would never be shown.
        """
        if call.dedupe_key is None:
            return False
        newer = await self.session.scalar(
            select(OutboxRecord.id)
            .where(
                OutboxRecord.dedupe_key == call.dedupe_key,
                OutboxRecord.status == str(OutboxStatus.PENDING),
                OutboxRecord.id > (call.id or 0),
            )
            .limit(1)
        )
        return newer is not None

    async def get(self, call_id: int) -> OutboundCall | None:
        record = await self.session.get(OutboxRecord, call_id)
        return None if record is None else _call_from(record)

    async def next_in(self, queue: Queue) -> OutboundCall | None:
        """The next pending call of one queue (lane, then id), if any."""
        found = await self.queued_in(queue, 1)
        return found[0] if found else None

    async def queued_in(self, queue: Queue, limit: int) -> list[OutboundCall]:
        """The first ``limit`` pending calls of one queue, in sending order (lane, then id)."""
        channel, chat_id = queue
        rows = await self.session.execute(
            _queued_in(limit),
            {"status": str(OutboxStatus.PENDING), "channel": str(channel), "chat_id": chat_id},
        )
        return [_call_from(row) for row in rows]

    async def queued_for_ticket(self, queue: Queue, ticket_id: int) -> list[OutboundCall]:
        """A ticket's pending calls in one queue, in sending order (lane, then id)."""
        channel, chat_id = queue
        records = await self.session.scalars(
            select(OutboxRecord)
            .where(
                OutboxRecord.status == str(OutboxStatus.PENDING),
                OutboxRecord.channel == str(channel),
                OutboxRecord.chat_id == chat_id,
                OutboxRecord.ticket_id == ticket_id,
            )
            .order_by(OutboxRecord.lane, OutboxRecord.id)
        )
        return [_call_from(record) for record in records]

    async def heads(self, limit: int = 1000) -> list[OutboundCall]:
        """The next call of every queue that has pending calls (order: lane, then id)."""
        rank = (
            func.row_number()
            .over(
                partition_by=(OutboxRecord.channel, OutboxRecord.chat_id),
                order_by=(OutboxRecord.lane, OutboxRecord.id),
            )
            .label("rank")
        )
        ranked = (
            select(OutboxRecord.id, rank)
            .where(OutboxRecord.status == str(OutboxStatus.PENDING))
            .subquery()
        )
        rows = await self.session.execute(
            select(OutboxRecord)
            .join(ranked, ranked.c.id == OutboxRecord.id)
            .where(ranked.c.rank == 1)
            .order_by(OutboxRecord.id)
            .limit(limit)
        )
        return [_call_from(record) for record in rows.scalars()]

    async def mark_sent(self, call_id: int, result: object, now: datetime) -> None:
        await self._set(
            call_id,
            status=str(OutboxStatus.SENT),
            sent_at=now,
            result=json.dumps(result, ensure_ascii=False, default=str),
            last_error=None,
        )

    async def retry_later(
        self, call_id: int, not_before: datetime, error: str, *, count: bool = True
    ) -> None:
        """Put a call back for later; ``count=False`` for waits that are not failures (429)."""
        await self.session.execute(
            update(OutboxRecord)
            .where(OutboxRecord.id == call_id)
            .values(
                attempts=OutboxRecord.attempts + (1 if count else 0),
                not_before=not_before,
                last_error=error[:2000],
            )
        )

    async def give_up(self, call_id: int, status: OutboxStatus, error: str) -> None:
        await self.session.execute(
            update(OutboxRecord)
            .where(OutboxRecord.id == call_id)
            .values(
                status=str(status), attempts=OutboxRecord.attempts + 1, last_error=error[:2000]
            )
        )

    async def _set(self, call_id: int, **values: object) -> None:
        params = {f"new_{name}": value for name, value in values.items()}
        await self.session.execute(_setter(tuple(sorted(values))), {"call_id": call_id, **params})

    async def prune(self, created_before: datetime, limit: int) -> int:
        """Delete up to ``limit`` calls queued before ``created_before`` that were sent or
        skipped; failed and unknown ones are kept for ``/failed``."""
        oldest = (
            select(OutboxRecord.id)
            .where(
                OutboxRecord.created_at < created_before,
                OutboxRecord.status.in_([str(OutboxStatus.SENT), str(OutboxStatus.SKIPPED)]),
            )
            .order_by(OutboxRecord.created_at)
            .limit(limit)
        )
        result = await self.session.execute(
            delete(OutboxRecord).where(OutboxRecord.id.in_(oldest.scalar_subquery()))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def failed(self, limit: int = 10) -> list[OutboundCall]:
        """The most recent calls that were given up on (failed or unknown outcome)."""
        rows = await self.session.execute(
            select(OutboxRecord)
            .where(OutboxRecord.status.in_([str(OutboxStatus.FAILED), str(OutboxStatus.UNKNOWN)]))
            .order_by(OutboxRecord.id.desc())
            .limit(limit)
        )
        return [_call_from(r) for r in rows.scalars()]

    async def delivery_seconds(self, since: datetime, limit: int = 10000) -> list[float]:
        """Seconds from queueing to sending, for calls sent since ``since`` (newest first)."""
        rows = await self.session.execute(
            select(OutboxRecord.created_at, OutboxRecord.sent_at)
            .where(
                OutboxRecord.status == str(OutboxStatus.SENT),
                OutboxRecord.sent_at >= since,
            )
            .order_by(OutboxRecord.id.desc())
            .limit(limit)
        )
        return [(sent - created).total_seconds() for created, sent in rows if sent and created]

    async def stats(self, now: datetime) -> dict[str, object]:
        counts = dict(
            (
                await self.session.execute(
                    select(OutboxRecord.status, func.count()).group_by(OutboxRecord.status)
                )
            ).all()
        )
        oldest = await self.session.scalar(
            select(func.min(OutboxRecord.created_at)).where(
                OutboxRecord.status == str(OutboxStatus.PENDING)
            )
        )
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=now.tzinfo)
        return {
            "pending": int(counts.get(str(OutboxStatus.PENDING), 0)),
            "failed": int(counts.get(str(OutboxStatus.FAILED), 0)),
            "unknown": int(counts.get(str(OutboxStatus.UNKNOWN), 0)),
            "sent": int(counts.get(str(OutboxStatus.SENT), 0)),
            "oldest_pending_s": (now - oldest).total_seconds() if oldest else 0.0,
        }

    async def backlog(self, chat_id: int) -> tuple[int, datetime | None]:
        """How many calls to one Telegram chat wait, and when the oldest of them was queued."""
        count, oldest = (
            await self.session.execute(
                select(func.count(), func.min(OutboxRecord.created_at)).where(
                    OutboxRecord.status == str(OutboxStatus.PENDING),
                    OutboxRecord.channel == str(Channel.TELEGRAM),
                    OutboxRecord.chat_id == chat_id,
                )
            )
        ).one()
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return int(count), oldest


class ShownRepository:
    """What the bot's editable messages show now (see :class:`models.delivery.Appearance`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, chat_id: int, message_id: int) -> tuple[str | None, str | None] | None:
        """The ``(body, markup)`` digests a message shows, None when unknown."""
        row = (
            await self.session.execute(
                select(ShownMessageRecord.body, ShownMessageRecord.markup).where(
                    ShownMessageRecord.chat_id == chat_id,
                    ShownMessageRecord.message_id == message_id,
                )
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def record(self, shown: Appearance, now: datetime) -> None:
        """Remember what a message shows after a call Telegram accepted (an appearance without
        a body keeps the stored one: only the keyboard changed)."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(ShownMessageRecord).values(
            chat_id=shown.chat_id,
            message_id=shown.message_id,
            body=shown.body,
            markup=shown.markup,
            updated_at=now,
        )
        changes: dict[str, Any] = {"markup": stmt.excluded.markup, "updated_at": now}
        if shown.body is not None:
            changes["body"] = stmt.excluded.body
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=["chat_id", "message_id"], set_=changes)
        )

    async def prune(self, updated_before: datetime, limit: int) -> int:
        """Forget up to ``limit`` messages not changed since ``updated_before`` (a forgotten
        message is "unknown": its next edit is simply sent)."""
        oldest = (
            select(ShownMessageRecord.chat_id, ShownMessageRecord.message_id)
            .where(ShownMessageRecord.updated_at < updated_before)
            .order_by(ShownMessageRecord.updated_at)
            .limit(limit)
        )
        result = await self.session.execute(
            delete(ShownMessageRecord).where(
                tuple_(ShownMessageRecord.chat_id, ShownMessageRecord.message_id).in_(oldest)
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


#: Update kinds whose object names its chat (``update[kind]["chat"]["id"]``).
_CHAT_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
    "message_reaction",
    "message_reaction_count",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)


def update_chat_key(update: dict[str, object]) -> str:
    """Which conversation an update belongs to: updates with the same key are processed in
    order, one at a time; different keys may be processed side by side (by several workers).

    A button press belongs to the chat of the message it is on; what has no chat (inline
    queries, polls, payments) is keyed by the user who caused it, and anything else shares
    one ``other`` key.
    """
    for kind in _CHAT_KINDS:
        body = update.get(kind)
        if isinstance(body, dict):
            chat = body.get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return f"chat:{chat['id']}"
    for kind, body in update.items():
        if kind == "update_id" or not isinstance(body, dict):
            continue
        message = body.get("message")
        if isinstance(message, dict):
            chat = message.get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return f"chat:{chat['id']}"
        user = body.get("from") or body.get("user")
        if isinstance(user, dict) and isinstance(user.get("id"), int):
            return f"chat:{user['id']}"
    return "other"
