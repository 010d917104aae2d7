"""A generated help desk week with known statistics (2026-03-02 Mon to 2026-03-08 Sun, UTC).

Tickets are made with the domain's own methods at chosen times, so their events are the ones the
bot records. The expected figures are worked out by hand in ``EXPECTED`` below.

* Desk calendar: Mon-Fri 09:00-18:00 UTC. Team "Tech" keeps its own 24/7 calendar.
* Billing tickets b0..b9 (priority high: first response 1 h, resolution 8 h) open on weekday
  ``i % 5`` at 10:00; agent A answers the even ones, B the odd ones, ``10 * (i + 1)`` minutes
  later (so b5..b9 miss the 1 h target; b5 exactly at the deadline). The customer answers 30
  minutes later (waiting: paused), the agent resolves 60 minutes after that, so the resolution
  time is ``first response + 60`` minutes. b9 stays open (its resolution deadline is after the
  week). b1 and b2 get their category corrected by an agent.
* w: opened Fri 2026-02-27 17:55 (before the week), A answers Mon 09:05 (10 business minutes),
  the customer writes back after 30 minutes, A resolves 60 minutes later: resolved in the week,
  resolution 70 business minutes.
* Tech (24/7): t0 Sat 10:00, C answers 10:20, customer 10:50, resolved 11:50 (resolution 80).
  t1 Thu 12:00 urgent, C answers 12:40 (misses 30 m), then waits. t2 Sun 23:00, untouched.
* old_open (2026-02-20, still new) is backlog; old_done (opened and resolved in February) must
  not count anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from models import Actor, Priority, Rating, Ticket
from models.sla import BusinessCalendar, SlaConfig
from models.stats import Period, TicketHistory

MONDAY = date(2026, 3, 2)
PERIOD = Period(MONDAY, MONDAY + timedelta(days=6))
ZONE = "UTC"
DESK_CALENDAR = BusinessCalendar.weekdays(time(9), time(18), ZONE)
CONFIG = SlaConfig(calendar=DESK_CALENDAR, team_calendars={"tech": BusinessCalendar.always(ZONE)})
BILLING, TECH = "Billing", "Tech"


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=UTC)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


@dataclass
class Sample:
    """A ticket with its events still pending (storage tests store them), team and rating."""

    ticket: Ticket
    team: str | None
    score: int | None = None
    rated_at: datetime | None = None

    def history(self, ticket_id: int | None = None) -> TicketHistory:
        rating = None
        if self.score is not None and self.rated_at is not None:
            rating = Rating(ticket_id=ticket_id or 0, score=self.score, rated_at=self.rated_at)
        return TicketHistory(self.ticket, tuple(self.ticket.pending_events), self.team, rating)


def _triaged(ticket: Ticket, now: datetime, *, confident: bool = True) -> None:
    ticket.triaged(
        category="billing",
        team_id=None,
        priority=ticket.priority,
        confidence=0.9 if confident else None,
        needs_human=False,
        now=now,
    )


def _worked(
    ticket: Ticket, agent: int, replied: datetime, *, resolve: bool = True
) -> datetime | None:
    """Agent replies (-> waiting), the customer writes 30 min later (-> open), the agent resolves
    60 min after that. Returns the resolution moment."""
    ticket.agent_replied(agent, replied)
    ticket.customer_wrote(replied + minutes(30))
    if not resolve:
        return None
    done = replied + minutes(90)
    ticket.resolve(Actor.agent(agent), done)
    return done


def generate(customer_id: int, agent_a: int, agent_b: int, agent_c: int) -> list[Sample]:
    samples: list[Sample] = []
    scores = {0: 5, 1: 4, 2: 3, 3: 5, 4: 2}
    for i in range(10):
        created = at(MONDAY + timedelta(days=i % 5), 10)
        t = Ticket.open(customer_id=customer_id, subject=f"b{i}", now=created)
        t.priority = Priority.HIGH
        _triaged(t, created)
        agent = agent_a if i % 2 == 0 else agent_b
        if i in (1, 2):
            t.set_category("refunds", Actor.agent(agent), created + minutes(1))
        done = _worked(t, agent, created + minutes(10 * (i + 1)), resolve=i != 9)
        sample = Sample(t, BILLING)
        if i in scores and done is not None:
            sample.score, sample.rated_at = scores[i], done + minutes(5)
        if i == 8:  # rated after the week: not in this week's CSAT
            sample.score, sample.rated_at = 1, at(MONDAY + timedelta(days=7), 8)
        samples.append(sample)

    w = Ticket.open(customer_id=customer_id, subject="w", now=at(date(2026, 2, 27), 17, 55))
    _triaged(w, w.created_at)
    w.set_category("refunds", Actor.agent(agent_a), w.created_at + minutes(1))
    done = _worked(w, agent_a, at(MONDAY, 9, 5))
    assert done is not None
    samples.append(Sample(w, BILLING, 5, done + minutes(5)))

    t0 = Ticket.open(customer_id=customer_id, subject="t0", now=at(date(2026, 3, 7), 10))
    _triaged(t0, t0.created_at)
    done = _worked(t0, agent_c, at(date(2026, 3, 7), 10, 20))
    assert done is not None
    samples.append(Sample(t0, TECH, 1, done + minutes(1)))

    t1 = Ticket.open(customer_id=customer_id, subject="t1", now=at(date(2026, 3, 5), 12))
    t1.priority = Priority.URGENT
    _triaged(t1, t1.created_at, confident=False)
    t1.agent_replied(agent_c, at(date(2026, 3, 5), 12, 40))
    samples.append(Sample(t1, TECH))

    t2 = Ticket.open(customer_id=customer_id, subject="t2", now=at(date(2026, 3, 8), 23))
    _triaged(t2, t2.created_at)
    t2.set_category("hardware", Actor.system(), t2.created_at + minutes(1))
    samples.append(Sample(t2, TECH))

    old_open = Ticket.open(
        customer_id=customer_id, subject="old open", now=at(date(2026, 2, 20), 9)
    )
    samples.append(Sample(old_open, BILLING))

    old_done = Ticket.open(
        customer_id=customer_id, subject="old done", now=at(date(2026, 2, 20), 9)
    )
    _worked(old_done, agent_a, at(date(2026, 2, 20), 9, 30))
    samples.append(Sample(old_done, BILLING, 4, at(date(2026, 2, 21), 9)))
    return samples
