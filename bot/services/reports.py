"""Statistics and exports for supervisors and admins, delivered through the outbox.

Who may ask: ``/stats`` is for supervisors and admins (it ranks agents against each other, which
is a manager's view, so plain agents do not get it); ``/export`` is for admins (it contains every
customer message of the period).

The data is read with a separate read-only unit of work (on SQLite it does not hold the write
lock while a month of history is read), the chart is drawn in a worker thread, and the answer is
queued in the update's own unit of work like every other Telegram call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.services import sla
from bot.services.auth import require_agent
from bot.services.customers import queue
from bot.services.export import ARCHIVE_MAX_BYTES, ExportTooLarge, export_archive
from bot.services.ports import TelegramUser, UowFactory
from bot.services.teams import find_team
from models import InvalidInput, Role
from models.delivery import OutboundCall
from models.stats import Period, Report, compute_report, parse_period
from storage import AbstractUnitOfWork


@dataclass(frozen=True)
class Place:
    """Where the answer goes: the chat (and forum topic) the command came from."""

    chat_id: int
    thread_id: int | None = None


class ReportPresenter(Protocol):
    """Renders reports into outbox calls (texts, the chart, the archive)."""

    def stats(
        self, place: Place, report: Report, names: dict[int, str], team: str | None
    ) -> list[OutboundCall]: ...

    def export(
        self, place: Place, period: Period, archive: bytes, counts: dict[str, int]
    ) -> list[OutboundCall]: ...

    def export_too_large(self, place: Place, period: Period, limit: int) -> list[OutboundCall]: ...

    def export_sent_privately(self, place: Place, name: str) -> list[OutboundCall]: ...


@dataclass(frozen=True)
class Asked:
    """A report asked for: of which period, of one team (its name) or all, and where the
    command was given (where the answer goes)."""

    period: Period
    team: str | None
    place: Place


def period_from(args: str, now: datetime, zone: str) -> Period:
    try:
        return parse_period(args, now.astimezone(ZoneInfo(zone)).date())
    except ValueError as exc:
        raise InvalidInput("period", args, str(exc)) from None


async def stats(
    uow: AbstractUnitOfWork,
    reader: UowFactory,
    presenter: ReportPresenter,
    user: TelegramUser,
    asked: Asked,
    zone: str,
    now: datetime,
) -> Report:
    """The summary and the daily chart of a period (of one team's tickets, or all)."""
    await require_agent(uow, user, Role.SUPERVISOR)
    team = (await find_team(uow, asked.team)).name if asked.team is not None else None
    report, names = await compute(reader, asked.period, team, zone)
    calls = await asyncio.to_thread(presenter.stats, asked.place, report, names, team)
    await queue(uow, calls, now)
    await uow.commit()
    return report


async def compute(
    reader: UowFactory, period: Period, team: str | None, zone: str
) -> tuple[Report, dict[int, str]]:
    """The figures of a period (of one team's tickets, or all), and the agents' names."""
    start, end = period.bounds(zone)
    async with reader(readonly=True) as read:
        config = await sla.load_config(read, zone)
        histories = await read.reports.histories(start, end)
        names = await read.reports.agent_names()
    if team is not None:
        histories = [h for h in histories if h.team == team]
    return compute_report(histories, period, config, zone), names


async def export(
    uow: AbstractUnitOfWork,
    reader: UowFactory,
    presenter: ReportPresenter,
    user: TelegramUser,
    asked: Asked,
    zone: str,
    now: datetime,
    *,
    max_bytes: int = ARCHIVE_MAX_BYTES,
) -> int:
    """``/export [period]``: the period's CSV files in one zip archive, as a document.

    The archive holds every customer's data: it goes to the admin's private chat only, never
    into the group where the command was typed (the group is told where it went). Returns the
    archive's size (0 when it was too large and only a note was sent)."""
    await require_agent(uow, user, Role.ADMIN)
    place, period = asked.place, asked.period
    start, end = period.bounds(zone)
    try:
        async with reader(readonly=True) as read:
            archive, counts = await export_archive(read, start, end, max_bytes=max_bytes)
    except ExportTooLarge:
        calls = presenter.export_too_large(place, period, max_bytes)
        size = 0
    else:
        calls = presenter.export(Place(user.id), period, archive, counts)
        if place.chat_id != user.id:
            calls += presenter.export_sent_privately(place, user.first_name)
        size = len(archive)
    await queue(uow, calls, now)
    await uow.commit()
    return size
