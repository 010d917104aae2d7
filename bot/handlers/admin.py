"""Admin commands, in the agents' group or in a private chat with the bot."""

from __future__ import annotations

import contextlib
from html import escape
from pathlib import Path

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.filters import HasRole
from bot.handlers.common import telegram_user
from bot.services import health, training
from bot.services.ports import Clock
from models import Role
from storage import AbstractUnitOfWork


async def reply_directly(message: Message, text: str) -> None:
    """Answer without the outbox: a health check must work when the outbox is stuck."""
    with contextlib.suppress(TelegramAPIError):
        await message.reply(text)


async def on_health(
    message: Message, uow: AbstractUnitOfWork, sender_counters: health.SenderCounters, clock: Clock
) -> None:
    """``/health``: queue depths, oldest pending ages, failures, the sender's counters."""
    assert message.from_user is not None
    h = await health.health(uow, telegram_user(message.from_user), sender_counters, clock.now())
    text = "\n".join(
        [
            "🩺 <b>" + _("Health") + "</b>",
            _("Inbox: {pending} pending (oldest {age:.0f} s), {parked} parked").format(
                pending=h.inbox_pending, age=h.inbox_oldest_pending_s, parked=h.inbox_parked
            ),
            _(
                "Outbox: {pending} pending (oldest {age:.0f} s), {failed} failed, {unknown} "
                "unknown"
            ).format(
                pending=h.outbox_pending,
                age=h.outbox_oldest_pending_s,
                failed=h.outbox_failed,
                unknown=h.outbox_unknown,
            ),
            _("Sent since start: {sent}; rate-limited by Telegram: {limited}").format(
                sent=h.sent_since_start, limited=h.rate_limited_since_start
            ),
        ]
    )
    await reply_directly(message, text)


async def on_failed(message: Message, uow: AbstractUnitOfWork) -> None:
    """``/failed``: parked updates and calls that were given up on, with their errors."""
    assert message.from_user is not None
    f = await health.failures(uow, telegram_user(message.from_user))
    lines = ["<b>" + _("Parked updates") + "</b>"]
    lines += [
        f"#{uid} × {attempts}: {escape((error or '')[:200])}"
        for uid, attempts, error in f.parked_updates
    ] or [_("none")]
    lines += ["", "<b>" + _("Undelivered calls") + "</b>"]
    lines += [
        f"{c.method} → {c.chat_id} ({c.status}): {escape((c.last_error or '')[:200])}"
        for c in f.failed_calls
    ] or [_("none")]
    await reply_directly(message, "\n".join(lines))


async def on_model(message: Message, uow: AbstractUnitOfWork, model_dir: Path) -> None:
    """``/model``: the triage model in use, its figures and how many corrections wait."""
    info = await training.model_info(uow, model_dir)
    figures = ", ".join(f"{k} {v:.3f}" for k, v in info.metrics.items() if isinstance(v, float))
    text = "\n".join(
        [
            "🧠 <b>" + _("Triage model") + "</b>",
            _("Version: {version} (created {created}), {count} versions kept").format(
                version=info.version or "—", created=info.created_at or "—", count=info.versions
            ),
            _("Held-out figures: {figures}").format(figures=figures or "—"),
            _("Corrections stored for the next retraining: {count}").format(
                count=info.corrections
            ),
        ]
    )
    await reply_directly(message, text)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_model, Command("model"), HasRole(Role.ADMIN))
    router.message.register(on_health, Command("health"), HasRole(Role.ADMIN))
    router.message.register(on_failed, Command("failed"), HasRole(Role.ADMIN))
    return router
