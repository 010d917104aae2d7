"""Business-time arithmetic and SLA decisions, with the time always given explicitly."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import Priority, TicketStatus
from models.sla import (
    DEFAULT_TARGETS,
    BusinessCalendar,
    SlaKind,
    SlaLevel,
    add_business_time,
    business_time_between,
    parse_duration,
    running_clocks,
)

OFFICE = BusinessCalendar.weekdays(time(9), time(18))
BERLIN = BusinessCalendar.weekdays(time(9), time(18), zone="Europe/Berlin")
BERLIN_TZ = ZoneInfo("Europe/Berlin")

starts = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
amounts = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=20))
calendars = st.sampled_from(
    [
        OFFICE,
        BERLIN,
        BusinessCalendar.always("Europe/Berlin"),
        BusinessCalendar(
            zone="America/New_York",
            hours={0: ((time(8), time(12)), (time(13), time(17))), 5: ((time(10), time(0)),)},
            holidays=frozenset({date(2026, 7, 4), date(2026, 12, 25)}),
        ),
    ]
)


def in_working_hours(calendar: BusinessCalendar, moment: datetime) -> bool:
    """Inside an interval, or exactly at the end of one (the deadline is its last instant)."""
    return any(
        start <= moment <= end
        for start, end in calendar.intervals(moment - timedelta(days=2))
        if start <= moment + timedelta(days=1)
    )


class TestExamples:
    def test_friday_evening_ticket_is_due_monday_morning(self) -> None:
        friday = datetime(2026, 3, 6, 17, 55, tzinfo=UTC)
        assert friday.weekday() == 4
        assert add_business_time(OFFICE, friday, timedelta(hours=1)) == datetime(
            2026, 3, 9, 9, 55, tzinfo=UTC
        )

    def test_a_monday_holiday_moves_it_to_tuesday(self) -> None:
        calendar = BusinessCalendar.weekdays(
            time(9), time(18), holidays=frozenset({date(2026, 3, 9)})
        )
        friday = datetime(2026, 3, 6, 17, 55, tzinfo=UTC)
        assert add_business_time(calendar, friday, timedelta(hours=1)) == datetime(
            2026, 3, 10, 9, 55, tzinfo=UTC
        )

    def test_office_hours_follow_local_time_across_daylight_saving(self) -> None:
        # Germany moves clocks forward on Sunday 29 March 2026.
        friday = datetime(2026, 3, 27, 17, 0, tzinfo=BERLIN_TZ)
        due = add_business_time(BERLIN, friday, timedelta(hours=2))
        assert due.astimezone(BERLIN_TZ) == datetime(2026, 3, 30, 10, 0, tzinfo=BERLIN_TZ)
        assert due.utcoffset() == timedelta(0)  # returned in UTC
        assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)

    def test_around_the_clock_counts_real_hours_on_a_23_hour_day(self) -> None:
        calendar = BusinessCalendar.always("Europe/Berlin")
        start = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
        assert add_business_time(calendar, start, timedelta(hours=24)) == start + timedelta(
            hours=24
        )

    def test_start_outside_hours_counts_from_the_next_opening(self) -> None:
        night = datetime(2026, 3, 3, 22, 0, tzinfo=UTC)
        assert add_business_time(OFFICE, night, timedelta(minutes=30)) == datetime(
            2026, 3, 4, 9, 30, tzinfo=UTC
        )

    def test_empty_calendar_is_refused(self) -> None:
        closed = BusinessCalendar(hours={0: ()}, holidays=frozenset())
        with pytest.raises(ValueError, match="no working time"):
            add_business_time(closed, datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=1))

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("30m", timedelta(minutes=30)),
            ("4h", timedelta(hours=4)),
            ("1h30m", timedelta(minutes=90)),
            ("2d", timedelta(days=2)),
        ],
    )
    def test_parse_duration(self, text: str, expected: timedelta) -> None:
        assert parse_duration(text) == expected

    @pytest.mark.parametrize("text", ["", "h", "4x", "0m", "-1h", "4"])
    def test_parse_duration_refuses_nonsense(self, text: str) -> None:
        with pytest.raises(ValueError, match="bad duration"):
            parse_duration(text)


class TestProperties:
    @settings(max_examples=150, deadline=None)
    @given(calendars, starts, amounts)
    def test_deadlines_never_fall_outside_working_hours(
        self, calendar: BusinessCalendar, start: datetime, amount: timedelta
    ) -> None:
        due = add_business_time(calendar, start, amount)
        assert due > start
        assert in_working_hours(calendar, due)

    @settings(max_examples=150, deadline=None)
    @given(calendars, starts, amounts)
    def test_measuring_undoes_adding(
        self, calendar: BusinessCalendar, start: datetime, amount: timedelta
    ) -> None:
        due = add_business_time(calendar, start, amount)
        assert business_time_between(calendar, start, due) == amount

    @settings(max_examples=100, deadline=None)
    @given(
        calendars,
        starts,
        amounts,
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5)),
    )
    def test_pausing_never_shortens_a_deadline(
        self, calendar: BusinessCalendar, start: datetime, amount: timedelta, paused: timedelta
    ) -> None:
        assert add_business_time(calendar, start, amount + paused) >= add_business_time(
            calendar, start, amount
        )

    @settings(max_examples=100, deadline=None)
    @given(calendars, starts, amounts, amounts)
    def test_business_time_is_additive(
        self, calendar: BusinessCalendar, start: datetime, a: timedelta, b: timedelta
    ) -> None:
        middle = add_business_time(calendar, start, a)
        assert add_business_time(calendar, middle, b) == add_business_time(calendar, start, a + b)

    @settings(max_examples=150, deadline=None)
    @given(
        st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
        starts,
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    )
    def test_around_the_clock_takes_no_walk_yet_agrees_with_one(
        self, zone: str, start: datetime, amount: timedelta
    ) -> None:
        """A 24/7 calendar adds and measures directly; every day from midnight to midnight,
        written out as hours (so walked day by day), gives the same answers."""
        always = BusinessCalendar.always(zone)
        walked = BusinessCalendar(zone=zone, hours=dict.fromkeys(range(7), ((time(0), time(0)),)))
        assert always.is_24_7
        assert not walked.is_24_7
        due = add_business_time(always, start, amount)
        assert due == add_business_time(walked, start, amount)
        assert business_time_between(always, start, due) == business_time_between(
            walked, start, due
        )


class TestClocks:
    T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday

    def clocks(self, **kwargs: object):
        values = {
            "status": TicketStatus.NEW,
            "created_at": self.T0,
            "first_response_at": None,
            "awaiting_reply_since": None,
            "targets": DEFAULT_TARGETS[Priority.HIGH],
            "paused": timedelta(0),
        } | kwargs
        return running_clocks(**values)  # type: ignore[arg-type]

    def test_new_ticket_runs_first_response_and_resolution(self) -> None:
        assert [c.kind for c in self.clocks()] == [SlaKind.FIRST_RESPONSE, SlaKind.RESOLUTION]

    def test_answered_ticket_with_customer_waiting_runs_next_response(self) -> None:
        kinds = [
            c.kind for c in self.clocks(first_response_at=self.T0, awaiting_reply_since=self.T0)
        ]
        assert kinds == [SlaKind.NEXT_RESPONSE, SlaKind.RESOLUTION]

    @pytest.mark.parametrize(
        "status",
        [TicketStatus.WAITING, TicketStatus.ON_HOLD, TicketStatus.RESOLVED, TicketStatus.CLOSED],
    )
    def test_paused_or_finished_tickets_run_no_clock(self, status: TicketStatus) -> None:
        assert self.clocks(status=status) == []

    def test_warning_at_80_percent_then_breach(self) -> None:
        [first, _] = self.clocks()
        assert first.level(OFFICE, self.T0 + timedelta(minutes=47)) is None
        assert first.level(OFFICE, self.T0 + timedelta(minutes=48)) is SlaLevel.WARNING
        assert first.level(OFFICE, self.T0 + timedelta(minutes=60)) is SlaLevel.BREACH

    def test_paused_time_moves_the_deadline(self) -> None:
        [plain, _] = self.clocks()
        [paused, _] = self.clocks(paused=timedelta(hours=2))
        assert paused.due(OFFICE) == plain.due(OFFICE) + timedelta(hours=2)
