"""Statistics for managers: what happened in a period, overall, per team and per agent.

Pure functions over ticket histories (the ticket, its recorded events, its rating). Durations
are business time on the ticket's team calendar (:meth:`models.sla.SlaConfig.calendar_for`), and
time spent paused (waiting for the customer, on hold) is left out exactly as the SLA clocks leave
it out, so a report and the SLA warnings never disagree.

A period is a run of whole days in the desk's time zone, ``[start, end)`` in UTC. Definitions
(the README quotes them):

* **opened**: tickets created in the period.
* **resolved**: tickets whose status at the period's end is resolved or closed and whose last
  move from an active status into resolved/closed happened in the period (the *resolution
  moment*). A move from resolved to closed is not a new resolution.
* **backlog**: tickets created before the period's end whose status at the period's end is active
  (new, open, waiting, on hold), replayed from their status history.
* **first response time**: for tickets opened in the period and first answered by an agent
  before its end: business time from creation to the first agent reply, minus business time
  paused before the reply.
* **resolution time**: for resolved tickets (above): business time from creation to the
  resolution moment, minus business time paused before it.
* **median / p90**: nearest-rank percentiles (:func:`percentile`); the median is the 50th
  percentile, so with an even count it is the lower of the two middle values, and always a
  value that was observed.
* **SLA hit rate**: over the first-response and resolution targets of tickets opened in the
  period (targets of the ticket's current priority, deadline from
  :class:`models.sla.SlaClock` on the team calendar, paused time added as the SLA scan adds it),
  counting only targets whose outcome is known at the period's end: *met* when fulfilled before
  the deadline (the scan's rule: breached when ``moment >= due``), *missed* when fulfilled late
  or still unfulfilled at a deadline that passed before the period's end. Hit rate = met /
  (met + missed). Targets still running at the end are left out, and so is the first-response
  target of a ticket resolved without any agent reply. Next-response targets are not counted.
* **CSAT**: ratings (1-5) given in the period: their count and average.
* **triage accuracy**: among tickets opened in the period that the classifier triaged (a
  ``triaged`` event with a category and a confidence; the fallback without a model has no
  confidence and is not counted), the share whose category no agent changed before the period's
  end (no ``category_changed`` event by an agent actor).
* **channels**: per channel (telegram, email, web), the tickets opened in the period whose
  first customer message came in on it (a ticket's channel, :func:`models.message.ticket_channel`;
  an outbound contact the customer has not answered has none and is not counted), and the
  customer messages that came in on it during the period (in any ticket).
* **per team / per agent**: each ticket counts for its current team (by name; tickets without a
  team under :data:`NO_TEAM`) and its current assignee (unassigned tickets count for no agent).
* **best / worst agent**: agents with at least :data:`RANK_MIN_TARGETS` SLA targets with a known
  outcome are ranked by SLA hit rate (higher first), then median first response (shorter first;
  none counts as longest), then agent id. The best is the first, the worst the last (only when
  at least two agents are ranked).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from models.delivery import Channel
from models.enums import ActorKind, EventKind, TicketStatus
from models.events import TicketEvent
from models.sla import (
    BusinessCalendar,
    SlaClock,
    SlaConfig,
    SlaKind,
    SlaLevel,
    business_time_between,
    paused_business_time,
)
from models.ticket import Rating, Ticket

#: Longest period a report covers.
MAX_PERIOD_DAYS = 366
#: Agents need this many SLA targets with a known outcome to be ranked best or worst.
RANK_MIN_TARGETS = 3
#: The team key of tickets without a team.
NO_TEAM = ""

T = TypeVar("T", int, float, timedelta)


# -- periods -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole days ``first`` to ``last`` (both included), in the desk's time zone."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("the period ends before it starts")
        if self.days > MAX_PERIOD_DAYS:
            raise ValueError(f"a period is at most {MAX_PERIOD_DAYS} days")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]

    def bounds(self, zone: str) -> tuple[datetime, datetime]:
        """``[start, end)`` in UTC: local midnight of the first day to local midnight after the
        last."""
        return local_day_bounds(self.first, self.last, zone)

    @property
    def label(self) -> str:
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()} – {self.last.isoformat()}"


def local_day_bounds(first: date, last: date, zone: str) -> tuple[datetime, datetime]:
    """Whole local days ``first`` to ``last`` (included) as ``[start, end)`` in UTC."""
    tz = ZoneInfo(zone)
    start = datetime.combine(first, time(0), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


PERIOD_USAGE = "use today, yesterday, week, month, a date YYYY-MM-DD or two dates"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_period(text: str, today: date) -> Period:
    """``today``, ``yesterday``, ``week`` (the 7 days up to today), ``month`` (the 30 days up to
    today), ``YYYY-MM-DD`` (one day) or ``YYYY-MM-DD YYYY-MM-DD`` (both days included); empty
    means today. Raises ValueError with a message for people."""
    words = text.strip().lower().split()
    named = {
        (): (today, today),
        ("today",): (today, today),
        ("yesterday",): (today - timedelta(days=1), today - timedelta(days=1)),
        ("week",): (today - timedelta(days=6), today),
        ("month",): (today - timedelta(days=29), today),
    }
    found = named.get(tuple(words))
    if found is not None:
        return Period(*found)
    if len(words) in (1, 2) and all(_DATE.fullmatch(w) for w in words):
        try:
            days = [date.fromisoformat(w) for w in words]
        except ValueError:
            raise ValueError(f"bad date in {text.strip()!r}: {PERIOD_USAGE}") from None
        return Period(days[0], days[-1])
    raise ValueError(f"bad period {text.strip()!r}: {PERIOD_USAGE}")


# -- figures -----------------------------------------------------------------------------------


def percentile(values: Iterable[T], p: int) -> T | None:
    """Nearest-rank ``p``-th percentile (1 <= p <= 100): the smallest observed value with at
    least ``p`` % of the values at or below it, i.e. ``sorted(values)[ceil(p * n / 100) - 1]``;
    None without values."""
    if not 1 <= p <= 100:
        raise ValueError("p must be 1 to 100")
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (p * len(ordered) + 99) // 100  # ceil without floating point
    return ordered[rank - 1]


@dataclass(frozen=True)
class Figures:
    """The figures of one group of tickets (see the module docstring for definitions)."""

    opened: int = 0
    resolved: int = 0
    backlog: int = 0
    first_response_median: timedelta | None = None
    first_response_p90: timedelta | None = None
    first_responses: int = 0
    resolution_median: timedelta | None = None
    resolution_p90: timedelta | None = None
    sla_met: int = 0
    sla_missed: int = 0
    csat_count: int = 0
    csat_sum: int = 0
    triaged: int = 0
    triage_uncorrected: int = 0

    @property
    def sla_targets(self) -> int:
        return self.sla_met + self.sla_missed

    @property
    def sla_hit_rate(self) -> float | None:
        return self.sla_met / self.sla_targets if self.sla_targets else None

    @property
    def csat_average(self) -> float | None:
        return self.csat_sum / self.csat_count if self.csat_count else None

    @property
    def triage_accuracy(self) -> float | None:
        return self.triage_uncorrected / self.triaged if self.triaged else None


@dataclass(frozen=True)
class DayFigures:
    day: date
    opened: int
    resolved: int
    first_response_median: timedelta | None


@dataclass(frozen=True)
class ChannelFigures:
    """What came in on one channel in a period."""

    tickets: int = 0
    messages: int = 0


@dataclass(frozen=True)
class TicketHistory:
    """What the statistics need about one ticket: its events in order (at least status changes,
    triage verdicts and category changes), its team's name and its rating; its channel (of its
    first customer message) and how many customer messages came in on each channel during the
    period."""

    ticket: Ticket
    events: tuple[TicketEvent, ...] = ()
    team: str | None = None
    rating: Rating | None = None
    channel: Channel | None = None
    messages_in: tuple[tuple[Channel, int], ...] = ()


@dataclass(frozen=True)
class Report:
    period: Period
    start: datetime
    end: datetime
    overall: Figures
    teams: dict[str, Figures]
    agents: dict[int, Figures]
    days: list[DayFigures]
    #: Agent ids, best first (see the ranking rule in the module docstring).
    ranking: list[int]
    #: What came in per channel (only channels with something).
    channels: dict[Channel, ChannelFigures] = field(default_factory=dict)

    @property
    def best_agent(self) -> int | None:
        return self.ranking[0] if len(self.ranking) >= 2 else None

    @property
    def worst_agent(self) -> int | None:
        return self.ranking[-1] if len(self.ranking) >= 2 else None


@dataclass
class _Tally:
    opened: int = 0
    resolved: int = 0
    backlog: int = 0
    first_responses: list[timedelta] = field(default_factory=list)
    resolutions: list[timedelta] = field(default_factory=list)
    sla_met: int = 0
    sla_missed: int = 0
    ratings: list[int] = field(default_factory=list)
    triaged: int = 0
    uncorrected: int = 0

    def figures(self) -> Figures:
        return Figures(
            opened=self.opened,
            resolved=self.resolved,
            backlog=self.backlog,
            first_response_median=percentile(self.first_responses, 50),
            first_response_p90=percentile(self.first_responses, 90),
            first_responses=len(self.first_responses),
            resolution_median=percentile(self.resolutions, 50),
            resolution_p90=percentile(self.resolutions, 90),
            sla_met=self.sla_met,
            sla_missed=self.sla_missed,
            csat_count=len(self.ratings),
            csat_sum=sum(self.ratings),
            triaged=self.triaged,
            triage_uncorrected=self.uncorrected,
        )


@dataclass(frozen=True)
class _Facts:
    """One ticket's contribution, computed once and added to every group it belongs to."""

    opened: bool
    resolved_at: datetime | None
    active_at_end: bool
    first_response: timedelta | None
    resolution: timedelta | None
    sla_met: int
    sla_missed: int
    rating: int | None
    triaged: bool
    uncorrected: bool


