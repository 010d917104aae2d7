"""Every worker's similar-tickets index follows the shared ``solutions`` table (both databases):
new rows by id, replaced rows, rows deleted by a rebuild, a row committed late with a lower id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.services.similar import SimilarTickets
from models import Customer, Ticket
from models.solutions import Solution
from storage import SqlAlchemyUnitOfWork
from storage.orm import SolutionRecord

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UowFactory = Callable[..., SqlAlchemyUnitOfWork]
TEXTS = [
    "My card was charged twice",
    "I forgot my password and cannot log in",
    "Where is my parcel? The delivery is late",
    "Не могу войти в личный кабинет",
]


async def tickets(uow_factory: UowFactory, count: int) -> list[int]:
    async with uow_factory() as uow:
        customer = await uow.customers.add(
            Customer(telegram_id=1, first_name="Ann", language="en", created_at=T0)
        )
        made = [
            await uow.tickets.add(Ticket.open(customer_id=customer.id, subject=f"t{i}", now=T0))
            for i in range(count)
        ]
        await uow.commit()
    return [t.id for t in made]


async def put(uow_factory: UowFactory, ticket_id: int, text: str, minutes: int = 0) -> None:
    async with uow_factory() as uow:
        await uow.solutions.put(
            Solution(ticket_id, text, f"reply to {text}", T0 + timedelta(minutes=minutes))
        )
        await uow.commit()


async def solved(uow_factory: UowFactory, count: int, solutions: int) -> list[int]:
    """``count`` tickets, the first ``solutions`` of them solved (with TEXTS, in order)."""
    ids = await tickets(uow_factory, count)
    for ticket_id, text in zip(ids[:solutions], TEXTS[:solutions], strict=True):
        await put(uow_factory, ticket_id, text)
    return ids


async def best(uow_factory: UowFactory, worker: SimilarTickets, text: str) -> list[int]:
    async with uow_factory(readonly=True) as uow:
        hits = await worker.lookup(uow, text, exclude=0, floor=0.3, k=3)
    return [h.key for h in hits]


async def test_two_workers_see_every_resolution_and_each_reads_a_row_once(
    uow_factory: UowFactory,
) -> None:
    ids = await solved(uow_factory, 4, 3)
    first, second = SimilarTickets(), SimilarTickets()
    assert (await best(uow_factory, first, "charged twice on my card"))[0] == ids[0]
    assert (await best(uow_factory, second, "forgot password"))[0] == ids[1]

    await put(uow_factory, ids[3], TEXTS[3])
    for worker in (first, second):
        assert (await best(uow_factory, worker, "не получается войти в кабинет"))[0] == ids[3]
        async with uow_factory(readonly=True) as uow:
            assert await worker.refresh(uow) == 0  # nothing new: nothing read again
        assert len(worker.index) == 4


async def test_a_replaced_solution_replaces_the_entry_everywhere(
    uow_factory: UowFactory,
) -> None:
    ids = await solved(uow_factory, 2, 2)
    worker = SimilarTickets(check_every=0)
    assert ids[0] in await best(uow_factory, worker, "card charged twice")
    await put(uow_factory, ids[0], "The courier lost my parcel", minutes=5)
    assert ids[0] not in await best(uow_factory, worker, "card charged twice")
    assert (await best(uow_factory, worker, "courier lost the parcel"))[0] == ids[0]
    assert len(worker.index) == 2


async def test_deleted_rows_leave_and_a_late_row_below_the_watermark_is_read(
    uow_factory: UowFactory,
) -> None:
    ids = await solved(uow_factory, 4, 3)
    worker = SimilarTickets(check_every=0)
    async with uow_factory() as uow:
        late = await uow.solutions.for_ticket(ids[1])
        assert late is not None
        await uow.solutions.remove(ids[1])  # a gap the worker never sees filled...
        await uow.commit()
    assert (await best(uow_factory, worker, "card charged twice"))[0] == ids[0]
    assert late.id is not None
    assert worker.watermark > late.id
    async with uow_factory() as uow:
        assert isinstance(uow, SqlAlchemyUnitOfWork)
        assert uow.session is not None
        # ...until another worker's transaction, which took that lower id, commits late.
        uow.session.add(
            SolutionRecord(id=late.id, ticket_id=ids[3], text=TEXTS[3], reply="r", resolved_at=T0)
        )
        await uow.solutions.remove(ids[0])  # and a row goes away (a deleted ticket)
        await uow.commit()
    assert (await best(uow_factory, worker, "не могу войти в кабинет"))[0] == ids[3]
    assert ids[0] not in await best(uow_factory, worker, "card charged twice")
    assert sorted(worker.rows) == sorted([ids[2], ids[3]])


async def test_a_rebuilt_table_is_followed_without_a_restart(uow_factory: UowFactory) -> None:
    ids = await solved(uow_factory, 3, 3)
    worker = SimilarTickets(check_every=0)
    await best(uow_factory, worker, "card")
    async with uow_factory() as uow:
        await uow.solutions.clear()
        await uow.solutions.put(Solution(ids[2], TEXTS[2], "r", T0))
        await uow.commit()
    assert await best(uow_factory, worker, "card charged twice") == []
    assert await best(uow_factory, worker, "parcel delivery late") == [ids[2]]
    assert list(worker.rows) == [ids[2]]


async def test_the_full_check_runs_at_most_once_per_interval_new_rows_at_once(
    uow_factory: UowFactory,
) -> None:
    ids = await solved(uow_factory, 4, 2)
    worker = SimilarTickets(check_every=3600)
    assert (await best(uow_factory, worker, "card charged twice"))[0] == ids[0]
    async with uow_factory() as uow:
        await uow.solutions.remove(ids[0])
        await uow.commit()
    await put(uow_factory, ids[2], TEXTS[2])
    assert (await best(uow_factory, worker, "parcel delivery late"))[0] == ids[2]
    assert ids[0] in await best(uow_factory, worker, "card charged twice")  # until the check
    worker.check_every = 0
    assert ids[0] not in await best(uow_factory, worker, "card charged twice")
