"""Manager statistics on a generated week with known answers; periods; percentiles."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import Actor, MessageDirection, Priority, Rating, Ticket, TicketMessage
from models.delivery import Channel
from models.message import ticket_channel
from models.sla import BusinessCalendar, SlaConfig
from models.stats import (
    MAX_PERIOD_DAYS,
    NO_TEAM,
    ChannelFigures,
    Period,
    Report,
    TicketHistory,
    compute_report,
    parse_period,
    percentile,
    rank_agents,
)
from tests.support.stats_data import BILLING, CONFIG, MONDAY, PERIOD, TECH, ZONE, at, generate

A, B, C = 1, 2, 3
M = lambda n: timedelta(minutes=n)  # noqa: E731


def week_report() -> Report:
    histories = [s.history() for s in generate(customer_id=1, agent_a=A, agent_b=B, agent_c=C)]
    return compute_report(histories, PERIOD, CONFIG, ZONE)


class TestPercentile:
    def test_nearest_rank_on_ten_values(self) -> None:
        values = [M(n) for n in (100, 10, 90, 20, 80, 30, 70, 40, 60, 50)]
        assert percentile(values, 50) == M(50)  # the lower middle value, not 55
        assert percentile(values, 90) == M(90)
        assert percentile(values, 100) == M(100)
        assert percentile(values, 1) == M(10)

    def test_no_floating_point_surprises(self) -> None:
        # 0.7 * 10 is 7.000000000000001 in floating point: a naive ceil would pick rank 8.
        assert percentile(range(1, 11), 70) == 7

    def test_empty_and_bad_p(self) -> None:
        assert percentile([], 50) is None
        with pytest.raises(ValueError, match="p must be"):
            percentile([1], 0)

    @given(st.lists(st.integers(-1000, 1000), min_size=1), st.integers(1, 100))
    def test_definition(self, values: list[int], p: int) -> None:
        result = percentile(values, p)
        assert result in values
        at_or_below = sum(1 for v in values if v <= result)
        assert at_or_below * 100 >= p * len(values)  # at least p % at or below it
        smaller = [v for v in values if v < result]
        assert len(smaller) * 100 < p * len(values)  # and it is the smallest such value


class TestWeekOverall:
    def test_counts(self) -> None:
        o = week_report().overall
        assert (o.opened, o.resolved, o.backlog) == (13, 11, 4)

    def test_first_response_in_business_time(self) -> None:
        o = week_report().overall
        # b0..b9: 10..100, t0 20, t1 40 -> ranks 6 and 11 of 12
        assert o.first_responses == 12
        assert (o.first_response_median, o.first_response_p90) == (M(40), M(90))

    def test_resolution_leaves_out_time_waiting_for_the_customer(self) -> None:
        o = week_report().overall
        # b0..b8 70..150, w 70, t0 80 (each 30 minutes of waiting left out)
        assert (o.resolution_median, o.resolution_p90) == (M(100), M(140))

    def test_sla_hit_rate(self) -> None:
        o = week_report().overall
        assert (o.sla_met, o.sla_missed) == (16, 6)
        assert o.sla_hit_rate == pytest.approx(16 / 22)

    def test_csat_only_counts_ratings_given_in_the_period(self) -> None:
        o = week_report().overall
        assert (o.csat_count, o.csat_sum) == (7, 25)
        assert o.csat_average == pytest.approx(25 / 7)

    def test_triage_accuracy(self) -> None:
        o = week_report().overall
        assert (o.triaged, o.triage_uncorrected) == (12, 10)
        assert o.triage_accuracy == pytest.approx(10 / 12)


class TestWeekPerTeamAndAgent:
    def test_teams(self) -> None:
        teams = week_report().teams
        assert set(teams) == {BILLING, TECH}
        billing, tech = teams[BILLING], teams[TECH]
        assert (billing.opened, billing.resolved, billing.backlog) == (10, 10, 2)
        assert (billing.first_response_median, billing.first_response_p90) == (M(50), M(90))
        assert (billing.resolution_median, billing.resolution_p90) == (M(100), M(140))
        assert (billing.sla_met, billing.sla_missed) == (14, 5)
        assert (billing.csat_count, billing.csat_sum) == (6, 24)
        assert (billing.triaged, billing.triage_uncorrected) == (10, 8)
        assert (tech.opened, tech.resolved, tech.backlog) == (3, 1, 2)
        # Tech is 24/7: Saturday's 20 minutes count in full (the desk calendar would say 0).
        assert (tech.first_response_median, tech.first_response_p90) == (M(20), M(40))
        assert tech.resolution_median == M(80)
        assert (tech.sla_met, tech.sla_missed) == (2, 1)
        assert (tech.triaged, tech.triage_uncorrected) == (2, 2)

    def test_agents(self) -> None:
        agents = week_report().agents
        assert set(agents) == {A, B, C}
        a, b, c = agents[A], agents[B], agents[C]
        assert (a.opened, a.resolved, a.backlog) == (5, 6, 0)
        assert (a.first_response_median, a.first_response_p90) == (M(50), M(90))
        assert (a.resolution_median, a.resolution_p90) == (M(90), M(150))
        assert (a.sla_met, a.sla_missed) == (8, 2)
        assert a.csat_average == pytest.approx(15 / 4)
        assert (b.opened, b.resolved, b.backlog) == (5, 4, 1)
        assert b.first_response_median == M(60)
        assert (b.sla_met, b.sla_missed) == (6, 3)
        assert b.csat_average == pytest.approx(9 / 2)
        assert (c.sla_met, c.sla_missed, c.first_response_median) == (2, 1, M(20))

    def test_best_and_worst(self) -> None:
        report = week_report()
        # A 80 %; C and B both 2/3, C answers faster (median 20 vs 60 minutes).
        assert report.ranking == [A, C, B]
        assert (report.best_agent, report.worst_agent) == (A, B)

    def test_agents_with_few_targets_are_not_ranked(self) -> None:
        report = week_report()
        few = {A: report.agents[A], 99: report.agents[C].__class__(sla_met=2)}
        assert rank_agents(few) == [A]

    def test_daily_series(self) -> None:
        days = week_report().days
        assert [d.day for d in days] == PERIOD.dates()
        assert [d.opened for d in days] == [2, 2, 2, 3, 2, 1, 1]
        assert [d.resolved for d in days] == [3, 2, 2, 2, 1, 1, 0]
        assert [d.first_response_median for d in days] == [
            M(10),
            M(20),
            M(30),
            M(40),
            M(50),
            M(20),
            None,
        ]


class TestBusinessHours:
    def test_friday_evening_to_monday_morning_is_ten_minutes(self) -> None:
        friday = date(2026, 3, 6)
        ticket = Ticket.open(customer_id=1, subject="x", now=at(friday, 17, 55))
        ticket.agent_replied(7, at(friday + timedelta(days=3), 9, 5))
        history = TicketHistory(ticket, tuple(ticket.pending_events), None)
        report = compute_report([history], Period(friday, friday), CONFIG, ZONE)
        assert report.overall.first_response_median is None  # answered after the period
        report = compute_report(
            [history], Period(friday, friday + timedelta(days=3)), CONFIG, ZONE
        )
        assert report.overall.first_response_median == M(10)
        assert report.teams[NO_TEAM].first_response_median == M(10)

    def test_local_days_in_the_desk_zone(self) -> None:
        zone = "Europe/Berlin"
        config = SlaConfig(calendar=BusinessCalendar.weekdays(time(9), time(18), zone))
        # 23:30 UTC on Monday is 00:30 on Tuesday in Berlin.
        ticket = Ticket.open(customer_id=1, subject="x", now=at(MONDAY, 23, 30))
        history = TicketHistory(ticket, tuple(ticket.pending_events), None)
        report = compute_report([history], PERIOD, config, zone)
        assert [d.opened for d in report.days][:2] == [0, 1]

    def test_resolution_sla_missed_when_the_deadline_passed_unresolved(self) -> None:
        ticket = Ticket.open(
            customer_id=1, subject="x", now=at(MONDAY, 9), priority=Priority.URGENT
        )
        ticket.agent_replied(7, at(MONDAY, 9, 10))  # met (30 m)
        ticket.customer_wrote(at(MONDAY, 9, 20))  # 10 m paused; resolution due 13:10
        history = TicketHistory(ticket, tuple(ticket.pending_events), None)
        early = compute_report([history], Period(MONDAY, MONDAY), CONFIG, ZONE)
        assert (early.overall.sla_met, early.overall.sla_missed) == (1, 1)
        ticket.resolve(Actor.agent(7), at(MONDAY, 13, 9))
        history = TicketHistory(ticket, tuple(ticket.pending_events), None)
        late = compute_report([history], Period(MONDAY, MONDAY), CONFIG, ZONE)
        assert (late.overall.sla_met, late.overall.sla_missed) == (2, 0)

    def test_reopened_ticket_is_backlog_not_resolved(self) -> None:
        ticket = Ticket.open(customer_id=1, subject="x", now=at(MONDAY, 9))
        ticket.resolve(Actor.agent(7), at(MONDAY, 10))
        ticket.reopen(Actor.customer(1), at(MONDAY, 11))
        history = TicketHistory(ticket, tuple(ticket.pending_events), None)
        o = compute_report([history], PERIOD, CONFIG, ZONE).overall
        assert (o.resolved, o.backlog) == (0, 1)

    def test_rating_outside_the_period_is_ignored(self) -> None:
        ticket = Ticket.open(customer_id=1, subject="x", now=at(MONDAY, 9))
        rating = Rating(ticket_id=1, score=2, rated_at=datetime(2026, 4, 1, tzinfo=UTC))
        history = TicketHistory(ticket, tuple(ticket.pending_events), None, rating)
        assert compute_report([history], PERIOD, CONFIG, ZONE).overall.csat_count == 0


class TestPeriods:
    TODAY = date(2026, 3, 8)

    @pytest.mark.parametrize(
        ("text", "first", "last"),
        [
            ("", date(2026, 3, 8), date(2026, 3, 8)),
            ("today", date(2026, 3, 8), date(2026, 3, 8)),
            (" Yesterday ", date(2026, 3, 7), date(2026, 3, 7)),
            ("week", date(2026, 3, 2), date(2026, 3, 8)),
            ("month", date(2026, 2, 7), date(2026, 3, 8)),
            ("2026-01-31", date(2026, 1, 31), date(2026, 1, 31)),
            ("2026-01-01 2026-01-31", date(2026, 1, 1), date(2026, 1, 31)),
        ],
    )
    def test_forms(self, text: str, first: date, last: date) -> None:
        assert parse_period(text, self.TODAY) == Period(first, last)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("fortnight", "bad period"),
            ("2026-02-30", "bad date"),
            ("20260301", "bad period"),
            ("2026-03-02 2026-03-01", "ends before it starts"),
            ("2024-01-01 2026-01-01", "at most 366 days"),
            ("2026-01-01 2026-01-02 2026-01-03", "bad period"),
        ],
    )
    def test_bad_input_says_why(self, text: str, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            parse_period(text, self.TODAY)

    @given(st.dates(max_value=date(9000, 1, 1)), st.integers(0, MAX_PERIOD_DAYS - 1))
    def test_two_dates_round_trip(self, first: date, length: int) -> None:
        last = first + timedelta(days=length)
        period = parse_period(f"{first.isoformat()} {last.isoformat()}", self.TODAY)
        assert (period.first, period.last) == (first, last)
        assert period.days == (last - first).days + 1 == len(period.dates())

    @given(st.dates(max_value=date(9000, 1, 1)), st.integers(1, 400))
    def test_reversed_dates_are_refused(self, last: date, back: int) -> None:
        first = last + timedelta(days=back)
        with pytest.raises(ValueError, match="ends before it starts"):
            parse_period(f"{first} {last}", self.TODAY)

    @given(st.text(max_size=40))
    def test_any_text_is_a_period_or_a_clear_error(self, text: str) -> None:
        message = ""
        try:
            period = parse_period(text, self.TODAY)
        except ValueError as exc:
            message = str(exc)
        if message:
            assert "period" in message or "date" in message
        else:
            assert 1 <= period.days <= MAX_PERIOD_DAYS

    @given(
        st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
        st.integers(1, 60),
        st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
    )
    def test_bounds_cover_whole_local_days(self, first: date, days: int, zone: str) -> None:
        period = Period(first, first + timedelta(days=days - 1))
        start, end = period.bounds(zone)
        assert start.tzinfo is not None
        hours = (end - start).total_seconds() / 3600
        assert 24 * days - 1 <= hours <= 24 * days + 1  # a DST change moves an hour
        assert start.astimezone(ZoneInfo(zone)).time() == time(0)


CHANNELS = (Channel.TELEGRAM, Channel.EMAIL, Channel.WEB)


class TestChannels:
    def history(self, opened: datetime, channel: Channel | None, *messages: int) -> TicketHistory:
        ticket = Ticket.open(customer_id=1, subject="x", now=opened)
        counts = tuple((c, n) for c, n in zip(CHANNELS, messages, strict=False) if n)
        return TicketHistory(ticket, tuple(ticket.pending_events), None, None, channel, counts)

    def test_tickets_count_for_their_first_channel_and_messages_for_theirs(self) -> None:
        histories = [
            self.history(at(MONDAY, 9), Channel.EMAIL, 1, 2),  # by mail, then Telegram too
            self.history(at(MONDAY, 10), Channel.EMAIL, 0, 1),
            self.history(at(MONDAY, 11), Channel.WEB, 0, 0, 3),
            self.history(at(MONDAY, 12), None),  # an outbound contact, unanswered
        ]
        report = compute_report(histories, PERIOD, CONFIG, ZONE)
        assert report.channels == {
            Channel.TELEGRAM: ChannelFigures(tickets=0, messages=1),
            Channel.EMAIL: ChannelFigures(tickets=2, messages=3),
            Channel.WEB: ChannelFigures(tickets=1, messages=3),
        }
        assert list(report.channels) == [Channel.TELEGRAM, Channel.EMAIL, Channel.WEB]

    def test_a_ticket_opened_before_the_period_counts_only_its_new_messages(self) -> None:
        earlier = self.history(at(MONDAY - timedelta(days=3), 9), Channel.TELEGRAM, 2)
        report = compute_report([earlier], PERIOD, CONFIG, ZONE)
        assert report.channels == {Channel.TELEGRAM: ChannelFigures(tickets=0, messages=2)}

    def test_nothing_came_in_nothing_shown(self) -> None:
        assert compute_report([], PERIOD, CONFIG, ZONE).channels == {}


class TestTicketChannel:
    def message(self, direction: MessageDirection, channel: Channel) -> TicketMessage:
        return TicketMessage(1, direction, at(MONDAY, 9), "hi", channel=channel)

    def test_the_first_customer_message_decides(self) -> None:
        messages = [
            self.message(MessageDirection.AGENT, Channel.TELEGRAM),  # an outbound contact
            self.message(MessageDirection.CUSTOMER, Channel.EMAIL),
            self.message(MessageDirection.CUSTOMER, Channel.TELEGRAM),
        ]
        assert ticket_channel(messages) is Channel.EMAIL

    def test_no_customer_message_no_channel(self) -> None:
        assert ticket_channel([self.message(MessageDirection.NOTE, Channel.TELEGRAM)]) is None
