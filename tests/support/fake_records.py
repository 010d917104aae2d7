"""The other fake repositories (see :mod:`tests.support.fake_uow`): rows written and read
directly."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from models import EventKind, TicketEvent
from models import webhooks as wh
from models.apikeys import ApiKey
from models.delivery import Channel, OutboundCall, OutboxStatus, Queue
from models.solutions import Solution
from storage.ports.rows import Delivery, StoredResponse
from tests.support.fake_stores import FakeState


class FakeEvents:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    async def status_changes(self, ticket_ids: list[int]) -> dict[int, list[TicketEvent]]:
        found: dict[int, list[TicketEvent]] = {i: [] for i in ticket_ids}
        for event in self._state.events:
            if event.ticket_id in found and event.kind is EventKind.STATUS_CHANGED:
                found[event.ticket_id].append(event)
        return found

    async def for_ticket(self, ticket_id: int, *, limit: int = 200) -> Sequence[TicketEvent]:
        return [e for e in self._state.events if e.ticket_id == ticket_id][:limit]

    async def for_tickets(
        self, ticket_ids: Sequence[int], *, limit: int = 200
    ) -> Sequence[TicketEvent]:
        found = [e for e in self._state.events if e.ticket_id in ticket_ids]
        return sorted(found, key=lambda e: (e.at, e.id or 0))[:limit]

    async def merged_into(self, ticket_id: int) -> list[int]:
        tickets = self._state.table("tickets").items()
        return [i for i, t in sorted(tickets) if t.merged_into_id == ticket_id]


class FakeOutbox:
    """Calls queued in the unit of work; written, with ids, when it commits."""

    def __init__(self, state: FakeState) -> None:
        self._state = state
        self.queued: list[OutboundCall] = []

    async def add(self, call: OutboundCall, now: datetime) -> OutboundCall:
        call.created_at = now
        self.queued.append(call)
        return call

    async def queued_for_ticket(self, queue: Queue, ticket_id: int) -> list[OutboundCall]:
        return [
            c
            for c in self._state.outbox
            if c.queue == queue and c.ticket_id == ticket_id and c.status is OutboxStatus.PENDING
        ]

    async def mark_sent(self, call_id: int, result: object, now: datetime) -> None:
        self._set(call_id, status=OutboxStatus.SENT, sent_at=now, result=result, last_error=None)

    async def give_up(self, call_id: int, status: OutboxStatus, error: str) -> None:
        call = self._call(call_id)
        self._set(call_id, status=status, attempts=call.attempts + 1, last_error=error[:2000])

    async def prune(self, created_before: datetime, limit: int) -> int:
        done = (OutboxStatus.SENT, OutboxStatus.SKIPPED)
        old = [c for c in self._state.outbox if c.status in done and c.created_at < created_before]
        gone = {c.id for c in sorted(old, key=lambda c: c.created_at)[:limit]}
        self._state.outbox = [c for c in self._state.outbox if c.id not in gone]
        return len(gone)

    async def failed(self, limit: int = 10) -> list[OutboundCall]:
        given_up = (OutboxStatus.FAILED, OutboxStatus.UNKNOWN)
        return [replace(c) for c in reversed(self._state.outbox) if c.status in given_up][:limit]

    async def stats(self, now: datetime) -> dict[str, object]:
        status = [c.status for c in self._state.outbox]
        pending = [c.created_at for c in self._state.outbox if c.status is OutboxStatus.PENDING]
        oldest = min((t for t in pending if t is not None), default=None)
        return {
            "pending": status.count(OutboxStatus.PENDING),
            "failed": status.count(OutboxStatus.FAILED),
            "unknown": status.count(OutboxStatus.UNKNOWN),
            "sent": status.count(OutboxStatus.SENT),
            "oldest_pending_s": (now - oldest).total_seconds() if oldest else 0.0,
        }

    async def backlog(self, chat_id: int) -> tuple[int, datetime | None]:
        waiting = [
            c.created_at
            for c in self._state.outbox
            if c.status is OutboxStatus.PENDING and c.queue == (Channel.TELEGRAM, chat_id)
        ]
        return len(waiting), min((t for t in waiting if t is not None), default=None)

    def _call(self, call_id: int) -> OutboundCall:
        return next(c for c in self._state.outbox if c.id == call_id)

    def _set(self, call_id: int, **values: Any) -> None:
        """An UPDATE by id, in this unit of work (the sender's own statements)."""
        outbox = self._state.outbox
        outbox[:] = [replace(c, **values) if c.id == call_id else c for c in outbox]

    def write_queued(self) -> None:
        for call in self.queued:  # ids grow and are never reused (rows may be pruned)
            self._state.outbox.append(replace(call, id=self._state.next_id("outbox")))
        self.queued = []


class FakeDeskSettings:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    async def get(self, key: str) -> str | None:
        return self._state.settings.get(key)

    async def delete(self, key: str) -> None:
        self._state.settings.pop(key, None)

    async def set(self, key: str, value: str) -> None:
        self._state.settings[key] = value


class FakeSlaNotices:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    async def record(
        self, ticket_id: int, kind: str, level: str, clock_start: datetime, now: datetime
    ) -> bool:
        key = (ticket_id, str(kind), str(level), clock_start)
        if key in self._state.sla_notices:
            return False
        self._state.sla_notices.add(key)
        return True


class FakeSolutions:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    async def put(self, solution: Solution) -> None:
        stored = replace(solution, id=self._state.next_id("solutions"))
        self._state.solutions[solution.ticket_id] = stored

    async def remove(self, ticket_id: int) -> None:
        self._state.solutions.pop(ticket_id, None)

    async def clear(self) -> int:
        count = len(self._state.solutions)
        self._state.solutions.clear()
        return count

    async def for_ticket(self, ticket_id: int) -> Solution | None:
        return self._state.solutions.get(ticket_id)

    async def for_tickets(self, ticket_ids: Sequence[int]) -> dict[int, Solution]:
        found = ((i, self._state.solutions.get(i)) for i in ticket_ids)
        return {i: s for i, s in found if s is not None}

    async def after(self, last_id: int, limit: int) -> list[Solution]:
        return [s for s in self._by_id() if (s.id or 0) > last_id][:limit]

    async def by_ids(self, ids: Sequence[int]) -> list[Solution]:
        return [s for s in self._by_id() if s.id in ids]

    async def ids(self) -> list[int]:
        return [s.id or 0 for s in self._by_id()]

    async def stats(self) -> tuple[int, int, int]:
        ids = await self.ids()
        return len(ids), sum(ids), max(ids, default=0)

    def _by_id(self) -> list[Solution]:
        return sorted(self._state.solutions.values(), key=lambda s: s.id or 0)


class FakeApiKeys:
    """API keys: rows written by statements at once, handed out as copies never written back
    (as in the SQLAlchemy repository, which tracks nothing)."""

    def __init__(self, state: FakeState) -> None:
        self._state = state

    @property
    def _rows(self) -> dict[int, ApiKey]:
        return self._state.table("api_keys")

    async def add(self, key: ApiKey) -> ApiKey:
        if key.created_at is None:
            raise ValueError("api_keys: created_at cannot be null")
        key.id = self._state.next_id("api_keys")
        self._rows[key.id] = replace(key, revoked_at=None, last_used_at=None)
        return key

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        return next((replace(k) for k in self._rows.values() if k.key_hash == key_hash), None)

    async def active_named(self, name: str) -> ApiKey | None:
        found = (k for k in self._rows.values() if k.name == name and k.revoked_at is None)
        return next((replace(k) for k in found), None)

    async def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        keys = sorted(self._rows.items())
        return [replace(k) for _, k in keys if include_revoked or k.revoked_at is None]

    async def revoke(self, key_id: int, now: datetime) -> bool:
        key = self._rows.get(key_id)
        if key is None or key.revoked_at is not None:
            return False
        key.revoked_at = now
        return True


class FakeWebhooks:
    """Webhook endpoints (rows written by statements at once, copies handed out); their
    delivery figures are counted from the outbox's webhook calls, as in the database."""

    def __init__(self, state: FakeState) -> None:
        self._state = state

    @property
    def _rows(self) -> dict[int, wh.Webhook]:
        return self._state.table("webhooks")

    async def add(self, webhook: wh.Webhook) -> wh.Webhook:
        webhook.id = self._state.next_id("webhooks")
        self._rows[webhook.id] = replace(webhook)
        return webhook

    async def get(self, webhook_id: int) -> wh.Webhook | None:
        found = self._rows.get(webhook_id)
        return None if found is None else replace(found)

    async def active(self) -> list[wh.Webhook]:
        return [replace(w) for _, w in sorted(self._rows.items()) if w.active]

    async def deactivate(self, webhook_id: int) -> bool:
        found = self._rows.get(webhook_id)
        if found is None or not found.active:
            return False
        found.active = False
        return True

    async def deliveries(self, *, before_id: int | None = None, limit: int = 50) -> list[Delivery]:
        calls = [
            c
            for c in reversed(self._state.outbox)
            if c.channel is Channel.WEBHOOK and (before_id is None or (c.id or 0) < before_id)
        ]
        return [_delivery(c) for c in calls[:limit]]

    async def delivery(self, outbox_id: int) -> tuple[Delivery, dict[str, Any]] | None:
        found = (c for c in self._state.outbox if c.id == outbox_id)
        call = next(found, None)
        if call is None or call.channel is not Channel.WEBHOOK:
            return None
        return _delivery(call), copy.deepcopy(call.params)

    async def delivery_stats(self, webhook_ids: Sequence[int]) -> dict[int, wh.DeliveryStats]:
        stats = {}
        for webhook_id in webhook_ids:
            calls = [
                c
                for c in self._state.outbox
                if c.channel is Channel.WEBHOOK and c.chat_id == webhook_id
            ]
            status = [c.status for c in calls]
            errors = [c.last_error for c in calls if c.last_error is not None]
            stats[webhook_id] = wh.DeliveryStats(
                pending=status.count(OutboxStatus.PENDING),
                sent=status.count(OutboxStatus.SENT),
                failed=status.count(OutboxStatus.FAILED) + status.count(OutboxStatus.UNKNOWN),
                last_error=errors[-1] if errors else None,
            )
        return stats


class FakeIdempotency:
    """POST responses by (key id, Idempotency-Key): rows written by statements at once."""

    def __init__(self, state: FakeState) -> None:
        self._state = state

    @property
    def _rows(self) -> dict[tuple[int, str], StoredResponse]:
        return self._state.idempotency

    async def get(self, api_key_id: int, idempotency_key: str) -> StoredResponse | None:
        found = self._rows.get((api_key_id, idempotency_key))
        return None if found is None else replace(found)

    async def claim(
        self, api_key_id: int, idempotency_key: str, fingerprint: str, now: datetime
    ) -> None:
        if (api_key_id, idempotency_key) in self._rows:  # the unique pair, as in the database
            raise ValueError("idempotency_keys: the key was claimed before")
        self._rows[api_key_id, idempotency_key] = StoredResponse(fingerprint, None, None, now)

    async def answer(self, api_key_id: int, idempotency_key: str, status: int, body: str) -> None:
        found = self._rows.get((api_key_id, idempotency_key))
        if found is not None:
            self._rows[api_key_id, idempotency_key] = replace(found, status=status, body=body)

    async def forget(self, api_key_id: int, idempotency_key: str) -> None:
        self._rows.pop((api_key_id, idempotency_key), None)

    async def prune(self, before: datetime) -> int:
        old = [k for k, r in self._rows.items() if r.created_at < before]
        for key in old:
            del self._rows[key]
        return len(old)


def _delivery(call: OutboundCall) -> Delivery:
    """A webhook call as the API lists it (the channel queues per endpoint id)."""
    assert call.id is not None
    assert call.created_at is not None
    return Delivery(
        id=call.id,
        webhook_id=call.chat_id,
        event=str(call.params.get("event", "")),
        delivery=str(call.params.get("delivery", "")),
        status=str(call.status),
        attempts=call.attempts,
        created_at=call.created_at,
        sent_at=call.sent_at,
        last_error=call.last_error,
        ticket_id=call.ticket_id,
    )
