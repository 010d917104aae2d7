"""SLA use cases: the periodic deadline scan, and the admins' settings.

The scan reads deadlines from the database every run instead of scheduling a job per ticket,
so a restart loses nothing; each warning and breach is recorded before it is announced, so
none fires twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime

from bot.services.auth import audit, require_agent
from bot.services.batches import JOB_BATCH, in_batches, next_after
from bot.services.customers import queue
from bot.services.ports import Presenter, TelegramUser, UowFactory
from bot.services.teams import find_team
from models import Actor, Agent, InvalidInput, Priority, Role, Ticket, TicketEvent
from models.sla import (
    BusinessCalendar,
    SlaClock,
    SlaConfig,
    SlaLevel,
    SlaTargets,
    next_deadline,
    parse_duration,
    parse_hours,
    paused_business_time,
    running_clocks,
)
from storage import AbstractUnitOfWork

CONFIG_KEY = "sla_config"


async def load_config(uow: AbstractUnitOfWork, zone: str) -> SlaConfig:
    raw = await uow.desk_settings.get(CONFIG_KEY)
    return SlaConfig.from_json(json.loads(raw) if raw else None, zone)


async def save_config(uow: AbstractUnitOfWork, config: SlaConfig) -> None:
    await uow.desk_settings.set(CONFIG_KEY, json.dumps(config.to_json()))


def clocks_of(
    ticket: Ticket,
    events: list[TicketEvent],
    config: SlaConfig,
    now: datetime,
    calendar: BusinessCalendar,
) -> list[SlaClock]:
    paused = paused_business_time(calendar, ticket.paused_periods(events, now))
    return running_clocks(
        status=ticket.status,
        created_at=ticket.created_at,
        first_response_at=ticket.first_response_at,
        awaiting_reply_since=ticket.awaiting_reply_since,
        targets=config.targets[ticket.priority],
        paused=paused,
    )


@dataclass(frozen=True)
class Notice:
    ticket_number: int
    kind: str
    level: SlaLevel


async def scan_deadlines(
    uow_factory: UowFactory,
    presenter: Presenter,
    zone: str,
    now: datetime,
    *,
    batch: int = JOB_BATCH,
) -> list[Notice]:
    """:func:`check_deadlines` over every ticket, ``batch`` tickets per transaction."""
    notices: list[Notice] = []

    async def window(uow: AbstractUnitOfWork, after: int) -> int | None:
        found, last = await check_deadlines(uow, presenter, zone, now, after=after, limit=batch)
        notices.extend(found)
        return last

    await in_batches(uow_factory, window)
    return notices


async def check_deadlines(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    zone: str,
    now: datetime,
    *,
    after: int = 0,
    limit: int | None = None,
) -> tuple[list[Notice], int | None]:
    """Announce, once each, the warnings (80 %) and breaches that are due, for the tickets
    after id ``after`` (``limit`` of them); returns the notices and, when ``limit`` tickets
    were looked at, the id to go on after."""
    config = await load_config(uow, zone)
    tickets = await uow.tickets.with_running_sla(after=after, limit=limit)
    history = await uow.events.status_changes([t.id for t in tickets if t.id is not None])
    supervisors: list[Agent] | None = None
    notices: list[Notice] = []
    teams = {t.id: t.name for t in await uow.teams.list()}
    for ticket in tickets:
        calendar = config.calendar_for(teams.get(ticket.team_id))
        for clock in clocks_of(ticket, history.get(ticket.id or 0, []), config, now, calendar):
            level = clock.level(calendar, now)
            if level is None:
                continue
            record = uow.sla_notices.record
            start = clock.started_at
            if level is SlaLevel.WARNING:
                is_new = await record(ticket.id or 0, clock.kind, level, start, now)
            else:
                # A breach found first (e.g. after downtime) settles its warning, silently.
                await record(ticket.id or 0, clock.kind, SlaLevel.WARNING, start, now)
                is_new = await record(ticket.id or 0, clock.kind, level, start, now)
            if not is_new:
                continue
            assignee = await uow.agents.get(ticket.assignee_id) if ticket.assignee_id else None
            due = clock.due(calendar)
            if level is SlaLevel.WARNING:
                calls = presenter.sla_warning(ticket, clock.kind, due, assignee)
            else:
                if supervisors is None:
                    supervisors = [
                        a for a in await uow.agents.list() if a.role.at_least(Role.SUPERVISOR)
                    ]
                team_supervisors = [
                    a
                    for a in supervisors
                    if ticket.team_id is None or ticket.team_id in a.team_ids
                ] or supervisors
                ticket.sla_breached = True
                if config.escalate:
                    ticket.set_priority(ticket.priority.raised(), Actor.system(), now)
                calls = presenter.sla_breach(ticket, clock.kind, due, assignee, team_supervisors)
                calls += presenter.card_changed(ticket)
            await queue(uow, calls, now)
            notices.append(Notice(ticket.number or 0, clock.kind, level))
    await uow.commit()
    return notices, next_after(tickets, limit)


def deadline_of(
    ticket: Ticket,
    events: list[TicketEvent],
    config: SlaConfig,
    now: datetime,
    team: str | None = None,
) -> tuple[str, datetime] | None:
    """The ticket's next deadline (for its card), or None when no clock runs."""
    calendar = config.calendar_for(team)
    found = next_deadline(clocks_of(ticket, events, config, now, calendar), calendar)
    return (str(found[0]), found[1]) if found else None


