"""Service levels in business time: calendars, targets, deadlines, warnings and breaches.

Pure functions; the current time is always a parameter. Times are aware datetimes; a calendar
works in its own time zone, so daylight-saving changes and holidays fall where people expect.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from models.enums import Priority, TicketStatus

_DAY = timedelta(days=1)
# Longest stretch searched for working time before a calendar is declared empty.
_HORIZON_DAYS = 3 * 366


class SlaKind(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class SlaLevel(StrEnum):
    WARNING = "warning"
    BREACH = "breach"


#: Share of a target after which the assignee is warned.
WARNING_SHARE = 0.8

#: Statuses in which the SLA clock stands still (the customer has the turn, or it is parked).
PAUSED_STATUSES = frozenset({TicketStatus.WAITING, TicketStatus.ON_HOLD})


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekly working hours in a time zone, minus holidays.

    ``hours[weekday]`` (Monday = 0) lists ``(start, end)`` local times; ``end`` may be
    ``time(0)`` for midnight at the end of the day. An empty ``hours`` means 24/7.
    """

    zone: str = "UTC"
    hours: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    @classmethod
    def always(cls, zone: str = "UTC") -> BusinessCalendar:
        return cls(zone=zone)

    @classmethod
    def weekdays(
        cls, start: time, end: time, zone: str = "UTC", holidays: frozenset[date] = frozenset()
    ) -> BusinessCalendar:
        """The same hours Monday to Friday."""
        return cls(zone=zone, hours=dict.fromkeys(range(5), ((start, end),)), holidays=holidays)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def is_24_7(self) -> bool:
        return not self.hours and not self.holidays

    def intervals(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (aware, UTC) in order, from the day containing ``since``."""
        tz = self.tz
        day = since.astimezone(tz).date()
        for _ in range(_HORIZON_DAYS):
            if day not in self.holidays:
                spans = self.hours.get(day.weekday(), ()) if self.hours else ((time(0), time(0)),)
                for start, end in spans:
                    begin = _local(day, start, tz)
                    finish = (
                        _local(day + _DAY, time(0), tz) if end == time(0) else _local(day, end, tz)
                    )
                    if finish > begin:
                        yield begin, finish
            day += _DAY

    def is_working(self, moment: datetime) -> bool:
        return any(start <= moment < end for start, end in self._around(moment))

    def _around(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        for start, end in self.intervals(moment - _DAY):
            if start > moment + _DAY:
                return
            yield start, end


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    """A local wall time as an aware UTC datetime.

    A time skipped by a DST jump (02:30 on spring-forward night) moves forward to the first
    real instant after the gap; an ambiguous one (autumn) takes its first occurrence.
    """
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=tz, fold=0)
    utc = aware.astimezone(ZoneInfo("UTC"))
    if utc.astimezone(tz).replace(tzinfo=None) != naive:  # nonexistent: inside the gap
        later = naive.replace(tzinfo=tz, fold=1).astimezone(ZoneInfo("UTC"))
        return max(utc, later)
    return utc


def add_business_time(calendar: BusinessCalendar, start: datetime, amount: timedelta) -> datetime:
    """The moment when ``amount`` of working time has passed after ``start``."""
    if calendar.is_24_7:  # every moment works: nothing to walk through (a page's SLA cost)
        return start + max(amount, timedelta(0))
    if amount <= timedelta(0):
        return _next_working_moment(calendar, start)
    remaining = amount
    for begin, end in calendar.intervals(start):
        if end <= start:
            continue
        begin = max(begin, start)
        span = end - begin
        if remaining <= span:
            return begin + remaining
        remaining -= span
    raise ValueError("the calendar has no working time")


def _next_working_moment(calendar: BusinessCalendar, start: datetime) -> datetime:
    for begin, end in calendar.intervals(start):
        if end > start:
            return max(begin, start)
    raise ValueError("the calendar has no working time")


def business_time_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Working time between two moments (zero if ``end`` is not after ``start``)."""
    total = timedelta(0)
    if end <= start:
        return total
    if calendar.is_24_7:
        return end - start
    for begin, finish in calendar.intervals(start):
        if begin >= end:
            break
        overlap = min(finish, end) - max(begin, start)
        if overlap > timedelta(0):
            total += overlap
    return total


@dataclass(frozen=True)
class SlaTargets:
    first_response: timedelta
    next_response: timedelta
    resolution: timedelta

    def of(self, kind: SlaKind) -> timedelta:
        return {
            SlaKind.FIRST_RESPONSE: self.first_response,
            SlaKind.NEXT_RESPONSE: self.next_response,
            SlaKind.RESOLUTION: self.resolution,
        }[kind]


#: Shipped defaults, in business time; admins change them with /sla.
DEFAULT_TARGETS: dict[Priority, SlaTargets] = {
    Priority.URGENT: SlaTargets(timedelta(minutes=30), timedelta(hours=1), timedelta(hours=4)),
    Priority.HIGH: SlaTargets(timedelta(hours=1), timedelta(hours=4), timedelta(hours=8)),
    Priority.NORMAL: SlaTargets(timedelta(hours=4), timedelta(hours=8), timedelta(days=2)),
    Priority.LOW: SlaTargets(timedelta(hours=8), timedelta(days=1), timedelta(days=5)),
}


@dataclass(frozen=True)
class SlaClock:
    """One running target of a ticket: when it started and how much paused time to add."""

    kind: SlaKind
    started_at: datetime
    target: timedelta
    paused: timedelta = timedelta(0)

    def due(self, calendar: BusinessCalendar) -> datetime:
        return add_business_time(calendar, self.started_at, self.target + self.paused)

    def warn_at(self, calendar: BusinessCalendar) -> datetime:
        return add_business_time(
            calendar, self.started_at, self.target * WARNING_SHARE + self.paused
        )

    def level(self, calendar: BusinessCalendar, now: datetime) -> SlaLevel | None:
        """Where ``now`` stands: past the deadline, past the warning point, or fine."""
        if now >= self.due(calendar):
            return SlaLevel.BREACH
        if now >= self.warn_at(calendar):
            return SlaLevel.WARNING
        return None


def running_clocks(
    *,
    status: TicketStatus,
    created_at: datetime,
    first_response_at: datetime | None,
    awaiting_reply_since: datetime | None,
    targets: SlaTargets,
    paused: timedelta,
) -> list[SlaClock]:
    """The targets still running for a ticket in ``status`` (none while paused or done).

    * first response: from creation until the first agent reply;
    * next response: from the customer's latest unanswered message until an agent replies
      (only after the first response);
    * resolution: from creation until resolved, minus time paused.
    """
    if not status.is_active or status in PAUSED_STATUSES:
        return []
    clocks = []
    if first_response_at is None:
        clocks.append(SlaClock(SlaKind.FIRST_RESPONSE, created_at, targets.first_response, paused))
    elif awaiting_reply_since is not None:
        clocks.append(SlaClock(SlaKind.NEXT_RESPONSE, awaiting_reply_since, targets.next_response))
    clocks.append(SlaClock(SlaKind.RESOLUTION, created_at, targets.resolution, paused))
    return clocks


def parse_duration(text: str) -> timedelta:
    """``30m``, ``4h``, ``2d``, ``1h30m`` -> timedelta; raises ValueError with a clear message."""
    units = {"d": 86400, "h": 3600, "m": 60}
    total, number = 0, ""
    for char in text.strip().lower():
        if char.isdigit():
            number += char
        elif char in units and number:
            total += int(number) * units[char]
            number = ""
        else:
            raise ValueError(f"bad duration {text!r}: use e.g. 30m, 4h, 2d or 1h30m")
    if number or total <= 0:
        raise ValueError(f"bad duration {text!r}: use e.g. 30m, 4h, 2d or 1h30m")
    return timedelta(seconds=total)


_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass(frozen=True)
class SlaConfig:
    """The desk's SLA settings: targets per priority, the business calendar, escalation."""

    targets: dict[Priority, SlaTargets] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    escalate: bool = False
    #: Calendars of teams that keep other hours than the desk (by team name, lower case).
    team_calendars: dict[str, BusinessCalendar] = field(default_factory=dict)

    def calendar_for(self, team: str | None) -> BusinessCalendar:
        return self.team_calendars.get((team or "").lower(), self.calendar)

    def to_json(self) -> dict[str, object]:
        return {
            "targets": {
                str(p): [int(t.of(k).total_seconds()) for k in SlaKind]
                for p, t in self.targets.items()
            },
            **_calendar_json(self.calendar),
            "escalate": self.escalate,
            "teams": {name: _calendar_json(c) for name, c in self.team_calendars.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None, zone: str = "UTC") -> SlaConfig:
        if not data:
            return cls(calendar=BusinessCalendar(zone=zone))
        targets = dict(DEFAULT_TARGETS)
        for name, seconds in dict(data.get("targets") or {}).items():
            first, nxt, resolution = (timedelta(seconds=int(s)) for s in seconds)
            targets[Priority(name)] = SlaTargets(first, nxt, resolution)
        teams = {
            name: _calendar_from(spec, zone)
            for name, spec in dict(data.get("teams") or {}).items()
        }
        return cls(
            targets=targets,
            calendar=_calendar_from(data, zone),
            escalate=bool(data.get("escalate")),
            team_calendars=teams,
        )


def _calendar_json(calendar: BusinessCalendar) -> dict[str, object]:
    return {
        "zone": calendar.zone,
        "hours": {
            _WEEKDAYS[d]: [[s.strftime("%H:%M"), e.strftime("%H:%M")] for s, e in spans]
            for d, spans in calendar.hours.items()
        },
        "holidays": sorted(d.isoformat() for d in calendar.holidays),
    }


def _calendar_from(data: dict[str, Any], zone: str) -> BusinessCalendar:
    hours = {
        _WEEKDAYS.index(day): tuple(
            (time.fromisoformat(s), time.fromisoformat(e)) for s, e in spans
        )
        for day, spans in dict(data.get("hours") or {}).items()
    }
    holidays = frozenset(date.fromisoformat(d) for d in data.get("holidays") or [])
    return BusinessCalendar(zone=str(data.get("zone") or zone), hours=hours, holidays=holidays)


def parse_hours(text: str, zone: str) -> BusinessCalendar:
    """``24/7`` or ``mon-fri 09:00-18:00[, sat 10:00-14:00]`` -> a calendar (holidays kept
    by the caller). Raises ValueError with a clear message."""
    text = text.strip().lower()
    if text in ("24/7", "always"):
        return BusinessCalendar(zone=zone)
    hours: dict[int, tuple[tuple[time, time], ...]] = {}
    for part in text.split(","):
        try:
            days, span = part.split()
            start_s, end_s = span.split("-")
            start, end = time.fromisoformat(start_s), time.fromisoformat(end_s)
            if "-" in days:
                first, last = days.split("-")
                day_numbers = range(_WEEKDAYS.index(first), _WEEKDAYS.index(last) + 1)
            else:
                day_numbers = range(_WEEKDAYS.index(days), _WEEKDAYS.index(days) + 1)
        except ValueError:
            raise ValueError(
                f"bad hours {part.strip()!r}: use e.g. 'mon-fri 09:00-18:00' or '24/7'"
            ) from None
        if end != time(0) and end <= start:
            raise ValueError(f"bad hours {part.strip()!r}: the end must be after the start")
        for day in day_numbers:
            hours[day] = (*hours.get(day, ()), (start, end))
    if not hours:
        raise ValueError("no working hours given")
    return BusinessCalendar(zone=zone, hours=hours)


def next_deadline(
    clocks: list[SlaClock], calendar: BusinessCalendar
) -> tuple[SlaKind, datetime] | None:
    """The earliest deadline among running clocks."""
    dues = [(clock.due(calendar), clock.kind) for clock in clocks]
    if not dues:
        return None
    due, kind = min(dues)
    return kind, due


def paused_business_time(
    calendar: BusinessCalendar, periods: list[tuple[datetime, datetime]]
) -> timedelta:
    return sum(
        (business_time_between(calendar, start, end) for start, end in periods), timedelta(0)
    )
