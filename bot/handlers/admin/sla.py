"""The SLA targets and the business calendar: ``/sla`` (supervisors read, admins change),
``/hours`` and ``/holiday``."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.adapters.labels import priority_label
from bot.config import Settings
from bot.filters import HasRole
from bot.handlers.admin.diagnostics import reply_directly
from bot.handlers.common import telegram_user
from bot.services import sla
from bot.services.ports import AbstractUnitOfWork
from models import Priority, Role
from models.sla import BusinessCalendar, SlaConfig


async def on_sla_settings(
    message: Message, command: CommandObject, uow: AbstractUnitOfWork, settings: Settings
) -> None:
    """``/sla``, ``/hours``, ``/holiday``: show or change the SLA targets and the calendar."""
    assert message.from_user is not None
    handler = {
        "sla": sla.sla_command,
        "hours": sla.hours_command,
        "holiday": sla.holiday_command,
    }[command.command]
    config = await handler(
        uow, telegram_user(message.from_user), command.args or "", settings.timezone
    )
    await reply_directly(message, render_sla(config))


def describe_hours(calendar: BusinessCalendar) -> str:
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return (
        ", ".join(
            f"{days[d]} " + " ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in spans)
            for d, spans in sorted(calendar.hours.items())
        )
        or "24/7"
    )


def render_sla(config: SlaConfig) -> str:
    def fmt(delta: timedelta) -> str:
        minutes = int(delta.total_seconds() // 60)
        days, rest = divmod(minutes, 1440)
        hours, mins = divmod(rest, 60)
        return "".join(f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (mins, "m")) if n) or "0m"

    lines = ["⏱ <b>" + _("SLA targets (business time)") + "</b>"]
    for priority in Priority:
        t = config.targets[priority]
        lines.append(
            f"{priority_label(priority)}: "
            + _("first {first} · next {next} · resolution {resolution}").format(
                first=fmt(t.first_response),
                next=fmt(t.next_response),
                resolution=fmt(t.resolution),
            )
        )
    cal = config.calendar
    lines.append(_("Hours: {hours} ({zone})").format(hours=describe_hours(cal), zone=cal.zone))
    for team, calendar in sorted(config.team_calendars.items()):
        lines.append(f"  {escape(team)}: " + describe_hours(calendar))
    holidays = ", ".join(sorted(d.isoformat() for d in cal.holidays)) or "—"
    lines.append(_("Holidays: {days}").format(days=holidays))
    lines.append(
        _("Escalation at breach: {state}").format(state="on" if config.escalate else "off")
    )
    return "\n".join(lines)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(
        on_sla_settings, Command("sla", "hours", "holiday"), HasRole(Role.SUPERVISOR)
    )
    return router