def _status_changes(events: Sequence[TicketEvent], end: datetime) -> list[TicketEvent]:
    return [e for e in events if e.kind is EventKind.STATUS_CHANGED and e.at < end]


def status_at(events: Sequence[TicketEvent], moment: datetime) -> TicketStatus:
    """A ticket's status just before ``moment``, replayed from its status changes."""
    status = TicketStatus.NEW
    for event in _status_changes(events, moment):
        if event.new is not None:
            status = TicketStatus(event.new)
    return status


def resolution_moment(events: Sequence[TicketEvent], end: datetime) -> datetime | None:
    """When the ticket last went from active to resolved/closed before ``end``, if it is not
    active at ``end``."""
    status, moment = TicketStatus.NEW, None
    for event in _status_changes(events, end):
        new = TicketStatus(event.new) if event.new is not None else status
        if new.is_active:
            moment = None
        elif status.is_active:
            moment = event.at
        status = new
    return moment


def _paused_before(
    ticket: Ticket, events: Sequence[TicketEvent], calendar: BusinessCalendar, moment: datetime
) -> timedelta:
    before = [e for e in events if e.at < moment]
    return paused_business_time(calendar, ticket.paused_periods(before, moment))


def _clock_outcome(
    clock: SlaClock, calendar: BusinessCalendar, fulfilled: datetime | None, end: datetime
) -> bool | None:
    """True when met, False when missed, None while the outcome is unknown at ``end``."""
    if fulfilled is not None:
        return clock.level(calendar, fulfilled) is not SlaLevel.BREACH
    return False if clock.due(calendar) <= end else None


