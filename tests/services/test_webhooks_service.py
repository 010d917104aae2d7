"""Outgoing webhook endpoints by /webhook (bot.services.webhooks): add, list, ping, remove."""

from __future__ import annotations

import pytest

from bot.services import webhooks
from bot.services.ports import TelegramUser
from models import Agent, InvalidInput, NotAllowed, Role
from models import webhooks as wh
from models.delivery import Channel, OutboundCall
from tests.support.fake_uow import FakeDatabase
from tests.support.services import T0, answer, store

ADA = TelegramUser(id=30, first_name="Ada")
URL = "https://crm.example.com/hooks/helpdesk"


class Replies:
    """The WebhookReplies port: one call per answer, naming it and what it is about."""

    def added(self, webhook: wh.Webhook, admin_chat_id: int) -> list[OutboundCall]:
        return answer("added", admin_chat_id, id=webhook.id, secret=webhook.secret)

    def listed(
        self, webhooks: list[wh.Webhook], stats: dict[int, wh.DeliveryStats]
    ) -> list[OutboundCall]:
        return answer("listed", ADA.id, ids=[w.id for w in webhooks], stats=stats)

    def removed(self, webhook_id: int) -> list[OutboundCall]:
        return answer("removed", ADA.id, id=webhook_id)

    def test_queued(self, webhook: wh.Webhook) -> list[OutboundCall]:
        return answer("test_queued", ADA.id, id=webhook.id)

    def not_found(self, ref: str) -> list[OutboundCall]:
        return answer("not_found", ADA.id, ref=ref)

    def usage(self) -> list[OutboundCall]:
        return answer("usage", ADA.id)


@pytest.fixture(autouse=True)
async def admin(db: FakeDatabase) -> None:
    await store(db, Agent(telegram_id=ADA.id, name="Ada", role=Role.ADMIN, created_at=T0))


def answers(db: FakeDatabase) -> list[str]:
    return [str(c.params["is"]) for c in db.outbox if c.channel is Channel.TELEGRAM]


async def test_an_endpoint_is_added_pinged_listed_and_removed(db: FakeDatabase) -> None:
    async with db.uow() as uow:
        added = await webhooks.add_webhook(
            uow, Replies(), ADA, URL, wh.RATED + "," + wh.OPENED, T0
        )
    assert (added.url, added.events, added.created_by) == (URL, (wh.OPENED, wh.RATED), 1)
    assert db.outbox[0].params["secret"] == added.secret  # in the admin's private chat only
    assert db.outbox[0].chat_id == ADA.id
    async with db.uow() as uow:
        assert await webhooks.ping_webhook(uow, Replies(), ADA, "#1", T0)
    (ping,) = [c for c in db.outbox if c.channel is Channel.WEBHOOK]
    assert (ping.chat_id, ping.method) == (1, wh.WEBHOOK_METHOD)
    async with db.uow() as uow:
        (listed,) = await webhooks.list_webhooks(uow, Replies(), ADA, T0)
        assert listed.id == 1
        assert await webhooks.remove_webhook(uow, Replies(), ADA, "1", T0)
        assert not await webhooks.remove_webhook(uow, Replies(), ADA, "1", T0)
        assert not await webhooks.ping_webhook(uow, Replies(), ADA, "1", T0)
    assert answers(db) == ["added", "test_queued", "listed", "removed", "not_found", "not_found"]
    assert db.outbox[3].params["stats"] == {1: wh.DeliveryStats(pending=1)}  # the ping
    async with db.uow() as uow:
        assert await uow.webhooks.active() == []


async def test_no_events_named_means_all_but_notes(db: FakeDatabase) -> None:
    async with db.uow() as uow:
        added = await webhooks.add_webhook(uow, Replies(), ADA, URL, None, T0)
    assert added.events == wh.DEFAULT_EVENTS
    assert wh.NOTE not in added.events


@pytest.mark.parametrize(
    ("url", "events", "reason"),
    [("ftp://x.example.com", None, "url"), (URL, "ticket.opened, ticket.exploded", "unknown")],
)
async def test_bad_endpoints_are_refused(
    db: FakeDatabase, url: str, events: str | None, reason: str
) -> None:
    async with db.uow() as uow:
        with pytest.raises(InvalidInput, match=reason):
            await webhooks.add_webhook(uow, Replies(), ADA, url, events, T0)
        assert await uow.webhooks.active() == []
    assert db.outbox == []


async def test_only_admins(db: FakeDatabase) -> None:
    bob = TelegramUser(id=12, first_name="Bob")
    await store(db, Agent(telegram_id=bob.id, name="Bob", created_at=T0))
    async with db.uow() as uow:
        with pytest.raises(NotAllowed):
            await webhooks.add_webhook(uow, Replies(), bob, URL, None, T0)
    assert db.outbox == []
