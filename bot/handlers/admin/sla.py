"""The SLA targets and the business calendar: ``/sla`` (supervisors read, admins change),
``/hours`` and ``/holiday`` (admins).

These answers are still sent at once, not through the outbox like the other admin answers:
``tests/bot/test_sla_flow.py`` asserts their order among the direct error replies.
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.adapters.labels import priority_label
from bot.config import Settings
from bot.context import HandlerContext
from bot.filters import desk_command
from bot.handlers.admin.diagnostics import reply_directly
from bot.services import sla
from models import InvalidInput, Priority
from models.sla import BusinessCalendar, SlaConfig, SlaTargets, parse_duration

SLA_USAGE = (
    "usage: /sla · /sla <low|normal|high|urgent> <first> <next> <resolution> (e.g. 1h 4h 2d) · "
    "/sla escalate on|off"
)


async def on_sla(
    message: Message, command: CommandObject, ctx: HandlerContext, settings: Settings
) -> None:
    """``/sla`` shows the targets; ``/sla <priority> <first> <next> <resolution>`` and
    ``/sla escalate on|off`` change them."""
    uow, user, zone = ctx.uow, ctx.actor, settings.timezone
    change = sla_change(command.args or "")
    if change is None:
        config = await sla.show_settings(uow, user, zone)
    elif isinstance(change, bool):
        config = await sla.set_escalation(uow, user, change, zone)
    else:
        config = await sla.set_targets(uow, user, *change, zone)
    await reply_directly(message, render_sla(config))


def sla_change(args: str) -> tuple[Priority, SlaTargets] | bool | None:
    """What ``/sla``'s arguments ask for: nothing (show), escalation on or off, or one
    priority's targets."""
    parts = args.split()
    if not parts:
        return None
    if parts[0] == "escalate" and len(parts) == 2 and parts[1] in ("on", "off"):
        return parts[1] == "on"
    if len(parts) != 4:
        raise InvalidInput("sla", args, SLA_USAGE)
    try:
        priority = Priority(parts[0].lower())
        first, following, resolution = (parse_duration(p) for p in parts[1:])
    except ValueError as exc:
        reason = str(exc) if "duration" in str(exc) else SLA_USAGE
        raise InvalidInput("sla", args, reason) from None
    return priority, SlaTargets(first, following, resolution)


async def on_hours(
    message: Message, command: CommandObject, ctx: HandlerContext, settings: Settings
) -> None:
    """``/hours mon-fri 09:00-18:00`` or ``/hours 24/7``: the desk's calendar;
    ``/hours team <name> ...`` a team's own hours (``/hours team <name> default`` drops them)."""
    args = command.args or ""
    parts = args.split()
    team: str | None = None
    hours: str | None = args
    if parts[:1] == ["team"]:
        if len(parts) < 3:
            raise InvalidInput("hours", args, "usage: /hours team <name> <hours>|default")
        team, hours = parts[1], " ".join(parts[2:])
        hours = None if hours == "default" else hours
    config = await sla.set_hours(ctx.uow, ctx.actor, team, hours, settings.timezone)
    await reply_directly(message, render_sla(config))


async def on_holiday(
    message: Message, command: CommandObject, ctx: HandlerContext, settings: Settings
) -> None:
    """``/holiday add|del YYYY-MM-DD``: days without working hours."""
    day, holiday = holiday_change(command.args or "")
    config = await sla.set_holiday(ctx.uow, ctx.actor, day, holiday, settings.timezone)
    await reply_directly(message, render_sla(config))


def holiday_change(args: str) -> tuple[date, bool]:
    """``/holiday``'s day, and whether it becomes a holiday (``add``) or a working day
    again (``del``)."""
    parts = args.split()
    if len(parts) != 2 or parts[0] not in ("add", "del"):
        raise InvalidInput("holiday", args, "usage: /holiday add|del YYYY-MM-DD")
    try:
        day = date.fromisoformat(parts[1])
    except ValueError:
        raise InvalidInput("holiday", parts[1], "expected a date like 2026-12-31") from None
    return day, parts[0] == "add"


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
    router.message.register(on_sla, *desk_command("sla"))
    router.message.register(on_hours, *desk_command("hours"))
    router.message.register(on_holiday, *desk_command("holiday"))
    return router
