"""Automations: remind a silent customer, resolve what they abandoned, close what is done,
and a daily digest for the agents. Periodic, idempotent, driven by the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from bot.services.batches import JOB_BATCH, in_batches, next_after
from bot.services.customers import queue, writing_to
from bot.services.ports import Presenter, UowFactory
from bot.services.ticket_changes import status_follows
from models import Actor, EventKind, Ticket, TicketEvent, TicketStatus
from storage import AbstractUnitOfWork


@dataclass(frozen=True)
class AutomationRules:
    """Zero (or negative) switches a rule off. Times are wall-clock, not business time."""

    remind_after: timedelta = timedelta(hours=24)
    auto_resolve_after: timedelta = timedelta(hours=72)
    auto_close_after: timedelta = timedelta(days=7)


@dataclass
class AutomationReport:
    reminded: int = 0
    resolved: int = 0
    closed: int = 0


def waiting_since(ticket: Ticket, events: list[TicketEvent]) -> datetime | None:
    """When the ticket last went to "waiting for customer"."""
    for event in reversed(events):
        if event.kind is EventKind.STATUS_CHANGED and event.new == TicketStatus.WAITING:
            return event.at
    return None


@dataclass(frozen=True)
class _Pass:
    """One run of the automations: what every window of it needs."""

    presenter: Presenter
    rules: AutomationRules
    now: datetime
    report: AutomationReport
    limit: int


async def automate(
    uow_factory: UowFactory,
    presenter: Presenter,
    rules: AutomationRules,
    now: datetime,
    *,
    batch: int = JOB_BATCH,
) -> AutomationReport:
    """Reminders, auto-resolve and auto-close over every ticket, ``batch`` tickets per
    transaction."""
    run = _Pass(presenter, rules, now, AutomationReport(), batch)
    await in_batches(uow_factory, partial(_waiting, run=run))
    if rules.auto_close_after > timedelta(0):
        await in_batches(uow_factory, partial(_resolved, run=run))
    return run.report


async def _waiting(uow: AbstractUnitOfWork, after: int, *, run: _Pass) -> int | None:
    """Remind or auto-resolve one window of waiting tickets."""
    rules, now, report = run.rules, run.now, run.report
    waiting = await uow.tickets.with_status(TicketStatus.WAITING, after=after, limit=run.limit)
    history = await uow.events.status_changes([t.id for t in waiting if t.id is not None])
    for ticket in waiting:
        since = waiting_since(ticket, history.get(ticket.id or 0, []))
        if since is None:
            continue
        customer = await writing_to(uow, ticket)
        silent = now - since
        if rules.auto_resolve_after > timedelta(0) and silent >= rules.auto_resolve_after:
            ticket.resolve(Actor.system(), now)
            await status_follows(uow, run.presenter, ticket, customer, now, by_customer=False)
            await uow.commit()
            report.resolved += 1
        elif (
            rules.remind_after > timedelta(0)
            and silent >= rules.remind_after
            and await uow.sla_notices.record(ticket.id or 0, "reminder", "customer", since, now)
        ):
            await queue(uow, run.presenter.reminder(customer, ticket), now)
            await uow.commit()
            report.reminded += 1
    await uow.commit()
    return next_after(waiting, run.limit)


async def _resolved(uow: AbstractUnitOfWork, after: int, *, run: _Pass) -> int | None:
    """Auto-close the due tickets of one window of resolved tickets."""
    now = run.now
    resolved = await uow.tickets.with_status(TicketStatus.RESOLVED, after=after, limit=run.limit)
    for ticket in resolved:
        if (
            ticket.resolved_at is not None
            and now - ticket.resolved_at >= run.rules.auto_close_after
        ):
            customer = await writing_to(uow, ticket)
            ticket.close(Actor.system(), now)
            await status_follows(uow, run.presenter, ticket, customer, now, by_customer=False)
            await uow.commit()
            run.report.closed += 1
    await uow.commit()
    return next_after(resolved, run.limit)


async def send_digest(uow: AbstractUnitOfWork, presenter: Presenter, now: datetime) -> None:
    """The daily digest in the agents' group: new, open, overdue and not-sure tickets by team."""
    teams = {t.id: t.name for t in await uow.teams.list()}
    rows = await uow.tickets.active_summary()
    by_team: dict[str, dict[str, int]] = {}
    for team_id, status, breached, not_sure, count in rows:
        name = teams.get(team_id, "—") if team_id is not None else "—"
        bucket = by_team.setdefault(name, {"new": 0, "open": 0, "overdue": 0, "not_sure": 0})
        if status == TicketStatus.NEW:
            bucket["new"] += count
        else:
            bucket["open"] += count
        bucket["overdue"] += count if breached else 0
        bucket["not_sure"] += count if not_sure else 0
    await queue(uow, presenter.digest(by_team, now), now)
    await uow.commit()
