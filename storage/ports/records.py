"""The other repositories: rows written and read directly (history, settings, delivery,
channels, reports, search)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from typing import Any, Protocol

from models import (
    EventKind,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from models import webhooks as wh
from models.apikeys import ApiKey
from models.delivery import Appearance, Channel, OutboundCall, OutboxStatus, Queue
from models.mail import MailStatus, StoredMail
from models.search import SearchHit, SearchPage, SearchQuery
from models.solutions import Solution
from models.stats import TicketHistory
from models.ticket import Rating
from models.widget import Direction, Visitor, WidgetMessage
from storage.ports.rows import Cards, Delivery, InboxItem, StoredResponse


class EventRepo(Protocol):
    """Ticket history (written through the tickets repository)."""

    async def status_changes(self, ticket_ids: list[int]) -> dict[int, list[TicketEvent]]: ...

    async def for_ticket(self, ticket_id: int, *, limit: int = 200) -> Sequence[TicketEvent]: ...

    async def for_tickets(
        self, ticket_ids: Sequence[int], *, limit: int = 200
    ) -> Sequence[TicketEvent]: ...

    async def latest(self, ticket_id: int, kind: EventKind) -> TicketEvent | None: ...

    async def merged_into(self, ticket_id: int) -> list[int]: ...


class DeskSettingsRepo(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def delete(self, key: str) -> None: ...

    async def set(self, key: str, value: str) -> None: ...


class SlaNoticeRepo(Protocol):
    async def record(
        self, ticket_id: int, kind: str, level: str, clock_start: datetime, now: datetime
    ) -> bool:
        """Remember a notice; False if it was given before (so it is never given twice)."""
        ...


class InboxRepo(Protocol):
    async def add_many(self, updates: list[tuple[int, str]], now: datetime) -> int: ...

    async def pending(self, limit: int = 100, after: int | None = None) -> list[InboxItem]: ...

    async def still_pending(self, update_ids: list[int]) -> set[int]: ...

    async def mark_done(self, update_id: int, now: datetime) -> None: ...

    async def record_failure(
        self, update_id: int, error: str, now: datetime, *, park: bool = False
    ) -> bool: ...

    async def parked(self, limit: int = 20) -> list[tuple[int, int, str | None]]: ...

    async def counts(self) -> dict[str, int]: ...

    async def prune(self, received_before: datetime, limit: int) -> int: ...

    async def oldest_pending(self) -> datetime | None: ...


class OutboxRepo(Protocol):
    async def add(self, call: OutboundCall, now: datetime) -> OutboundCall:
        """Queue a call; it is written when the unit of work commits (and forgotten if it
        rolls back)."""
        ...

    async def superseded(self, call: OutboundCall) -> bool: ...

    async def get(self, call_id: int) -> OutboundCall | None: ...

    async def next_in(self, queue: Queue) -> OutboundCall | None: ...

    async def queued_in(self, queue: Queue, limit: int) -> list[OutboundCall]: ...

    async def queued_for_ticket(self, queue: Queue, ticket_id: int) -> list[OutboundCall]: ...

    async def heads(self, limit: int = 1000) -> list[OutboundCall]: ...

    async def mark_sent(self, call_id: int, result: object, now: datetime) -> None: ...

    async def retry_later(
        self, call_id: int, not_before: datetime, error: str, *, count: bool = True
    ) -> None: ...

    async def give_up(self, call_id: int, status: OutboxStatus, error: str) -> None: ...

    async def prune(self, created_before: datetime, limit: int) -> int: ...

    async def failed(self, limit: int = 10) -> list[OutboundCall]: ...

    async def delivery_seconds(self, since: datetime, limit: int = 10000) -> list[float]: ...

    async def stats(self, now: datetime) -> dict[str, object]: ...

    async def backlog(self, chat_id: int) -> tuple[int, datetime | None]: ...


class ShownRepo(Protocol):
    async def get(self, chat_id: int, message_id: int) -> tuple[str | None, str | None] | None: ...

    async def record(self, shown: Appearance, now: datetime) -> None: ...

    async def prune(self, updated_before: datetime, limit: int) -> int: ...


class TicketCardRepo(Protocol):
    async def page(
        self,
        *,
        statuses: Sequence[str] = (),
        team_id: int | None = None,
        category: str | None = None,
        customer_telegram_id: int | None = None,
        assignee_id: int | None = None,
        unassigned: bool = False,
        priority: str | None = None,
        not_sure: bool = False,
        breached: bool = False,
        created_since: datetime | None = None,
        updated_since: datetime | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> Cards: ...

    async def by_number(self, number: int) -> Cards: ...

    async def by_ids(self, ids: Sequence[int]) -> Cards: ...


class ReportRepo(Protocol):
    async def histories(self, start: datetime, end: datetime) -> list[TicketHistory]: ...

    async def agent_names(self) -> dict[int, str]: ...


class ExportRepo(Protocol):
    def tickets(
        self, start: datetime, end: datetime
    ) -> AsyncIterator[tuple[Ticket, str | None, str | None, Channel | None]]: ...

    def messages(
        self, start: datetime, end: datetime
    ) -> AsyncIterator[tuple[int, TicketMessage]]: ...

    def events(self, start: datetime, end: datetime) -> AsyncIterator[tuple[int, TicketEvent]]: ...

    def ratings(self, start: datetime, end: datetime) -> AsyncIterator[tuple[int, Rating]]: ...


class WebhookRepo(Protocol):
    async def add(self, webhook: wh.Webhook) -> wh.Webhook: ...

    async def get(self, webhook_id: int) -> wh.Webhook | None: ...

    async def active(self) -> list[wh.Webhook]: ...

    async def deactivate(self, webhook_id: int) -> bool: ...

    async def deliveries(
        self, *, before_id: int | None = None, limit: int = 50
    ) -> list[Delivery]: ...

    async def delivery(self, outbox_id: int) -> tuple[Delivery, dict[str, Any]] | None: ...

    async def delivery_stats(self, webhook_ids: Sequence[int]) -> dict[int, wh.DeliveryStats]: ...


class SearchRepo(Protocol):
    async def search(
        self,
        query: SearchQuery,
        *,
        limit: int = 10,
        offset: int = 0,
        ticket_ids_filter: Collection[int] | None = None,
    ) -> list[SearchHit]: ...

    async def page(
        self,
        query: SearchQuery,
        *,
        limit: int = 10,
        offset: int = 0,
        ticket_ids_filter: Collection[int] | None = None,
    ) -> SearchPage: ...


class SolutionRepo(Protocol):
    async def put(self, solution: Solution) -> None: ...

    async def remove(self, ticket_id: int) -> None: ...

    async def clear(self) -> int: ...

    async def for_ticket(self, ticket_id: int) -> Solution | None: ...

    async def for_tickets(self, ticket_ids: Sequence[int]) -> dict[int, Solution]: ...

    async def after(self, last_id: int, limit: int) -> list[Solution]: ...

    async def by_ids(self, ids: Sequence[int]) -> list[Solution]: ...

    async def ids(self) -> list[int]: ...

    async def stats(self) -> tuple[int, int, int]: ...


class ApiKeyRepo(Protocol):
    async def add(self, key: ApiKey) -> ApiKey: ...

    async def by_hash(self, key_hash: str) -> ApiKey | None: ...

    async def active_named(self, name: str) -> ApiKey | None: ...

    async def list(self, *, include_revoked: bool = False) -> list[ApiKey]: ...

    async def revoke(self, key_id: int, now: datetime) -> bool: ...

    async def touch(self, key_id: int, now: datetime) -> None: ...


class IdempotencyRepo(Protocol):
    async def get(self, api_key_id: int, idempotency_key: str) -> StoredResponse | None: ...

    async def claim(
        self, api_key_id: int, idempotency_key: str, fingerprint: str, now: datetime
    ) -> None: ...

    async def answer(
        self, api_key_id: int, idempotency_key: str, status: int, body: str
    ) -> None: ...

    async def forget(self, api_key_id: int, idempotency_key: str) -> None: ...

    async def prune(self, before: datetime) -> int: ...


class MailRepo(Protocol):
    async def store(self, message_id: str, raw: bytes, now: datetime) -> StoredMail: ...

    async def get(self, mail_id: int) -> StoredMail | None: ...

    async def by_message_id(self, message_id: str) -> StoredMail | None: ...

    async def settle(
        self,
        mail_id: int,
        status: MailStatus,
        now: datetime,
        *,
        ticket_id: int | None = None,
        reason: str | None = None,
    ) -> None: ...

    async def failed(self, mail_id: int, error: str) -> StoredMail | None: ...

    async def record_sent(self, message_id: str, ticket_id: int | None, now: datetime) -> None: ...

    async def parked(self, limit: int = 20) -> list[tuple[str, int, str | None]]: ...

    async def counts(self) -> dict[str, int]: ...

    async def prune(self, processed_before: datetime, limit: int) -> int: ...

    async def tickets_of(self, message_ids: Sequence[str]) -> dict[str, int]: ...

    async def thread(self, ticket_id: int) -> list[str]: ...


class WidgetRepo(Protocol):
    async def add_visitor(
        self, token_hash: str, name: str | None, email: str | None, now: datetime
    ) -> int: ...

    async def link(self, visitor_id: int, customer_id: int) -> None: ...

    async def seen(self, visitor_id: int, now: datetime) -> None: ...

    async def by_token_hash(self, token_hash: str) -> Visitor | None: ...

    async def by_customer(self, customer_id: int) -> Visitor | None: ...

    async def add_message(
        self,
        visitor_id: int,
        direction: Direction,
        text: str,
        now: datetime,
        *,
        ticket_id: int | None = None,
        client_id: str | None = None,
    ) -> WidgetMessage: ...

    async def by_client_id(self, visitor_id: int, client_id: str) -> WidgetMessage | None: ...

    async def deliver(
        self, customer_id: int, outbox_id: int, text: str, ticket_id: int | None, now: datetime
    ) -> tuple[Visitor | None, bool]: ...

    async def after(self, visitor_id: int, seq: int, limit: int = 100) -> list[WidgetMessage]: ...
