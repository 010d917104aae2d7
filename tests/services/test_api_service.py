"""The REST API's use cases (bot.services.api): keys, outbound contacts, changes with
``If-Match``, replies, notes and merges, as the desk itself (recorded as the key's)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.adapters.presenter import Presenter
from bot.services import api
from models import (
    Actor,
    Agent,
    Customer,
    InvalidInput,
    MessageDirection,
    Priority,
    Team,
    Ticket,
    TicketMerged,
    TicketNotFound,
    TicketStatus,
)
from models import apikeys as ak
from models import webhooks as wh
from models.delivery import Channel, OutboundCall, OutboxStatus
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, customer_and_ticket, store

NOW = T0 + timedelta(hours=1)


@pytest.fixture
async def key(db: FakeDatabase) -> tuple[ak.ApiKey, str]:
    new = ak.new_key("crm", (ak.TICKETS_READ, ak.TICKETS_WRITE), T0, None)
    async with db.uow() as uow:
        await uow.apikeys.add(new.record)
        await uow.commit()
    return new.record, new.key


class TestAuthenticate:
    async def test_a_key_in_service_is_found_a_revoked_or_unknown_one_is_not(
        self, db: FakeDatabase, key: tuple[ak.ApiKey, str]
    ) -> None:
        record, presented = key
        async with db.uow() as uow:
            found = await api.authenticate(uow, presented)
            assert found is not None
            assert found.id == record.id
            assert await api.authenticate(uow, presented[:-1]) is None
            assert await api.authenticate(uow, presented.removeprefix(ak.KEY_PREFIX)) is None
            await uow.apikeys.revoke(record.id or 0, NOW)
            await uow.commit()
        async with db.uow() as uow:
            assert await api.authenticate(uow, presented) is None


async def open_ticket(
    db: FakeDatabase, presenter: Presenter, key: ak.ApiKey, new: api.NewTicket
) -> Ticket:
    async with db.uow() as uow:
        ticket = await api.open_ticket(uow, presenter, key, new, NOW)
        await uow.commit()
    return ticket


class TestOpenTicket:
    async def test_an_outbound_contact_opens_a_ticket_and_writes_to_the_customer(
        self, db: FakeDatabase, presenter: Presenter, key: tuple[ak.ApiKey, str]
    ) -> None:
        billing = Team(name="Billing")
        await store(db, billing)
        customer = Customer(telegram_id=501, first_name="Ann", created_at=T0)
        await store(db, customer)
        new = api.NewTicket(501, "Your card is ready", team="billing", priority=Priority.HIGH)
        ticket = await open_ticket(db, presenter, key[0], new)
        stored = db.row("tickets", ticket.id)
        assert (stored.customer_id, stored.team_id, stored.priority) == (
            customer.id,
            billing.id,
            Priority.HIGH,
        )
        assert stored.agent_chat_id == AGENTS_CHAT
        [message] = db.rows("messages")
        assert (message.direction, message.text) == (MessageDirection.AGENT, "Your card is ready")
        assert 501 in {c.chat_id for c in db.outbox}  # the customer hears from the desk
        assert db.events[0].actor == Actor.api(key[0].id)

    @pytest.mark.parametrize(
        ("new", "field"),
        [
            (api.NewTicket(999, "hi"), "customer_telegram_id"),
            (api.NewTicket(501, "hi", category="nope"), "category"),
            (api.NewTicket(501, "hi", team="nope"), "team"),
        ],
    )
    async def test_an_unknown_customer_category_or_team_is_refused(
        self,
        db: FakeDatabase,
        presenter: Presenter,
        key: tuple[ak.ApiKey, str],
        new: api.NewTicket,
        field: str,
    ) -> None:
        await store(db, Customer(telegram_id=501, first_name="Ann", created_at=T0))
        with pytest.raises(InvalidInput) as refused:
            await open_ticket(db, presenter, key[0], new)
        assert refused.value.field == field  # type: ignore[attr-defined]
        assert db.rows("tickets") == []

    async def test_a_banned_customer_is_not_written_to(
        self, db: FakeDatabase, presenter: Presenter, key: tuple[ak.ApiKey, str]
    ) -> None:
        await store(db, Customer(telegram_id=501, first_name="Ann", created_at=T0, banned=True))
        with pytest.raises(InvalidInput, match="banned"):
            await open_ticket(db, presenter, key[0], api.NewTicket(501, "hi"))
        assert db.outbox == []


async def change(
    db: FakeDatabase,
    presenter: Presenter,
    key: ak.ApiKey,
    number: int,
    what: api.TicketChange,
    if_match: str | None = None,
) -> Ticket:
    async with db.uow() as uow:
        ticket = await api.change_ticket(uow, presenter, key, number, what, if_match, NOW)
        await uow.commit()
    return ticket


class TestChangeTicket:
    async def test_the_parts_are_applied_and_recorded_as_the_keys(
        self, db: FakeDatabase, presenter: Presenter, key: tuple[ak.ApiKey, str]
    ) -> None:
        bob = Agent(telegram_id=12, name="Bob", created_at=T0)
        await store(db, bob)
        _, ticket = await customer_and_ticket(db, status=TicketStatus.OPEN)
        what = api.TicketChange(
            status=TicketStatus.RESOLVED, priority=Priority.URGENT, assignee_id=bob.id
        )
        await change(db, presenter, key[0], ticket.number, what)
        stored = db.row("tickets", ticket.id)
        assert (stored.status, stored.priority, stored.assignee_id) == (
            TicketStatus.RESOLVED,
            Priority.URGENT,
            bob.id,
        )
        assert {e.actor for e in db.events[1:]} == {Actor.api(key[0].id)}

    async def test_a_stale_version_is_refused_with_the_current_one(
        self, db: FakeDatabase, presenter: Presenter, key: tuple[ak.ApiKey, str]
    ) -> None:
        _, ticket = await customer_and_ticket(db, status=TicketStatus.OPEN)
        current = api.etag(db.row("tickets", ticket.id))
        high = api.TicketChange(priority=Priority.HIGH)
        with pytest.raises(api.StaleTicket) as refused:
            await change(db, presenter, key[0], ticket.number, high, '"old"')
        assert refused.value.current == current
        await change(db, presenter, key[0], ticket.number, high, current)
        assert db.row("tickets", ticket.id).priority is Priority.HIGH

    async def test_an_inactive_assignee_is_refused_before_anything_is_written(
        self, db: FakeDatabase, presenter: Presenter, key: tuple[ak.ApiKey, str]
    ) -> None:
        gone = Agent(telegram_id=12, name="Bob", active=False, created_at=T0)
        await store(db, gone)
        _, ticket = await customer_and_ticket(db, status=TicketStatus.OPEN)
        what = api.TicketChange(priority=Priority.HIGH, assignee_id=gone.id)
        async with db.uow() as uow:
            with pytest.raises(InvalidInput):
                await api.change_ticket(uow, presenter, key[0], ticket.number, what, None, NOW)
            loaded = await uow.tickets.get(ticket.id)
        assert loaded is not None
        assert loaded.priority is Priority.NORMAL

    async def test_an_unknown_number_is_not_found(
        self, db: FakeDatabase, presenter: Presenter, key: tuple[ak.ApiKey, str]
    ) -> None:
        with pytest.raises(TicketNotFound):
            await change(db, presenter, key[0], 404, api.TicketChange(priority=Priority.HIGH))


class TestRepliesAndNotes:
    async def test_a_note_stays_in_the_topic(
        self, db: FakeDatabase, presenter: Presenter, key: tuple[ak.ApiKey, str]
    ) -> None:
        _, ticket = await customer_and_ticket(
            db, status=TicketStatus.OPEN, agent_chat_id=AGENTS_CHAT, agent_thread_id=5
        )
        async with db.uow() as uow:
            await api.note(uow, presenter, key[0], ticket.number, "called them", NOW)
        [message] = db.rows("messages")
        assert (message.direction, message.text) == (MessageDirection.NOTE, "called them")
        assert {c.chat_id for c in db.outbox} == {AGENTS_CHAT}
        assert "crm" in db.outbox[0].params["text"]

    async def test_a_reply_goes_to_the_customer(
        self, db: FakeDatabase, presenter: Presenter, key: tuple[ak.ApiKey, str]
    ) -> None:
        customer, ticket = await customer_and_ticket(db, status=TicketStatus.OPEN)
        async with db.uow() as uow:
            message = await api.reply(uow, presenter, key[0], ticket.number, "Fixed.", NOW)
            await uow.commit()
        assert db.row("messages", message.id).direction is MessageDirection.AGENT
        assert customer.telegram_id in {c.chat_id for c in db.outbox}

    async def test_a_merged_ticket_takes_nothing_more(
        self, db: FakeDatabase, presenter: Presenter, key: tuple[ak.ApiKey, str]
    ) -> None:
        _, target = await customer_and_ticket(db, status=TicketStatus.OPEN)
        _, merged = await customer_and_ticket(db, merged_into_id=target.id)
        async with db.uow() as uow:
            with pytest.raises(TicketMerged):
                await api.note(uow, presenter, key[0], merged.number, "x", NOW)
            with pytest.raises(TicketMerged):
                await api.reply(uow, presenter, key[0], merged.number, "x", NOW)
            with pytest.raises(TicketMerged):
                await api.merge(uow, presenter, key[0], merged.number, target.number, None, NOW)
        assert db.rows("messages") == []


class TestListAndGet:
    @pytest.fixture
    async def three(self, db: FakeDatabase) -> tuple[Ticket, Ticket, Ticket]:
        """Ann's open Billing ticket assigned to Bob, her resolved one, and Eve's new one."""
        billing, bob = Team(name="Billing"), Agent(telegram_id=12, name="Bob", created_at=T0)
        await store(db, billing, bob)
        _, first = await customer_and_ticket(
            db, status=TicketStatus.OPEN, team_id=billing.id, assignee_id=bob.id
        )
        second = Ticket.open(customer_id=first.customer_id, subject="done", now=T0)
        second.status = TicketStatus.RESOLVED
        eve = Customer(telegram_id=777, first_name="Eve", created_at=T0)
        await store(db, eve)
        third = Ticket.open(customer_id=eve.id, subject="new", now=T0)
        await store(db, second, third)
        return first, second, third

    async def page(
        self, db: FakeDatabase, wanted: api.TicketFilter, before_id: int | None = None
    ) -> tuple[list[Ticket], api.Related]:
        async with db.uow(readonly=True) as uow:
            return await api.list_tickets(uow, wanted, before_id, 2, "UTC", NOW)

    async def test_a_page_is_newest_first_with_a_stable_cursor(
        self, db: FakeDatabase, three: tuple[Ticket, Ticket, Ticket]
    ) -> None:
        first, second, third = three
        tickets, _ = await self.page(db, api.TicketFilter())
        assert [t.id for t in tickets] == [third.id, second.id]
        tickets, _ = await self.page(db, api.TicketFilter(), before_id=second.id)
        assert [t.id for t in tickets] == [first.id]

    async def test_filters_narrow_the_page_and_what_it_refers_to_comes_along(
        self, db: FakeDatabase, three: tuple[Ticket, Ticket, Ticket]
    ) -> None:
        first, _, third = three
        wanted = api.TicketFilter(statuses=(TicketStatus.OPEN,), team="billing")
        [ticket], related = await self.page(db, wanted)
        assert ticket.id == first.id
        assert related.teams[ticket.team_id].name == "Billing"
        assert related.agents[ticket.assignee_id].name == "Bob"
        assert related.customers[ticket.customer_id].first_name == "Ann"
        assert first.id in related.deadlines  # an active ticket's next SLA deadline
        [ticket], _ = await self.page(db, api.TicketFilter(customer_telegram_id=777))
        assert ticket.id == third.id
        assert (await self.page(db, api.TicketFilter(customer_telegram_id=1)))[0] == []

    async def test_an_unknown_team_is_refused(
        self, db: FakeDatabase, three: tuple[Ticket, Ticket, Ticket]
    ) -> None:
        with pytest.raises(InvalidInput):
            await self.page(db, api.TicketFilter(team="sales"))

    async def test_one_ticket_by_number_names_where_it_was_merged(
        self, db: FakeDatabase, three: tuple[Ticket, Ticket, Ticket]
    ) -> None:
        first, second, _ = three
        db.state.table("tickets")[second.id].merged_into_id = first.id
        async with db.uow(readonly=True) as uow:
            ticket, related = await api.get_ticket(uow, second.number, "UTC", NOW)
            assert related.numbers == {first.id: first.number}
            with pytest.raises(TicketNotFound):
                await api.get_ticket(uow, 404, "UTC", NOW)
        assert ticket.id == second.id


class TestPruneIdempotency:
    async def test_responses_older_than_the_window_are_forgotten(
        self, db: FakeDatabase, key: tuple[ak.ApiKey, str]
    ) -> None:
        key_id = key[0].id or 0
        async with db.uow() as uow:
            await uow.idempotency.claim(key_id, "old", "f1", NOW - api.IDEMPOTENCY_WINDOW * 2)
            await uow.idempotency.claim(key_id, "new", "f2", NOW - timedelta(hours=1))
            await uow.idempotency.answer(key_id, "new", 201, "{}")
            await uow.commit()
        assert await api.prune_idempotency(db.uow, NOW) == 1
        async with db.uow() as uow:
            assert await uow.idempotency.get(key_id, "old") is None
            kept = await uow.idempotency.get(key_id, "new")
        assert kept is not None
        assert (kept.status, kept.body) == (201, "{}")


class TestRedeliver:
    async def failed_delivery(self, db: FakeDatabase) -> tuple[wh.Webhook, OutboundCall]:
        async with db.uow() as uow:
            hook = await uow.webhooks.add(wh.Webhook("https://crm.example/h", "s", ("*",), T0))
            params = {
                "webhook": hook.id,
                "event": "ticket.opened",
                "delivery": "d-1",
                "body": "{}",
            }
            call = OutboundCall(
                hook.id or 0, wh.WEBHOOK_METHOD, params, ticket_id=7, channel=Channel.WEBHOOK
            )
            await uow.outbox.add(call, T0)
            await uow.commit()
        async with db.uow() as uow:
            await uow.outbox.give_up(db.outbox[-1].id or 0, OutboxStatus.FAILED, "HTTP 500")
            await uow.commit()
        return hook, db.outbox[-1]

    async def test_the_same_delivery_is_queued_again(self, db: FakeDatabase) -> None:
        hook, failed = await self.failed_delivery(db)
        async with db.uow() as uow:
            new_id = await api.redeliver(uow, failed.id or 0, NOW)
        again = db.outbox[-1]
        assert new_id == again.id != failed.id
        assert (again.chat_id, again.channel, again.status) == (
            hook.id,
            Channel.WEBHOOK,
            OutboxStatus.PENDING,
        )
        assert (again.params, again.ticket_id) == (failed.params, 7)

    async def test_an_unknown_or_telegram_call_is_not_a_delivery(self, db: FakeDatabase) -> None:
        async with db.uow() as uow:
            await uow.outbox.add(OutboundCall(AGENTS_CHAT, "sendMessage", {}), T0)
            await uow.commit()
        async with db.uow() as uow:
            for outbox_id in (db.outbox[0].id or 0, 999):
                with pytest.raises(api.DeliveryNotFound):
                    await api.redeliver(uow, outbox_id, NOW)

    async def test_a_removed_webhook_gets_nothing(self, db: FakeDatabase) -> None:
        hook, failed = await self.failed_delivery(db)
        async with db.uow() as uow:
            await uow.webhooks.deactivate(hook.id or 0)
            await uow.commit()
        async with db.uow() as uow:
            with pytest.raises(InvalidInput, match="removed"):
                await api.redeliver(uow, failed.id or 0, NOW)
        assert len(db.outbox) == 1
