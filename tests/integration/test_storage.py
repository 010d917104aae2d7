"""Repositories and the unit of work on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.services.customers import get_or_register
from bot.services.ports import TelegramUser
from models import (
    Actor,
    Agent,
    Customer,
    EventKind,
    MediaKind,
    MessageDirection,
    Priority,
    Role,
    Team,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from models.delivery import InboxStatus, Lane, OutboundCall, OutboxStatus
from storage import AbstractUnitOfWork
from storage.orm import TicketRecord

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

UowFactory = Callable[[], AbstractUnitOfWork]


async def add_customer(uow: AbstractUnitOfWork, telegram_id: int = 100) -> Customer:
    return await uow.customers.add(
        Customer(telegram_id=telegram_id, first_name="Ann", language="en", created_at=T0)
    )


async def open_ticket(uow_factory: UowFactory, customer_id: int, subject: str = "help") -> Ticket:
    async with uow_factory() as uow:
        ticket = await uow.tickets.add(
            Ticket.open(customer_id=customer_id, subject=subject, now=T0)
        )
        await uow.commit()
    return ticket


class TestTickets:
    async def test_round_trip_keeps_every_field(self, uow_factory: UowFactory) -> None:
        async with uow_factory() as uow:
            customer = await add_customer(uow)
            team = await uow.teams.add(Team(name="Billing"))
            ticket = Ticket.open(customer_id=customer.id, subject="card declined", now=T0)
            ticket.triaged(
                category="billing",
                team_id=team.id,
                priority=Priority.HIGH,
                confidence=0.42,
                needs_human=True,
                now=T0,
            )
            await uow.tickets.add(ticket)
            await uow.commit()

        async with uow_factory() as uow:
            loaded = await uow.tickets.by_number(ticket.number)
            assert loaded is not None
            assert loaded.status is TicketStatus.NEW
            assert loaded.priority is Priority.HIGH
            assert (loaded.category, loaded.team_id, loaded.needs_human) == (
                "billing",
                team.id,
                True,
            )
            assert loaded.triage_confidence == pytest.approx(0.42)
            assert loaded.created_at == T0
            assert loaded.created_at.tzinfo is not None
            history = await uow.events.for_ticket(loaded.id)
            assert [e.kind for e in history] == [EventKind.CREATED, EventKind.TRIAGED]

    async def test_changes_are_written_back_on_commit_only(self, uow_factory: UowFactory) -> None:
        async with uow_factory() as uow:
            customer = await add_customer(uow)
            await uow.commit()
        ticket = await open_ticket(uow_factory, customer.id)

        async with uow_factory() as uow:
            loaded = await uow.tickets.get(ticket.id)
            loaded.close(Actor.system(), T0 + timedelta(hours=1))
            # no commit: rolled back on exit
        async with uow_factory() as uow:
            loaded = await uow.tickets.get(ticket.id)
            assert loaded.status is TicketStatus.NEW
            loaded.close(Actor.system(), T0 + timedelta(hours=1))
            await uow.commit()
        async with uow_factory() as uow:
            loaded = await uow.tickets.get(ticket.id)
            assert loaded.status is TicketStatus.CLOSED
            assert loaded.closed_at == T0 + timedelta(hours=1)
            kinds = [e.kind for e in await uow.events.for_ticket(ticket.id)]
            assert kinds == [EventKind.CREATED, EventKind.STATUS_CHANGED]

    async def test_aware_times_in_any_zone_are_stored_as_utc(
        self, uow_factory: UowFactory
    ) -> None:
        moscow = timezone(timedelta(hours=3))
        async with uow_factory() as uow:
            customer = await add_customer(uow)
            ticket = await uow.tickets.add(
                Ticket.open(customer_id=customer.id, subject="x", now=T0.astimezone(moscow))
            )
            await uow.commit()
        async with uow_factory() as uow:
            loaded = await uow.tickets.get(ticket.id)
            assert loaded.created_at == T0
            assert loaded.created_at.utcoffset() == timedelta(0)

    async def test_naive_times_are_refused(self, uow_factory: UowFactory) -> None:
        async with uow_factory() as uow:
            customer = await add_customer(uow)
            with pytest.raises(Exception, match="naive datetime"):
                await uow.tickets.add(
                    Ticket.open(customer_id=customer.id, subject="x", now=datetime(2026, 1, 1))
                )

    async def test_latest_open_ticket_of_a_customer(self, uow_factory: UowFactory) -> None:
        async with uow_factory() as uow:
            customer = await add_customer(uow)
            await uow.commit()
        first = await open_ticket(uow_factory, customer.id, "first")
        second = await open_ticket(uow_factory, customer.id, "second")
        async with uow_factory() as uow:
            (await uow.tickets.get(second.id)).close(Actor.system(), T0)
            await uow.commit()
        async with uow_factory() as uow:
            latest = await uow.tickets.latest_for_customer(customer.id)
            assert latest is not None
            assert latest.id == first.id
            assert await uow.tickets.count_for_customer(customer.id) == 2
            assert [t.id for t in await uow.tickets.for_customer(customer.id)] == [
                second.id,
                first.id,
            ]

    async def test_ticket_found_by_its_topic_and_card(self, uow_factory: UowFactory) -> None:
        async with uow_factory() as uow:
            customer = await add_customer(uow)
            await uow.commit()
        ticket = await open_ticket(uow_factory, customer.id)
        async with uow_factory() as uow:
            loaded = await uow.tickets.get(ticket.id)
            loaded.agent_chat_id, loaded.agent_thread_id, loaded.card_message_id = -100, 55, 56
            await uow.commit()
        async with uow_factory() as uow:
            assert (await uow.tickets.by_topic(-100, 55)).id == ticket.id
            assert (await uow.tickets.by_card(-100, 56)).id == ticket.id
            assert await uow.tickets.by_topic(-100, 57) is None


class TestTicketNumbers:
    async def test_numbers_start_at_one_and_increase(self, uow_factory: UowFactory) -> None:
        async with uow_factory() as uow:
            customer = await add_customer(uow)
            await uow.commit()
        numbers = [(await open_ticket(uow_factory, customer.id)).number for _ in range(3)]
        assert numbers == [1, 2, 3]

    async def test_concurrent_creations_get_distinct_numbers(
        self, uow_factory: UowFactory
    ) -> None:
        async with uow_factory() as uow:
            customers = [await add_customer(uow, 1000 + i) for i in range(10)]
            await uow.commit()

        tickets = await asyncio.gather(
            *(open_ticket(uow_factory, customers[i % 10].id, f"t{i}") for i in range(100))
        )
        numbers = sorted(t.number for t in tickets)
        assert numbers == list(range(1, 101))
        async with uow_factory() as uow:
            stored = (await uow.session.execute(select(TicketRecord.number))).scalars().all()
            assert sorted(stored) == numbers

    async def test_a_rolled_back_creation_does_not_reuse_a_number(
        self, uow_factory: UowFactory
    ) -> None:
        async with uow_factory() as uow:
            customer = await add_customer(uow)
            await uow.commit()
        first = await open_ticket(uow_factory, customer.id)
        async with uow_factory() as uow:
            await uow.tickets.add(Ticket.open(customer_id=customer.id, subject="x", now=T0))
        second = await open_ticket(uow_factory, customer.id)
        assert second.number > first.number


class TestPeopleAndMessages:
    async def test_agent_with_teams_round_trip(self, uow_factory: UowFactory) -> None:
        async with uow_factory() as uow:
            billing = await uow.teams.add(Team(name="Billing"))
            tech = await uow.teams.add(Team(name="Tech"))
            agent = await uow.agents.add(
                Agent(
                    telegram_id=7, name="Bob", username="bob", role=Role.SUPERVISOR, created_at=T0
                )
            )
            agent.team_ids = [billing.id, tech.id]
            await uow.commit()
        async with uow_factory() as uow:
            loaded = await uow.agents.by_username("@Bob")
            assert loaded is not None
            assert loaded.role is Role.SUPERVISOR
            assert loaded.team_ids == sorted([billing.id, tech.id])
            loaded.team_ids = [tech.id]
            await uow.commit()
        async with uow_factory() as uow:
            assert (await uow.agents.by_telegram_id(7)).team_ids == [tech.id]
            assert (await uow.teams.by_name("billing")).id == billing.id

    async def test_messages_found_from_either_side(self, uow_factory: UowFactory) -> None:
        async with uow_factory() as uow:
            customer = await add_customer(uow)
            await uow.commit()
        ticket = await open_ticket(uow_factory, customer.id)
        async with uow_factory() as uow:
            message = await uow.messages.add(
                TicketMessage(
                    ticket_id=ticket.id,
                    direction=MessageDirection.CUSTOMER,
                    sent_at=T0,
                    media_kind=MediaKind.PHOTO,
                    file_id="F1",
                    text="caption",
                    customer_chat_id=100,
                    customer_message_id=5,
                )
            )
            await uow.commit()
        async with uow_factory() as uow:
            found = await uow.messages.by_customer_side(100, 5)
            assert found.id == message.id
            assert found.media_kind is MediaKind.PHOTO
            found.agent_chat_id, found.agent_message_id = -100, 77
            await uow.commit()
        async with uow_factory() as uow:
            assert (await uow.messages.by_agent_side(-100, 77)).id == message.id
            assert [m.id for m in await uow.messages.for_ticket(ticket.id)] == [message.id]

    async def test_customer_keeps_telegrams_language_code_when_an_update_leaves_it_out(
        self, uow_factory: UowFactory
    ) -> None:
        hans = TelegramUser(id=7, first_name="Hans", language_code="de")
        seen = []
        for user in (
            hans,
            replace(hans, language_code=None),
            replace(hans, language_code="de-AT"),
        ):
            async with uow_factory() as uow:
                await get_or_register(uow, user, "en", T0)
                await uow.commit()
            async with uow_factory() as uow:
                customer = await uow.customers.by_telegram_id(7)
                seen.append((customer.language_code, customer.language))
        assert seen == [("de", "en"), ("de", "en"), ("de-AT", "en")]


class TestInboxOutbox:
    async def test_inbox_ignores_an_update_seen_before(self, uow_factory: UowFactory) -> None:
        async with uow_factory() as uow:
            assert await uow.inbox.add_many([(1, "{}"), (2, "{}")], T0) == 2
            await uow.commit()
        async with uow_factory() as uow:
            assert await uow.inbox.add_many([(2, '{"x": 1}'), (3, "{}")], T0) == 1
            await uow.commit()
        async with uow_factory() as uow:
            pending = await uow.inbox.pending()
            assert [i.update_id for i in pending] == [1, 2, 3]
            assert pending[1].payload == {}

    async def test_inbox_parks_after_repeated_failures(self, uow_factory: UowFactory) -> None:
        async with uow_factory() as uow:
            await uow.inbox.add_many([(1, "{}")], T0)
            await uow.commit()
        parked = []
        for _ in range(5):
            async with uow_factory() as uow:
                parked.append(await uow.inbox.record_failure(1, "boom", T0))
                await uow.commit()
        assert parked == [False, False, False, False, True]
        async with uow_factory() as uow:
            assert await uow.inbox.pending() == []
            assert (await uow.inbox.counts()) == {str(InboxStatus.PARKED): 1}

    async def test_outbox_heads_follow_lane_then_order_per_chat(
        self, uow_factory: UowFactory
    ) -> None:
        async with uow_factory() as uow:
            edit = OutboundCall(chat_id=-1, method="editMessageText", params={}, lane=Lane.UPDATE)
            await uow.outbox.add(edit, T0)
            await uow.outbox.add(
                OutboundCall(chat_id=-1, method="sendMessage", params={"n": 1}), T0
            )
            await uow.outbox.add(
                OutboundCall(chat_id=-1, method="sendMessage", params={"n": 2}), T0
            )
            await uow.outbox.add(
                OutboundCall(chat_id=5, method="sendMessage", params={"n": 3}), T0
            )
            await uow.commit()
        async with uow_factory(readonly=True) as uow:
            heads = {c.chat_id: c for c in await uow.outbox.heads()}
        assert {chat: c.params for chat, c in heads.items()} == {-1: {"n": 1}, 5: {"n": 3}}
        async with uow_factory() as uow:
            await uow.outbox.mark_sent(heads[-1].id, {"message_id": 1}, T0)
            await uow.commit()
        async with uow_factory(readonly=True) as uow:
            sent = await uow.outbox.get(heads[-1].id)
            assert sent.status is OutboxStatus.SENT
            assert sent.result == {"message_id": 1}
            assert (await uow.outbox.heads())[0].params == {"n": 2}

    async def test_only_the_newest_call_with_a_key_is_current(
        self, uow_factory: UowFactory
    ) -> None:
        async with uow_factory() as uow:
            for _ in range(2):
                await uow.outbox.add(
                    OutboundCall(
                        chat_id=-1, method="editMessageText", params={}, dedupe_key="card:1"
                    ),
                    T0,
                )
            await uow.commit()
        async with uow_factory(readonly=True) as uow:
            [first] = await uow.outbox.heads()
            first_id = first.id
        second = OutboundCall(chat_id=-1, method="editMessageText", params={}, dedupe_key="card:1")
        second.id = first_id + 1
        async with uow_factory(readonly=True) as uow:
            assert await uow.outbox.superseded(first)
            assert not await uow.outbox.superseded(second)
            stats = await uow.outbox.stats(T0 + timedelta(seconds=30))
            assert stats["pending"] == 2
            assert stats["oldest_pending_s"] == pytest.approx(30)
