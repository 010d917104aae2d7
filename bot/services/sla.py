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


async def show_settings(uow: AbstractUnitOfWork, user: TelegramUser, zone: str) -> SlaConfig:
    """The SLA targets and the calendar, for supervisors and admins."""
    await require_agent(uow, user, Role.SUPERVISOR)
    return await load_config(uow, zone)


async def set_targets(
    uow: AbstractUnitOfWork,
    user: TelegramUser,
    priority: Priority,
    targets: SlaTargets,
    zone: str,
) -> SlaConfig:
    """An admin changes the targets of one priority."""
    await require_agent(uow, user, Role.ADMIN)
    config = await load_config(uow, zone)
    config = replace(config, targets={**config.targets, priority: targets})
    return await _saved(uow, config, "sla", user, priority=priority, targets=targets)


async def set_escalation(
    uow: AbstractUnitOfWork, user: TelegramUser, escalate: bool, zone: str
) -> SlaConfig:
    """An admin switches the raise of a breached ticket's priority on or off."""
    await require_agent(uow, user, Role.ADMIN)
    config = replace(await load_config(uow, zone), escalate=escalate)
    return await _saved(uow, config, "sla", user, escalate=escalate)


async def set_hours(
    uow: AbstractUnitOfWork, user: TelegramUser, team: str | None, hours: str | None, zone: str
) -> SlaConfig:
    """An admin sets the desk's working ``hours`` (``mon-fri 09:00-18:00``, ``24/7``), or a
    ``team``'s own (None: the team follows the desk's again)."""
    await require_agent(uow, user, Role.ADMIN)
    config = await load_config(uow, zone)
    key = (await find_team(uow, team)).name.lower() if team is not None else None
    if hours is None:
        if key is None:
            raise InvalidInput("hours", "default", "only a team's hours have a default")
        calendars = {k: v for k, v in config.team_calendars.items() if k != key}
        config = replace(config, team_calendars=calendars)
    else:
        try:
            calendar = parse_hours(hours, config.calendar.zone)
        except ValueError as exc:
            raise InvalidInput("hours", hours, str(exc)) from None
        calendar = replace(calendar, holidays=config.calendar.holidays)
        if key is None:
            config = replace(config, calendar=calendar)
        else:
            config = replace(config, team_calendars={**config.team_calendars, key: calendar})
    return await _saved(uow, config, "hours", user, team=key, hours=hours)


async def set_holiday(
    uow: AbstractUnitOfWork, user: TelegramUser, day: date, holiday: bool, zone: str
) -> SlaConfig:
    """An admin makes ``day`` a day without working hours (or a working day again)."""
    await require_agent(uow, user, Role.ADMIN)
    config = await load_config(uow, zone)
    days = set(config.calendar.holidays)
    (days.add if holiday else days.discard)(day)
    config = replace(config, calendar=replace(config.calendar, holidays=frozenset(days)))
    return await _saved(uow, config, "holiday", user, day=day.isoformat(), holiday=holiday)


async def _saved(
    uow: AbstractUnitOfWork, config: SlaConfig, action: str, user: TelegramUser, **details: object
) -> SlaConfig:
    await save_config(uow, config)
    await uow.commit()
    audit(action, user, **details)
    return config
