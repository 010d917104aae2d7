"""The desk's diagnostics, for admins (group or private chat): ``/health``, ``/failed`` and
``/model``."""

from __future__ import annotations

import contextlib
from html import escape
from pathlib import Path
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.context import HandlerContext
from bot.filters import desk_command
from bot.services import health, training
from bot.services.conversation import DeskConfig
from models.delivery import Channel, OutboundCall


async def reply_directly(message: Message, text: str) -> None:
    """Answer without the outbox: a health check must work when the outbox is stuck. (Every
    other admin answer is queued through the outbox, but the SLA settings' answers: see
    ``bot/handlers/admin/sla.py``.)"""
    with contextlib.suppress(TelegramAPIError):
        await message.reply(text)


async def on_health(
    message: Message,
    ctx: HandlerContext,
    sender_counters: health.SenderCounters,
    desk_config: DeskConfig,
) -> None:
    """``/health``: queue depths, oldest pending ages, the agents' group's backlog, failures,
    the sender's counters."""
    h = await health.health(
        ctx.uow, ctx.actor, sender_counters, ctx.now(), desk_config.agent_chat_id
    )
    await reply_directly(message, health_text(h))


def health_text(h: health.Health) -> str:
    return "\n".join(
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
            _("Agents' group: {queued} waiting (oldest {age:.0f} s)").format(
                queued=h.agents_group_queued, age=h.agents_group_behind_s
            ),
            *(
                _("Group of {teams}: {queued} waiting (oldest {age:.0f} s)").format(
                    teams=escape(", ".join(g.teams)), queued=g.queued, age=g.behind_s
                )
                for g in h.team_groups
            ),
            _("Sent since start: {sent}; rate-limited by Telegram: {limited}").format(
                sent=h.sent_since_start, limited=h.rate_limited_since_start
            ),
            *(
                [
                    _("Mail: {pending} waiting, {parked} parked (see /failed)").format(
                        pending=h.mail_pending, parked=h.mail_parked
                    )
                ]
                if h.mail_pending or h.mail_parked
                else []
            ),
        ]
    )


async def on_failed(message: Message, ctx: HandlerContext) -> None:
    """``/failed``: parked updates and calls that were given up on, with their errors."""
    f = await health.failures(ctx.uow, ctx.actor)
    lines = ["<b>" + _("Parked updates") + "</b>"]
    lines += [
        f"#{uid} × {attempts}: {escape((error or '')[:200])}"
        for uid, attempts, error in f.parked_updates
    ] or [_("none")]
    lines += ["", "<b>" + _("Undelivered calls") + "</b>"]
    lines += [
        f"{_call_target(c)} ({c.status}): {escape((c.last_error or '')[:200])}"
        for c in f.failed_calls
    ] or [_("none")]
    if f.parked_mails:  # the email channel's: shown when there are any
        lines += ["", "<b>" + _("Parked mails") + "</b>"]
        lines += [f"{escape(m)} × {n}: {escape((e or '')[:200])}" for m, n, e in f.parked_mails]
    await reply_directly(message, "\n".join(lines))


def _call_target(call: OutboundCall) -> str:
    """Where a call was going: a webhook endpoint by its id, a mail by its address, else the
    method and the chat."""
    if call.channel is Channel.WEBHOOK:
        return f"webhook #{call.chat_id}"
    if call.channel is Channel.EMAIL:
        return f"mail → {escape(str(call.params.get('to', '')))}"
    return f"{call.method} → {call.chat_id}"


def _figures(metrics: dict[str, Any]) -> str:
    shown = [
        f"{key} {value:.3f}" if isinstance(value, float) else f"{key} {value}"
        for key, value in metrics.items()
        if isinstance(value, int | float)
    ]
    return ", ".join(shown) or "—"


async def on_model(message: Message, ctx: HandlerContext, model_dir: Path) -> None:
    """``/model``: the triage model in use, its figures and how many corrections wait."""
    info = await training.model_info(ctx.uow, ctx.actor, model_dir)
    await ctx.say([model_text(info)])


def model_text(info: training.ModelInfo) -> str:
    lines = [
        "🧠 <b>" + _("Triage model") + "</b>",
        ngettext(
            "Version: {version} (created {created}), {count} version kept",
            "Version: {version} (created {created}), {count} versions kept",
            info.versions,
        ).format(version=info.version or "—", created=info.created_at or "—", count=info.versions),
        _(
            "On the validation split of its own training data (it also chose the "
            "thresholds): {figures}"
        ).format(figures=_figures(info.validation)),
    ]
    if info.evaluation_corrections is not None:
        lines.append(
            _(
                "On data it never trained on (the seed hold-out sets, in scope and off topic, "
                "and {count} held-out corrections): {figures}"
            ).format(count=info.evaluation_corrections, figures=_figures(info.evaluation))
        )
    return "\n".join(
        [
            *lines,
            _("Corrections stored for the next retraining: {count}").format(
                count=info.corrections
            ),
        ]
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_model, *desk_command("model"))
    router.message.register(on_health, *desk_command("health"))
    router.message.register(on_failed, *desk_command("failed"))
    return router