def _triage_verdict(events: Sequence[TicketEvent], end: datetime) -> tuple[bool, bool]:
    """(triaged by the classifier, category not corrected by an agent before ``end``)."""
    triaged = any(
        e.kind is EventKind.TRIAGED and e.at < end and _has_confidence(e.new) for e in events
    )
    corrected = any(
        e.kind is EventKind.CATEGORY_CHANGED and e.actor.kind is ActorKind.AGENT and e.at < end
        for e in events
    )
    return triaged, triaged and not corrected


def _has_confidence(verdict: str | None) -> bool:
    """A classifier's verdict is recorded as ``category:0.87``; the fallback as ``category``."""
    if not verdict or ":" not in verdict:
        return False
    category, confidence = verdict.rsplit(":", 1)
    try:
        float(confidence)
    except ValueError:
        return False
    return bool(category)


def ticket_facts(
    history: TicketHistory, config: SlaConfig, start: datetime, end: datetime
) -> _Facts:
    ticket, events = history.ticket, history.events
    calendar = config.calendar_for(history.team)
    opened = start <= ticket.created_at < end
    active_at_end = ticket.created_at < end and status_at(events, end).is_active
    resolved_at = resolution_moment(events, end)
    if resolved_at is not None and resolved_at < start:
        resolved_at = None

    first_response = resolution = None
    fr_at = ticket.first_response_at
    if fr_at is not None and fr_at >= end:
        fr_at = None
    if opened and fr_at is not None:
        first_response = max(
            timedelta(0),
            business_time_between(calendar, ticket.created_at, fr_at)
            - _paused_before(ticket, events, calendar, fr_at),
        )
    if resolved_at is not None:
        resolution = max(
            timedelta(0),
            business_time_between(calendar, ticket.created_at, resolved_at)
            - _paused_before(ticket, events, calendar, resolved_at),
        )

    met = missed = 0
    if opened:
        targets = config.targets[ticket.priority]
        done_at = resolution_moment(events, end)
        outcomes: list[bool | None] = []
        if fr_at is not None or done_at is None:  # resolved without a reply: no outcome
            moment = fr_at or end
            clock = SlaClock(
                SlaKind.FIRST_RESPONSE,
                ticket.created_at,
                targets.first_response,
                _paused_before(ticket, events, calendar, moment),
            )
            outcomes.append(_clock_outcome(clock, calendar, fr_at, end))
        moment = done_at or end
        clock = SlaClock(
            SlaKind.RESOLUTION,
            ticket.created_at,
            targets.resolution,
            _paused_before(ticket, events, calendar, moment),
        )
        outcomes.append(_clock_outcome(clock, calendar, done_at, end))
        met = sum(1 for o in outcomes if o is True)
        missed = sum(1 for o in outcomes if o is False)

    rating = history.rating
    score = rating.score if rating is not None and start <= rating.rated_at < end else None
    triaged, uncorrected = _triage_verdict(events, end) if opened else (False, False)
    return _Facts(
        opened=opened,
        resolved_at=resolved_at,
        active_at_end=active_at_end,
        first_response=first_response,
        resolution=resolution,
        sla_met=met,
        sla_missed=missed,
        rating=score,
        triaged=triaged,
        uncorrected=uncorrected,
    )


