"""Agent tools against both databases: the claim race, queues, merges, canned answers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from bot.services import assignment
from models import (
    Agent,
    AlreadyAssigned,
    CannedAnswer,
    Customer,
    MessageDirection,
    Priority,
    Ticket,
    TicketMessage,
)
from storage import AbstractUnitOfWork

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UowFactory = Callable[[], AbstractUnitOfWork]


class NullPresenter:
    """Renders nothing: these tests look at the database, not at Telegram."""

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: []


async def seed(uow_factory: UowFactory, agents: int) -> tuple[int, list[Agent]]:
    async with uow_factory() as uow:
        customer = await uow.customers.add(
            Customer(telegram_id=1, first_name="Ann", language="en", created_at=T0)
        )
        ticket = await uow.tickets.add(Ticket.open(customer_id=customer.id, subject="x", now=T0))
        people = [
            await uow.agents.add(Agent(telegram_id=100 + i, name=f"A{i}", created_at=T0))
            for i in range(agents)
        ]
        await uow.commit()
    return ticket.id, people


async def test_many_concurrent_claims_have_one_winner(uow_factory: UowFactory) -> None:
    ticket_id, people = await seed(uow_factory, 12)

    async def claim(agent: Agent) -> bool | str:
        async with uow_factory() as uow:
            try:
                return await assignment.claim(uow, NullPresenter(), agent, ticket_id, T0)
            except AlreadyAssigned as refused:
                return refused.assignee

    results = await asyncio.gather(*(claim(a) for a in people))
    winners = [a for a, r in zip(people, results, strict=True) if r is True]
    assert len(winners) == 1, results
    losers = [r for r in results if r is not True]
    assert losers == [winners[0].name] * 11  # every loser is told who has it
    async with uow_factory() as uow:
        ticket = await uow.tickets.get(ticket_id)
        events = await uow.events.for_ticket(ticket_id)
    assert ticket.assignee_id == winners[0].id
    assert [e.kind for e in events].count("assigned") == 1


async def test_queue_filters_and_orders(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        customer = await uow.customers.add(
            Customer(telegram_id=1, first_name="Ann", language="en", created_at=T0)
        )
        agent = await uow.agents.add(Agent(telegram_id=9, name="Bob", created_at=T0))
        tickets = []
        for i, priority in enumerate([Priority.LOW, Priority.URGENT, Priority.NORMAL]):
            t = Ticket.open(customer_id=customer.id, subject=f"t{i}", now=T0, priority=priority)
            tickets.append(await uow.tickets.add(t))
        tickets[0].tags = ["vip", "a_b"]
        tickets[2].sla_breached = True
        tickets[1].assignee_id = agent.id
        await uow.commit()
    async with uow_factory() as uow:
        all_, total = await uow.tickets.queue()
        assert total == 3
        assert [t.subject for t in all_] == ["t2", "t1", "t0"]  # breached, then most urgent
        assert [t.subject for t in (await uow.tickets.queue(tag="vip"))[0]] == ["t0"]
        assert (await uow.tickets.queue(tag="a%"))[1] == 0  # LIKE wildcards are literal
        assert [t.subject for t in (await uow.tickets.queue(unassigned=True))[0]] == ["t2", "t0"]
        assert [t.subject for t in (await uow.tickets.queue(assignee_id=agent.id))[0]] == ["t1"]
        page, total = await uow.tickets.queue(offset=2, limit=2)
        assert total == 3
        assert [t.subject for t in page] == ["t0"]
        assert await uow.tickets.open_counts([agent.id]) == {agent.id: 1}


async def test_moving_messages_keeps_their_order(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        customer = await uow.customers.add(
            Customer(telegram_id=1, first_name="Ann", language="en", created_at=T0)
        )
        a = await uow.tickets.add(Ticket.open(customer_id=customer.id, subject="a", now=T0))
        b = await uow.tickets.add(Ticket.open(customer_id=customer.id, subject="b", now=T0))
        for ticket, text in [(b, "b1"), (a, "a1"), (a, "a2")]:
            await uow.messages.add(
                TicketMessage(
                    ticket_id=ticket.id,
                    direction=MessageDirection.CUSTOMER,
                    sent_at=T0,
                    text=text,
                )
            )
        moved = await uow.messages.move(a.id, b.id)
        await uow.commit()
    assert moved == 2
    async with uow_factory() as uow:
        assert [m.text for m in await uow.messages.for_ticket(b.id)] == ["b1", "a1", "a2"]
        assert await uow.messages.for_ticket(a.id) == []


async def test_canned_versions_are_unique_per_language(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        for lang in ("en", "ru"):
            await uow.canned.add(CannedAnswer(key="hi", language=lang, text=lang, created_at=T0))
        await uow.commit()
    async with uow_factory() as uow:
        assert [v.language for v in await uow.canned.versions("hi")] == ["en", "ru"]
        assert await uow.canned.remove("hi", "ru") == 1
        await uow.commit()
    async with uow_factory() as uow:
        await uow.canned.add(CannedAnswer(key="hi", language="de", text="x", created_at=T0))
        with pytest.raises(IntegrityError):
            await uow.canned.add(CannedAnswer(key="hi", language="de", text="y", created_at=T0))
