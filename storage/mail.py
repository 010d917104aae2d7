"""The mail log of the email channel: incoming mails stored before they are processed, and the
message ids of every mail in and out, which replies are threaded by."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.delivery import Channel
from models.mail import MAIL_MAX_ATTEMPTS, MailStatus, StoredMail
from storage.orm import MailRecord, TicketMessageRecord

#: An incoming mail's message (see :class:`~storage.orm.MailRecord`).
_ITS_MESSAGE = and_(
    TicketMessageRecord.channel == str(Channel.EMAIL),
    TicketMessageRecord.customer_message_id == MailRecord.id,
)


def _stored(record: MailRecord) -> StoredMail:
    return StoredMail(
        id=record.id,
        message_id=record.message_id,
        status=MailStatus(record.status),
        outgoing=record.outgoing,
        ticket_id=record.ticket_id,
        attempts=record.attempts,
        reason=record.reason,
        raw=record.raw,
    )


class MailRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _insert(self, values: dict[str, object]) -> None:
        """Insert a row unless its message id is there already (a mail fetched again)."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(MailRecord).values(values).on_conflict_do_nothing(index_elements=["message_id"])
        )
        await self.session.execute(stmt)

    async def store(self, message_id: str, raw: bytes, now: datetime) -> StoredMail:
        """An incoming mail, stored as received (or as stored the first time it came)."""
        await self._insert(
            {
                "message_id": message_id,
                "outgoing": False,
                "raw": raw,
                "status": str(MailStatus.PENDING),
                "attempts": 0,
                "created_at": now,
            }
        )
        found = await self.by_message_id(message_id)
        assert found is not None
        return found

    async def get(self, mail_id: int) -> StoredMail | None:
        record = await self.session.get(MailRecord, mail_id)
        return None if record is None else _stored(record)

    async def by_message_id(self, message_id: str) -> StoredMail | None:
        record = await self.session.scalar(
            select(MailRecord).where(MailRecord.message_id == message_id)
        )
        return None if record is None else _stored(record)

    async def settle(
        self,
        mail_id: int,
        status: MailStatus,
        now: datetime,
        *,
        ticket_id: int | None = None,
        reason: str | None = None,
    ) -> None:
        """The outcome of processing a mail, written in the transaction that processed it."""
        await self.session.execute(
            update(MailRecord)
            .where(MailRecord.id == mail_id)
            .values(status=str(status), ticket_id=ticket_id, reason=reason, processed_at=now)
        )

    async def failed(self, mail_id: int, error: str) -> StoredMail | None:
        """Count a failed attempt; parked after :data:`MAIL_MAX_ATTEMPTS`."""
        record = await self.session.get(MailRecord, mail_id)
        if record is None:
            return None
        record.attempts += 1
        record.last_error = error[:2000]
        if record.attempts >= MAIL_MAX_ATTEMPTS:
            record.status = str(MailStatus.PARKED)
        return _stored(record)

    async def record_sent(self, message_id: str, ticket_id: int | None, now: datetime) -> None:
        """One of the desk's own mails, taken by the SMTP server."""
        await self._insert(
            {
                "message_id": message_id,
                "outgoing": True,
                "ticket_id": ticket_id,
                "status": str(MailStatus.DONE),
                "attempts": 0,
                "created_at": now,
                "processed_at": now,
            }
        )

    async def parked(self, limit: int = 20) -> list[tuple[str, int, str | None]]:
        """The newest mails given up on: message id, attempts, the last error."""
        rows = await self.session.execute(
            select(MailRecord.message_id, MailRecord.attempts, MailRecord.last_error)
            .where(MailRecord.status == str(MailStatus.PARKED))
            .order_by(MailRecord.id.desc())
            .limit(limit)
        )
        return [(str(m), int(n), e) for m, n, e in rows]

    async def counts(self) -> dict[str, int]:
        """Incoming mails by status."""
        rows = await self.session.execute(
            select(MailRecord.status, func.count())
            .where(MailRecord.outgoing.is_(False))
            .group_by(MailRecord.status)
        )
        return {str(status): int(n) for status, n in rows}

    async def prune(self, processed_before: datetime, limit: int) -> int:
        """Forget the raw bytes of up to ``limit`` incoming mails processed before
        ``processed_before`` (applied or skipped); returns how many. The row stays: its message
        id threads later replies and recognises the mail if it is fetched again. Parked mails
        keep their bytes for whoever looks at them."""
        oldest = (
            select(MailRecord.id)
            .where(
                MailRecord.raw.is_not(None),
                MailRecord.processed_at < processed_before,
                MailRecord.status.in_([str(MailStatus.DONE), str(MailStatus.SKIPPED)]),
            )
            .order_by(MailRecord.processed_at)
            .limit(limit)
        )
        result = await self.session.execute(
            update(MailRecord).where(MailRecord.id.in_(oldest.scalar_subquery())).values(raw=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def tickets_of(self, message_ids: Sequence[str]) -> dict[str, int]:
        """The tickets these message ids belong to (ids of no ticket are left out)."""
        if not message_ids:
            return {}
        ticket = func.coalesce(MailRecord.ticket_id, TicketMessageRecord.ticket_id)
        query = (
            select(MailRecord.message_id, ticket)
            .outerjoin(TicketMessageRecord, _ITS_MESSAGE)
            .where(MailRecord.message_id.in_(set(message_ids)))
        )
        rows = await self.session.execute(query)
        return {str(row[0]): int(row[1]) for row in rows.all() if row[1] is not None}

    async def thread(self, ticket_id: int) -> list[str]:
        """A ticket's message ids in and out, oldest first."""
        incoming = select(TicketMessageRecord.customer_message_id).where(
            TicketMessageRecord.ticket_id == ticket_id,
            TicketMessageRecord.channel == str(Channel.EMAIL),
        )
        rows = await self.session.scalars(
            select(MailRecord.message_id)
            .where(or_(MailRecord.ticket_id == ticket_id, MailRecord.id.in_(incoming)))
            .order_by(MailRecord.id)
        )
        return list(rows.all())
