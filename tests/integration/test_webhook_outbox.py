"""Webhook deliveries are derived at commit, in the same transaction as their cause."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models import (
    Actor,
    Agent,
    Customer,
    MessageDirection,
    Rating,
    Role,
    Team,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from models import webhooks as wh
from models.delivery import Channel, OutboundCall
from storage import AbstractUnitOfWork

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UowFactory = Callable[..., AbstractUnitOfWork]


async def endpoint(
    uow_factory: UowFactory, events: tuple[str, ...] = wh.DEFAULT_EVENTS, url: str = "https://a"
) -> wh.Webhook:
    async with uow_factory() as uow:
        hook = await uow.webhooks.add(
            wh.Webhook(url=url, secret="s3cret", events=events, created_at=T0)
        )
        await uow.commit()
    return hook


async def deliveries(uow_factory: UowFactory) -> list[OutboundCall]:
    """Webhook deliveries queued since the last call (they are marked sent on the way)."""
    calls: list[OutboundCall] = []
    async with uow_factory() as uow:
        while True:  # heads() gives one call per queue: take them all, queue by queue
            batch = [c for c in await uow.outbox.heads() if c.method == wh.WEBHOOK_METHOD]
            if not batch:
                break
            for call in batch:
                calls.append(call)
                await uow.outbox.mark_sent(call.id or 0, None, T0)
        await uow.commit()
    return calls


def bodies(calls: list[OutboundCall], webhook: wh.Webhook) -> list[dict[str, Any]]:
    queue = (Channel.WEBHOOK, webhook.id)
    return [c.params["body"] for c in sorted(calls, key=lambda c: c.id or 0) if c.queue == queue]


async def seed(uow_factory: UowFactory) -> tuple[Customer, Agent, Team]:
    async with uow_factory() as uow:
        customer = await uow.customers.add(
            Customer(telegram_id=555, first_name="Ann", username="ann", created_at=T0)
        )
        agent = await uow.agents.add(
            Agent(telegram_id=777, name="Bob", role=Role.AGENT, created_at=T0)
        )
        team = await uow.teams.add(Team(name="Billing"))
        await uow.commit()
    return customer, agent, team


async def open_with_message(
    uow: AbstractUnitOfWork, customer: Customer, team: Team, text: str = "card declined"
) -> tuple[Ticket, TicketMessage]:
    ticket = Ticket.open(customer_id=customer.id or 0, subject=text, now=T0)
    ticket.triaged(
        category="billing",
        team_id=team.id,
        priority=ticket.priority,
        confidence=0.9,
        needs_human=False,
        now=T0,
    )
    await uow.tickets.add(ticket)
    message = await uow.messages.add(
        TicketMessage(
            ticket_id=ticket.id or 0,
            direction=MessageDirection.CUSTOMER,
            sent_at=T0,
            text=text,
            customer_chat_id=555,
            customer_message_id=1,
        )
    )
    return ticket, message


class TestDerivedAtCommit:
    async def test_opening_a_ticket_queues_opened_then_message(
        self, uow_factory: UowFactory
    ) -> None:
        customer, _agent, team = await seed(uow_factory)
        hook = await endpoint(uow_factory)
        async with uow_factory() as uow:
            ticket, message = await open_with_message(uow, customer, team)
            await uow.commit()
        found = bodies(await deliveries(uow_factory), hook)
        assert [b["type"] for b in found] == [wh.OPENED, wh.MESSAGE]
        opened, said = found
        assert opened["ticket"]["number"] == ticket.number
        assert opened["ticket"]["team"] == "Billing"
        assert opened["ticket"]["category"] == "billing"
        assert opened["ticket"]["customer"]["telegram_id"] == 555
        assert opened["ticket"]["status"] == "new"
        assert opened["ticket"]["channel"] == "telegram"  # its first message's, in the same commit
        assert opened["data"]["actor"] == {"kind": "customer", "id": customer.id}
        assert said["data"]["message"]["id"] == message.id
        assert said["data"]["message"]["text"] == "card declined"
        assert said["data"]["message"]["direction"] == "customer"
        assert opened["id"] != said["id"]

    async def test_the_ticket_keeps_its_first_channel_and_each_message_has_its_own(
        self, uow_factory: UowFactory
    ) -> None:
        customer, _agent, _team = await seed(uow_factory)
        hook = await endpoint(uow_factory)
        async with uow_factory() as uow:
            outbound = Ticket.open(
                customer_id=customer.id or 0, subject="we call you", now=T0, actor=Actor.system()
            )
            await uow.tickets.add(outbound)
            await uow.commit()
        [opened] = bodies(await deliveries(uow_factory), hook)
        assert opened["ticket"]["channel"] is None  # the customer has not written yet
        for channel in (Channel.EMAIL, Channel.TELEGRAM):
            async with uow_factory() as uow:
                await uow.messages.add(
                    TicketMessage(
                        ticket_id=outbound.id or 0,
                        direction=MessageDirection.CUSTOMER,
                        sent_at=T0,
                        text="hello",
                        channel=channel,
                    )
                )
                await uow.commit()
        said = bodies(await deliveries(uow_factory), hook)
        assert [b["data"]["message"]["channel"] for b in said] == ["email", "telegram"]
        assert [b["ticket"]["channel"] for b in said] == ["email", "email"]

    async def test_a_rollback_leaves_no_delivery(self, uow_factory: UowFactory) -> None:
        customer, _agent, team = await seed(uow_factory)
        await endpoint(uow_factory)
        async with uow_factory() as uow:
            await open_with_message(uow, customer, team)
            await uow.tickets.sync()  # even written back, nothing is queued without a commit
        async with uow_factory() as uow:
            await open_with_message(uow, customer, team)
            await uow.rollback()
        assert await deliveries(uow_factory) == []

    async def test_delivery_rows_are_in_the_causing_transaction(
        self, uow_factory: UowFactory
    ) -> None:
        """A commit that fails after the deliveries were queued leaves none of them."""
        customer, _agent, team = await seed(uow_factory)
        await endpoint(uow_factory)

        async def broken(*_args: object) -> None:
            raise RuntimeError("disk full")

        async with uow_factory(inbox_update=1) as uow:
            await open_with_message(uow, customer, team)
            uow.inbox.mark_done = broken  # type: ignore[method-assign]
            with pytest.raises(RuntimeError, match="disk full"):
                await uow.commit()
        assert await deliveries(uow_factory) == []
        async with uow_factory() as uow:
            assert await uow.tickets.by_number(1) is None

    async def test_assignment_status_and_agent_reply(self, uow_factory: UowFactory) -> None:
        customer, agent, team = await seed(uow_factory)
        hook = await endpoint(uow_factory)
        async with uow_factory() as uow:
            ticket, _ = await open_with_message(uow, customer, team)
            await uow.commit()
        await deliveries(uow_factory)
        later = T0 + timedelta(minutes=5)
        async with uow_factory() as uow:
            loaded = await uow.tickets.get(ticket.id or 0)
            assert loaded is not None
            await uow.messages.add(
                TicketMessage(
                    ticket_id=loaded.id or 0,
                    direction=MessageDirection.AGENT,
                    sent_at=later,
                    text="we are on it",
                    author_agent_id=agent.id,
                    agent_chat_id=-100,
                    agent_message_id=9,
                )
            )
            loaded.agent_replied(agent.id or 0, later)
            await uow.commit()
        found = bodies(await deliveries(uow_factory), hook)
        assert [b["type"] for b in found] == [
            wh.MESSAGE,
            wh.ASSIGNED,
            wh.STATUS_CHANGED,  # new -> open (claiming)
            wh.STATUS_CHANGED,  # open -> waiting (the agent answered)
        ]
        said, assigned, opened, waiting = found
        assert said["data"]["message"]["author"]["telegram_id"] == 777
        assert assigned["data"]["from"] is None
        assert assigned["data"]["to"]["name"] == "Bob"
        assert assigned["data"]["actor"]["agent"]["id"] == agent.id
        assert (opened["data"]["from"], opened["data"]["to"]) == ("new", "open")
        assert (waiting["data"]["from"], waiting["data"]["to"]) == ("open", "waiting")
        assert waiting["ticket"]["assignee"]["telegram_id"] == 777
        assert waiting["occurred_at"] == "2026-03-02T09:05:00.000Z"

    async def test_notes_only_for_endpoints_that_ask(self, uow_factory: UowFactory) -> None:
        customer, agent, team = await seed(uow_factory)
        plain = await endpoint(uow_factory, (wh.MESSAGE,))
        notes = await endpoint(uow_factory, (wh.MESSAGE, wh.NOTE), url="https://b")
        async with uow_factory() as uow:
            ticket, _ = await open_with_message(uow, customer, team)
            await uow.messages.add(
                TicketMessage(
                    ticket_id=ticket.id or 0,
                    direction=MessageDirection.NOTE,
                    sent_at=T0,
                    text="VIP, be nice",
                    author_agent_id=agent.id,
                )
            )
            await uow.commit()
        calls = await deliveries(uow_factory)
        assert [b["type"] for b in bodies(calls, plain)] == [wh.MESSAGE]
        with_notes = bodies(calls, notes)
        assert [b["type"] for b in with_notes] == [wh.MESSAGE, wh.NOTE]
        assert with_notes[1]["data"]["message"]["direction"] == "note"

    async def test_rating_and_status_change(self, uow_factory: UowFactory) -> None:
        customer, agent, team = await seed(uow_factory)
        hook = await endpoint(uow_factory, (wh.STATUS_CHANGED, wh.RATED))
        async with uow_factory() as uow:
            ticket, _ = await open_with_message(uow, customer, team)
            await uow.commit()
        async with uow_factory() as uow:
            loaded = await uow.tickets.get(ticket.id or 0)
            assert loaded is not None
            loaded.resolve(Actor.agent(agent.id), T0)
            await uow.commit()
        async with uow_factory() as uow:
            await uow.ratings.add(Rating(ticket_id=ticket.id or 0, score=4, rated_at=T0))
            await uow.commit()
        found = bodies(await deliveries(uow_factory), hook)
        assert [b["type"] for b in found] == [wh.STATUS_CHANGED, wh.RATED]
        assert found[0]["data"]["to"] == str(TicketStatus.RESOLVED)
        assert found[1]["data"]["rating"]["score"] == 4
        assert found[1]["ticket"]["status"] == "resolved"

    async def test_removed_and_unsubscribed_endpoints_get_nothing(
        self, uow_factory: UowFactory
    ) -> None:
        customer, _agent, team = await seed(uow_factory)
        removed = await endpoint(uow_factory)
        await endpoint(uow_factory, (wh.RATED,), url="https://b")
        async with uow_factory() as uow:
            assert await uow.webhooks.deactivate(removed.id or 0)
            assert not await uow.webhooks.deactivate(removed.id or 0)
            await uow.commit()
        async with uow_factory() as uow:
            await open_with_message(uow, customer, team)
            await uow.commit()
        assert await deliveries(uow_factory) == []

    async def test_each_endpoint_is_a_queue_of_its_own(self, uow_factory: UowFactory) -> None:
        customer, _agent, team = await seed(uow_factory)
        first = await endpoint(uow_factory)
        second = await endpoint(uow_factory, url="https://b")
        async with uow_factory() as uow:
            await open_with_message(uow, customer, team)
            await uow.outbox.add(
                OutboundCall(chat_id=555, method="sendMessage", params={"text": "hi"}), T0
            )
            # A Telegram chat whose id is an endpoint's id is a queue of its own.
            same_id = OutboundCall(chat_id=first.id or 0, method="sendMessage", params={})
            await uow.outbox.add(same_id, T0)
            await uow.commit()
        async with uow_factory() as uow:
            heads = await uow.outbox.heads()
        assert {c.queue for c in heads} == {
            (Channel.TELEGRAM, 555),
            (Channel.TELEGRAM, first.id),
            (Channel.WEBHOOK, first.id),
            (Channel.WEBHOOK, second.id),
        }
        assert all((c.channel is Channel.WEBHOOK) == (c.method == "webhook") for c in heads)
