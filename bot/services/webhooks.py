"""Use cases of ``/webhook``: admins add, list, remove and test outgoing webhook endpoints.

Deliveries themselves are not queued here: the unit of work derives them at commit from what
changed (see :mod:`storage.webhooks`). Only the test ping is queued by hand.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.services.auth import audit, require_agent
from bot.services.customers import tell
from bot.services.ports import TelegramUser
from models import Role
from models import webhooks as wh
from models.delivery import OutboundCall
from models.ids import parse_id
from storage import AbstractUnitOfWork


class WebhookReplies(Protocol):
    """Renders the answers to ``/webhook`` (implemented next to the handler)."""

    def added(self, webhook: wh.Webhook, admin_chat_id: int) -> list[OutboundCall]: ...

    def listed(
        self, webhooks: list[wh.Webhook], stats: dict[int, wh.DeliveryStats]
    ) -> list[OutboundCall]: ...

    def removed(self, webhook_id: int) -> list[OutboundCall]: ...

    def test_queued(self, webhook: wh.Webhook) -> list[OutboundCall]: ...

    def not_found(self, ref: str) -> list[OutboundCall]: ...

    def usage(self) -> list[OutboundCall]: ...


async def add_webhook(
    uow: AbstractUnitOfWork,
    replies: WebhookReplies,
    user: TelegramUser,
    url: str,
    events: str | None,
    now: datetime,
) -> wh.Webhook:
    """A new endpoint with a fresh secret; the secret goes to the admin's private chat only."""
    admin = await require_agent(uow, user, Role.ADMIN)
    webhook = wh.Webhook(
        url=wh.parse_url(url),
        secret=wh.new_secret(),
        events=wh.parse_events(events),
        created_at=now,
        created_by=admin.id,
    )
    await uow.webhooks.add(webhook)
    # A private chat's id is the user's id.
    await tell(uow, replies.added(webhook, admin_chat_id=user.id), now)
    audit("webhook added", user, webhook=webhook.id, url=webhook.url)
    return webhook


async def list_webhooks(
    uow: AbstractUnitOfWork, replies: WebhookReplies, user: TelegramUser, now: datetime
) -> list[wh.Webhook]:
    await require_agent(uow, user, Role.ADMIN)
    webhooks = await uow.webhooks.active()
    stats = await uow.webhooks.delivery_stats([w.id for w in webhooks if w.id is not None])
    await tell(uow, replies.listed(webhooks, stats), now)
    return webhooks


async def _active(uow: AbstractUnitOfWork, ref: str) -> wh.Webhook | None:
    webhook_id = parse_id(ref.strip().lstrip("#"))
    if webhook_id is None:
        return None
    webhook = await uow.webhooks.get(webhook_id)
    return webhook if webhook is not None and webhook.active else None


async def remove_webhook(
    uow: AbstractUnitOfWork, replies: WebhookReplies, user: TelegramUser, ref: str, now: datetime
) -> bool:
    """Take an endpoint out of service; deliveries still queued for it are skipped."""
    await require_agent(uow, user, Role.ADMIN)
    webhook = await _active(uow, ref)
    if webhook is None or webhook.id is None:
        await tell(uow, replies.not_found(ref), now)
        return False
    await uow.webhooks.deactivate(webhook.id)
    await tell(uow, replies.removed(webhook.id), now)
    audit("webhook removed", user, webhook=webhook.id)
    return True


async def ping_webhook(
    uow: AbstractUnitOfWork, replies: WebhookReplies, user: TelegramUser, ref: str, now: datetime
) -> bool:
    """Queue a ``ping`` event for an endpoint (behind whatever it still has to receive)."""
    await require_agent(uow, user, Role.ADMIN)
    webhook = await _active(uow, ref)
    if webhook is None:
        await tell(uow, replies.not_found(ref), now)
        return False
    await uow.outbox.add(wh.ping_call(webhook, now), now)
    await tell(uow, replies.test_queued(webhook), now)
    return True


async def usage(
    uow: AbstractUnitOfWork, replies: WebhookReplies, user: TelegramUser, now: datetime
) -> None:
    await require_agent(uow, user, Role.ADMIN)
    await tell(uow, replies.usage(), now)