SLA_USAGE = (
    "usage: /sla · /sla <low|normal|high|urgent> <first> <next> <resolution> (e.g. 1h 4h 2d) · "
    "/sla escalate on|off"
)


async def sla_command(
    uow: AbstractUnitOfWork, user: TelegramUser, args: str, zone: str
) -> SlaConfig:
    """``/sla`` shows the settings; with arguments, admins change targets or escalation."""
    parts = args.split()
    if parts:
        await require_agent(uow, user, Role.ADMIN)
    config = await load_config(uow, zone)
    if not parts:
        return config
    if parts[0] == "escalate" and len(parts) == 2 and parts[1] in ("on", "off"):
        config = replace(config, escalate=parts[1] == "on")
    elif len(parts) == 4:
        try:
            priority = Priority(parts[0].lower())
            first, nxt, resolution = (parse_duration(p) for p in parts[1:])
        except ValueError as exc:
            raise InvalidInput(
                "sla", args, str(exc) if "duration" in str(exc) else SLA_USAGE
            ) from None
        config = replace(
            config, targets={**config.targets, priority: SlaTargets(first, nxt, resolution)}
        )
    else:
        raise InvalidInput("sla", args, SLA_USAGE)
    await save_config(uow, config)
    await uow.commit()
    audit("sla", user, args=args)
    return config


async def hours_command(
    uow: AbstractUnitOfWork, user: TelegramUser, args: str, zone: str
) -> SlaConfig:
    """``/hours mon-fri 09:00-18:00`` or ``/hours 24/7``: the desk's calendar;
    ``/hours team <name> ...`` a team's own hours (``/hours team <name> default`` drops them)."""
    await require_agent(uow, user, Role.ADMIN)
    config = await load_config(uow, zone)
    team: str | None = None
    parts = args.split()
    if parts[:1] == ["team"]:
        if len(parts) < 3:
            raise InvalidInput("hours", args, "usage: /hours team <name> <hours>|default")
        team, args = (await find_team(uow, parts[1])).name.lower(), " ".join(parts[2:])
    if team is not None and args.strip() == "default":
        calendars = {k: v for k, v in config.team_calendars.items() if k != team}
        config = replace(config, team_calendars=calendars)
    else:
        try:
            calendar = parse_hours(args, config.calendar.zone)
        except ValueError as exc:
            raise InvalidInput("hours", args, str(exc)) from None
        calendar = replace(calendar, holidays=config.calendar.holidays)
        if team is None:
            config = replace(config, calendar=calendar)
        else:
            config = replace(config, team_calendars={**config.team_calendars, team: calendar})
    await save_config(uow, config)
    await uow.commit()
    audit("hours", user, args=args)
    return config


async def holiday_command(
    uow: AbstractUnitOfWork, user: TelegramUser, args: str, zone: str
) -> SlaConfig:
    """``/holiday add|del YYYY-MM-DD``: days without working hours."""
    await require_agent(uow, user, Role.ADMIN)
    parts = args.split()
    if len(parts) != 2 or parts[0] not in ("add", "del"):
        raise InvalidInput("holiday", args, "usage: /holiday add|del YYYY-MM-DD")
    try:
        day = date.fromisoformat(parts[1])
    except ValueError:
        raise InvalidInput("holiday", parts[1], "expected a date like 2026-12-31") from None
    config = await load_config(uow, zone)
    days = set(config.calendar.holidays)
    (days.add if parts[0] == "add" else days.discard)(day)
    config = replace(config, calendar=replace(config.calendar, holidays=frozenset(days)))
    await save_config(uow, config)
    await uow.commit()
    audit("holiday", user, args=args)
    return config
