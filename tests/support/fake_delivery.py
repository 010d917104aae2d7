"""The fake logs of the delivery machinery (see :mod:`tests.support.fake_uow`): the inbox of
updates, what editable messages show, the mail log. Their rows have no domain object: they
are kept as the tables hold them, changed by statements at once (as in ``storage.delivery``
and ``storage.mail``), and count once the unit of work commits. Rows are always reached
through the state (a rollback replaces its tables)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from models.delivery import INBOX_MAX_ATTEMPTS, Appearance, Channel, InboxStatus
from models.mail import MAIL_MAX_ATTEMPTS, MailStatus, StoredMail
from storage.delivery import AlreadyProcessed
from storage.mail import _stored as mail_from_row
from tests.support.fake_stores import FakeState


@dataclass
class InboxRow:
    update_id: int
    payload: str
    received_at: datetime
    status: InboxStatus = InboxStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    processed_at: datetime | None = None


@dataclass
class ShownRow:
    body: str | None
    markup: str | None
    updated_at: datetime


@dataclass
class MailRow:
    id: int
    message_id: str
    created_at: datetime
    status: MailStatus = MailStatus.PENDING
    outgoing: bool = False
    raw: bytes | None = None
    ticket_id: int | None = None
    reason: str | None = None
    attempts: int = 0
    last_error: str | None = None
    processed_at: datetime | None = None

    def stored(self) -> StoredMail:
        return mail_from_row(self)  # the row has the record's columns


class FakeInbox:
    """Raw updates by ``update_id``."""

    def __init__(self, state: FakeState) -> None:
        self._state = state

    @property
    def _rows(self) -> dict[int, InboxRow]:
        return self._state.table("inbox")

    async def add_many(self, updates: list[tuple[int, str]], now: datetime) -> int:
        new = [(uid, payload) for uid, payload in dict(updates).items() if uid not in self._rows]
        for uid, payload in new:
            self._rows[uid] = InboxRow(uid, payload, now)
        return len(new)

    async def mark_done(self, update_id: int, now: datetime) -> None:
        row = self._rows.get(update_id)
        if row is None or row.status is not InboxStatus.PENDING:
            raise AlreadyProcessed(update_id)
        row.status, row.processed_at = InboxStatus.DONE, now

    async def record_failure(
        self, update_id: int, error: str, now: datetime, *, park: bool = False
    ) -> bool:
        row = self._rows.get(update_id)
        if row is None or row.status is not InboxStatus.PENDING:
            return row is not None and row.status is InboxStatus.PARKED
        row.attempts += 1
        parked = park or row.attempts >= INBOX_MAX_ATTEMPTS
        row.last_error = error[:4000]
        row.status = InboxStatus.PARKED if parked else InboxStatus.PENDING
        row.processed_at = now if parked else None
        return parked

    async def parked(self, limit: int = 20) -> list[tuple[int, int, str | None]]:
        rows = sorted(self._rows.items(), reverse=True)
        found = [(u, r.attempts, r.last_error) for u, r in rows if r.status is InboxStatus.PARKED]
        return found[:limit]

    async def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self._rows.values():
            counts[str(row.status)] = counts.get(str(row.status), 0) + 1
        return counts

    async def prune(self, received_before: datetime, limit: int) -> int:
        old = [
            r
            for r in self._rows.values()
            if r.received_at < received_before and r.status is InboxStatus.DONE
        ]
        for row in sorted(old, key=lambda r: r.received_at)[:limit]:
            del self._rows[row.update_id]
        return min(len(old), limit)

    async def oldest_pending(self) -> datetime | None:
        pending = (r.received_at for r in self._rows.values() if r.status is InboxStatus.PENDING)
        return min(pending, default=None)


class FakeShown:
    """What each message shows, by ``(chat_id, message_id)``."""

    def __init__(self, state: FakeState) -> None:
        self._state = state

    @property
    def _rows(self) -> dict[tuple[int, int], ShownRow]:
        return self._state.shown

    async def get(self, chat_id: int, message_id: int) -> tuple[str | None, str | None] | None:
        row = self._rows.get((chat_id, message_id))
        return None if row is None else (row.body, row.markup)

    async def record(self, shown: Appearance, now: datetime) -> None:
        before = self._rows.get((shown.chat_id, shown.message_id))
        body = shown.body if shown.body is not None or before is None else before.body
        self._rows[shown.chat_id, shown.message_id] = ShownRow(body, shown.markup, now)

    async def prune(self, updated_before: datetime, limit: int) -> int:
        old = sorted(
            (r.updated_at, key) for key, r in self._rows.items() if r.updated_at < updated_before
        )
        for _, key in old[:limit]:
            del self._rows[key]
        return min(len(old), limit)


class FakeMail:
    """The mail log: incoming mails (with their bytes) and the desk's own, by id."""

    def __init__(self, state: FakeState) -> None:
        self._state = state

    @property
    def _rows(self) -> dict[int, MailRow]:
        return self._state.table("mails")

    def _insert(self, row: MailRow) -> None:
        """A message id is stored once (the first time it came)."""
        if all(r.message_id != row.message_id for r in self._rows.values()):
            self._rows[row.id] = row

    async def store(self, message_id: str, raw: bytes, now: datetime) -> StoredMail:
        self._insert(MailRow(self._state.next_id("mails"), message_id, now, raw=raw))
        found = await self.by_message_id(message_id)
        assert found is not None
        return found

    async def get(self, mail_id: int) -> StoredMail | None:
        row = self._rows.get(mail_id)
        return None if row is None else row.stored()

    async def by_message_id(self, message_id: str) -> StoredMail | None:
        found = (r for r in self._rows.values() if r.message_id == message_id)
        return next((r.stored() for r in found), None)

    async def settle(
        self,
        mail_id: int,
        status: MailStatus,
        now: datetime,
        *,
        ticket_id: int | None = None,
        reason: str | None = None,
    ) -> None:
        row = self._rows.get(mail_id)
        if row is not None:
            row.status, row.ticket_id, row.reason, row.processed_at = (
                status,
                ticket_id,
                reason,
                now,
            )

    async def failed(self, mail_id: int, error: str) -> StoredMail | None:
        row = self._rows.get(mail_id)
        if row is None:
            return None
        row.attempts += 1
        row.last_error = error[:2000]
        if row.attempts >= MAIL_MAX_ATTEMPTS:
            row.status = MailStatus.PARKED
        return row.stored()

    async def record_sent(self, message_id: str, ticket_id: int | None, now: datetime) -> None:
        row = MailRow(self._state.next_id("mails"), message_id, now, MailStatus.DONE, True)
        row.ticket_id, row.processed_at = ticket_id, now
        self._insert(row)

    async def parked(self, limit: int = 20) -> list[tuple[str, int, str | None]]:
        rows = sorted(self._rows.items(), reverse=True)
        parked = [r for _, r in rows if r.status is MailStatus.PARKED]
        return [(r.message_id, r.attempts, r.last_error) for r in parked][:limit]

    async def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self._rows.values():
            if not row.outgoing:
                counts[str(row.status)] = counts.get(str(row.status), 0) + 1
        return counts

    async def prune(self, processed_before: datetime, limit: int) -> int:
        old = [
            r
            for r in self._rows.values()
            if r.raw is not None
            and r.processed_at is not None
            and r.processed_at < processed_before
            and r.status in (MailStatus.DONE, MailStatus.SKIPPED)
        ]
        for row in sorted(old, key=lambda r: r.processed_at or processed_before)[:limit]:
            row.raw = None
        return min(len(old), limit)

    async def tickets_of(self, message_ids: Sequence[str]) -> dict[str, int]:
        found = {}
        for row in self._rows.values():
            if row.message_id in message_ids:
                ticket_id = row.ticket_id or self._ticket_of_message(row.id)
                if ticket_id is not None:
                    found[row.message_id] = ticket_id
        return found

    async def thread(self, ticket_id: int) -> list[str]:
        return [
            r.message_id
            for _, r in sorted(self._rows.items())
            if r.ticket_id == ticket_id or self._ticket_of_message(r.id) == ticket_id
        ]

    def _ticket_of_message(self, mail_id: int) -> int | None:
        """The ticket of the message an incoming mail became (by its id in the mail log)."""
        messages = self._state.table("messages").values()
        found = (
            m.ticket_id
            for m in messages
            if m.channel is Channel.EMAIL and m.customer_message_id == mail_id
        )
        return next(found, None)