def _add(tally: _Tally, facts: _Facts) -> None:
    tally.opened += facts.opened
    tally.resolved += facts.resolved_at is not None
    tally.backlog += facts.active_at_end
    if facts.first_response is not None:
        tally.first_responses.append(facts.first_response)
    if facts.resolution is not None:
        tally.resolutions.append(facts.resolution)
    tally.sla_met += facts.sla_met
    tally.sla_missed += facts.sla_missed
    if facts.rating is not None:
        tally.ratings.append(facts.rating)
    tally.triaged += facts.triaged
    tally.uncorrected += facts.uncorrected


def rank_agents(agents: dict[int, Figures]) -> list[int]:
    """Agent ids, best first, by the ranking rule in the module docstring."""
    eligible = [a for a, f in agents.items() if f.sla_targets >= RANK_MIN_TARGETS]

    def key(agent_id: int) -> tuple[float, float, int]:
        figures = agents[agent_id]
        median = figures.first_response_median
        return (
            -(figures.sla_hit_rate or 0.0),
            median.total_seconds() if median is not None else float("inf"),
            agent_id,
        )

    return sorted(eligible, key=key)


def compute_report(
    histories: Iterable[TicketHistory], period: Period, config: SlaConfig, zone: str
) -> Report:
    """Every figure of ``period`` (whole days in ``zone``) over ``histories``.

    ``histories`` must include every ticket that was created in the period, resolved in it,
    active at its end or rated in it; others are ignored, so passing more is harmless.
    """
    start, end = period.bounds(zone)
    tz = ZoneInfo(zone)
    overall = _Tally()
    teams: dict[str, _Tally] = {}
    agents: dict[int, _Tally] = {}
    days = {d: _Tally() for d in period.dates()}
    channels: dict[Channel, ChannelFigures] = {}
    for history in histories:
        _count_channels(channels, history, start, end)
        facts = ticket_facts(history, config, start, end)
        if not (facts.opened or facts.resolved_at or facts.active_at_end or facts.rating):
            continue
        ticket = history.ticket
        _add(overall, facts)
        _add(teams.setdefault(history.team or NO_TEAM, _Tally()), facts)
        if ticket.assignee_id is not None:
            _add(agents.setdefault(ticket.assignee_id, _Tally()), facts)
        if facts.opened:
            day = days[ticket.created_at.astimezone(tz).date()]
            day.opened += 1
            if facts.first_response is not None:
                day.first_responses.append(facts.first_response)
        if facts.resolved_at is not None:
            days[facts.resolved_at.astimezone(tz).date()].resolved += 1
    agent_figures = {a: t.figures() for a, t in agents.items()}
    return Report(
        period=period,
        start=start,
        end=end,
        overall=overall.figures(),
        teams={name: t.figures() for name, t in teams.items()},
        agents=agent_figures,
        days=[
            DayFigures(d, t.opened, t.resolved, percentile(t.first_responses, 50))
            for d, t in days.items()
        ],
        ranking=rank_agents(agent_figures),
        channels={c: channels[c] for c in Channel if c in channels},
    )


def _count_channels(
    channels: dict[Channel, ChannelFigures],
    history: TicketHistory,
    start: datetime,
    end: datetime,
) -> None:
    opened = start <= history.ticket.created_at < end
    counts = [(history.channel, 1, 0)] if opened and history.channel is not None else []
    counts += [(channel, 0, n) for channel, n in history.messages_in if n]
    for channel, tickets, messages in counts:
        old = channels.get(channel, ChannelFigures())
        channels[channel] = ChannelFigures(old.tickets + tickets, old.messages + messages)
