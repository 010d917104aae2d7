"""The fake unit of work keeps its promises: its repositories have their protocols' methods
(names, parameters, return types), and it keeps the transaction semantics services rely on."""

from __future__ import annotations

import inspect
import re
import typing
from datetime import timedelta

import pytest

from models import Customer, EventKind, Ticket
from models.delivery import Appearance, OutboundCall
from storage import ports
from tests.support.fake_uow import FakeDatabase, FakeStore
from tests.support.services import T0, customer_and_ticket, store

#: What only the unit of work calls on its repositories at commit (as in SqlAlchemyUnitOfWork).
COMMIT_ONLY = {"sync", "forget", "write_queued"}


def _methods(cls: type) -> dict[str, str]:
    """Public methods and their signatures; a generic store's ``D`` is its argument."""
    generic = {}
    for base in getattr(cls, "__orig_bases__", ()):
        if typing.get_origin(base) in (ports.Store, FakeStore):
            generic["D"] = typing.get_args(base)[0].__name__
    return {
        name: re.sub(r"\bD\b", generic.get("D", "D"), str(inspect.signature(member)))
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") and name not in COMMIT_ONLY
    }


async def test_each_fake_method_is_its_protocols_method() -> None:
    """Same names, parameters, defaults and annotations (mypy checks the SQLAlchemy ones)."""
    async with FakeDatabase().uow() as uow:
        repositories = {
            name: type(getattr(uow, name))
            for name in ports.AbstractUnitOfWork.__annotations__
            if hasattr(uow, name)
        }
    assert len(repositories) >= 10
    wrong = []
    for name, fake in repositories.items():
        protocol = _methods(getattr(ports, ports.AbstractUnitOfWork.__annotations__[name]))
        for method, signature in _methods(fake).items():
            if protocol.get(method) != signature:
                wrong.append(f"{fake.__name__}.{method}{signature} != {protocol.get(method)}")
    assert wrong == []


class TestTransactions:
    async def test_a_change_without_commit_is_lost(self, db: FakeDatabase) -> None:
        customer = Customer(telegram_id=1, first_name="Ann", created_at=T0)
        await store(db, customer)
        async with db.uow() as uow:
            loaded = await uow.customers.get(customer.id)
            loaded.first_name = "Bob"
        assert db.row("customers", customer.id).first_name == "Ann"

    async def test_a_rollback_forgets_changes_adds_and_queued_calls(
        self, db: FakeDatabase
    ) -> None:
        _, ticket = await customer_and_ticket(db)
        async with db.uow() as uow:
            loaded = await uow.tickets.get(ticket.id)
            loaded.subject = "changed"
            await uow.customers.add(Customer(telegram_id=2, first_name="Bob", created_at=T0))
            await uow.desk_settings.set("k", "v")
            await uow.rollback()
            await uow.commit()
        assert db.row("tickets", ticket.id).subject == "My card is blocked"
        assert len(db.rows("customers")) == 1
        assert db.settings == {}

    async def test_loads_are_copies_written_back_on_commit(self, db: FakeDatabase) -> None:
        _, ticket = await customer_and_ticket(db)
        async with db.uow() as uow:
            loaded = await uow.tickets.get(ticket.id)
            loaded.subject = "changed"
            again = await uow.tickets.get(ticket.id)
            assert again is not loaded
            assert again.subject == "My card is blocked"  # queries see the stored row
            await uow.commit()
        # Written back in the order they were loaded: the later copy (unchanged) wins, as with
        # two domain objects of one record in the SQLAlchemy unit of work.
        assert db.row("tickets", ticket.id).subject == "My card is blocked"

    async def test_ticket_events_are_stored_with_the_ticket(self, db: FakeDatabase) -> None:
        _, ticket = await customer_and_ticket(db)
        assert [(e.kind, e.ticket_id) for e in db.events] == [(EventKind.CREATED, ticket.id)]
        assert db.row("tickets", ticket.id).pending_events == []

    async def test_what_the_database_refuses_the_fake_refuses(self, db: FakeDatabase) -> None:
        async with db.uow() as uow:
            with pytest.raises(ValueError, match="customers: created_at cannot be null"):
                await uow.customers.add(Customer(telegram_id=1, first_name="Ann"))
        _, ticket = await customer_and_ticket(db)
        async with db.uow() as uow:
            loaded = await uow.tickets.get(ticket.id)
            loaded.created_at = None
            with pytest.raises(ValueError, match="tickets: created_at cannot be null"):
                await uow.commit()

    async def test_a_readonly_unit_of_work_refuses_to_commit(self, db: FakeDatabase) -> None:
        async with db.uow(readonly=True) as uow:
            with pytest.raises(RuntimeError):
                await uow.commit()

    async def test_a_ticket_gets_the_next_number(self, db: FakeDatabase) -> None:
        _, first = await customer_and_ticket(db)
        second = Ticket.open(customer_id=first.customer_id, subject="again", now=T0)
        await store(db, second)
        assert (first.number, second.number) == (1, 2)

    async def test_statement_written_rows_are_lost_on_rollback_too(self, db: FakeDatabase) -> None:
        """The logs' fakes reach their rows through the state, which a rollback replaces."""
        async with db.uow() as uow:
            await uow.inbox.add_many([(1, "{}")], T0)
            await uow.rollback()
            await uow.inbox.add_many([(2, "{}")], T0)
            await uow.shown.record(Appearance(1, 2, "body", "markup"), T0)
            await uow.commit()
        assert sorted(db.state.table("inbox")) == [2]
        assert list(db.state.shown) == [(1, 2)]

    async def test_outbox_ids_are_never_reused(self, db: FakeDatabase) -> None:
        for _ in range(2):
            async with db.uow() as uow:
                await uow.outbox.add(OutboundCall(1, "sendMessage", {}), T0)
                await uow.commit()
        async with db.uow() as uow:
            await uow.outbox.mark_sent(1, {}, T0)
            assert await uow.outbox.prune(T0 + timedelta(days=1), 10) == 1
            await uow.outbox.add(OutboundCall(1, "sendMessage", {}), T0)
            await uow.commit()
        assert [c.id for c in db.outbox] == [2, 3]
