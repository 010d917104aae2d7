"""Surge detection on a real database, with two workers deciding at the same moment: the
database is the arbiter (the incident lock), so a surge becomes one incident, not two."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiogram.utils.i18n import I18n

from bot.adapters.presenter import Presenter
from bot.services import surge
from bot.texts import make_i18n
from models import Customer, Ticket
from models.incidents import IncidentStatus
from storage import SqlAlchemyUnitOfWork
from tests.support.outage import OUTAGE

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
Factory = Callable[..., SqlAlchemyUnitOfWork]


async def new_ticket(uow: SqlAlchemyUnitOfWork, n: int, text: str, now: datetime) -> Ticket:
    customer = await uow.customers.add(
        Customer(telegram_id=1000 + n, first_name=f"C{n}", created_at=now)
    )
    ticket = Ticket.open(customer_id=customer.id or 0, subject=text, now=now)  # type: ignore[arg-type]
    # A number of its own: allocating one locks the ticket counter until commit, which would
    # serialise the two workers before they ever looked for a cluster.
    ticket.number = 100 + n
    return await uow.tickets.add(ticket)


def presenter() -> Presenter:
    i18n = make_i18n("en")
    I18n.set_current(i18n)
    return Presenter(i18n, agent_chat_id=-1001000000001)


# PostgreSQL only: there both transactions run side by side until the lock. SQLite has one
# writer (every write transaction begins with BEGIN IMMEDIATE), so the second worker could not
# even add its ticket before the first commits: the question does not arise.
@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_two_workers_completing_one_cluster_at_once_open_one_incident(
    uow_factory: Factory,
) -> None:
    async with uow_factory() as uow:  # three similar tickets, committed earlier
        for n, text in enumerate(OUTAGE[:3]):
            await new_ticket(uow, n, text, NOW - timedelta(minutes=3 - n))
        await uow.commit()
    # Two workers each add a fourth similar ticket: with size 4, each sees a cluster of its own
    # ticket and the three committed ones (neither sees the other's uncommitted ticket).
    async with uow_factory() as uow:
        await uow.desk_settings.set("setting:incident_size", "4")
        await uow.commit()
    both_looked = asyncio.Barrier(2)

    async def worker(n: int) -> int | None:
        async with uow_factory() as uow:
            ticket = await new_ticket(uow, n, OUTAGE[n], NOW)
            await both_looked.wait()  # neither has committed: each finds its own cluster
            incident = await surge.place(uow, presenter(), ticket, NOW)
            await uow.commit()
            return incident.id if incident is not None else None

    first, second = await asyncio.wait_for(asyncio.gather(worker(3), worker(4)), 60)
    assert first is not None
    assert first == second
    async with uow_factory() as uow:
        incidents = await uow.incidents.open()
        assert [i.number for i in incidents] == [1]
        members = await uow.incidents.members(incidents[0].id or 0)
    assert len(members) == 5


async def test_a_ticket_already_in_an_incident_is_not_taken_into_a_second_one(
    uow_factory: Factory,
) -> None:
    async with uow_factory() as uow:
        for n, text in enumerate(OUTAGE[:5]):
            await new_ticket(uow, n, text, NOW)
        ticket = await new_ticket(uow, 5, OUTAGE[5], NOW)
        first = await surge.place(uow, presenter(), ticket, NOW)
        await uow.commit()
    assert first is not None
    async with uow_factory() as uow:
        ticket = await new_ticket(uow, 6, OUTAGE[6], NOW + timedelta(minutes=1))
        joined = await surge.place(uow, presenter(), ticket, NOW + timedelta(minutes=1))
        await uow.commit()
        assert joined is not None
        assert joined.id == first.id
        assert len(await uow.incidents.members(first.id or 0)) == 7


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_ticket_joining_while_the_incident_ends_waits_and_stays_on_its_own(
    uow_factory: Factory,
) -> None:
    async with uow_factory() as uow:
        for n, text in enumerate(OUTAGE[:4]):
            await new_ticket(uow, n, text, NOW)
        ticket = await new_ticket(uow, 4, OUTAGE[4], NOW)
        incident = await surge.place(uow, presenter(), ticket, NOW)
        await uow.commit()
    assert incident is not None
    later = NOW + timedelta(minutes=1)
    async with uow_factory() as ending:  # an agent's Split, holding the incident until commit
        held = await ending.incidents.get_for_update(incident.id or 0)
        assert held is not None

        async def joiner() -> bool:
            async with uow_factory() as uow:
                newcomer = await new_ticket(uow, 5, OUTAGE[5], later)
                joined = await surge.place(uow, presenter(), newcomer, later)
                await uow.commit()
                return joined is not None

        joining = asyncio.create_task(joiner())
        await asyncio.sleep(0.5)
        assert not joining.done()  # waiting for the incident
        held.close(IncidentStatus.SPLIT, later)
        await ending.commit()
    assert await asyncio.wait_for(joining, 30) is False
    async with uow_factory() as uow:
        newcomer = await uow.tickets.by_number(105)
        assert newcomer is not None
        assert newcomer.incident_id is None
