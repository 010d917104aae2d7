"""The report and export queries on SQLite and PostgreSQL, over the generated week."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from models import Agent, Customer, MessageDirection, Rating, Role, Team, Ticket, TicketMessage
from models.delivery import Channel
from models.stats import ChannelFigures, Period, compute_report
from storage import AbstractUnitOfWork
from tests.support.stats_data import BILLING, CONFIG, PERIOD, TECH, ZONE, generate

UowFactory = Callable[..., AbstractUnitOfWork]
MONDAY_T0 = datetime(2026, 2, 1, tzinfo=UTC)


@dataclass
class Stored:
    agents: dict[str, int]
    numbers: dict[str, int]  # subject -> ticket number


async def store_week(uow_factory: UowFactory) -> Stored:
    """The generated week in the database, as the bot would have stored it."""
    async with uow_factory() as uow:
        customer = await uow.customers.add(
            Customer(telegram_id=500, first_name="Ann", created_at=MONDAY_T0)
        )
        teams = {name: await uow.teams.add(Team(name=name)) for name in (BILLING, TECH)}
        agents = {
            name: await uow.agents.add(
                Agent(telegram_id=600 + i, name=name, role=Role.AGENT, created_at=MONDAY_T0)
            )
            for i, name in enumerate("ABC")
        }
        ids = {name: a.id or 0 for name, a in agents.items()}
        samples = generate(customer.id or 0, ids["A"], ids["B"], ids["C"])
        numbers = {}
        for sample in samples:
            if sample.team is not None:
                sample.ticket.team_id = teams[sample.team].id
            ticket = await uow.tickets.add(sample.ticket)
            numbers[ticket.subject] = ticket.number or 0
            if sample.score is not None and sample.rated_at is not None:
                await uow.ratings.add(
                    Rating(ticket_id=ticket.id or 0, score=sample.score, rated_at=sample.rated_at)
                )
        await uow.commit()
    return Stored(ids, numbers)


class TestReportQuery:
    async def test_loads_what_the_week_needs_and_nothing_else(
        self, uow_factory: UowFactory
    ) -> None:
        stored = await store_week(uow_factory)
        start, end = PERIOD.bounds(ZONE)
        async with uow_factory(readonly=True) as uow:
            histories = await uow.reports.histories(start, end)
        subjects = sorted(h.ticket.subject for h in histories)
        # old done (resolved and rated in February) is not needed; everything else is.
        assert subjects == sorted(
            [f"b{i}" for i in range(10)] + ["w", "t0", "t1", "t2", "old open"]
        )
        b1 = next(h for h in histories if h.ticket.subject == "b1")
        assert b1.team == BILLING
        assert b1.rating is not None
        assert b1.rating.score == 4
        assert [str(e.kind) for e in b1.events][:2] == ["triaged", "category_changed"]
        assert all(e.at < end for h in histories for e in h.events)
        assert stored.numbers["b0"] >= 1

    async def test_report_from_the_database_has_the_known_figures(
        self, uow_factory: UowFactory
    ) -> None:
        stored = await store_week(uow_factory)
        start, end = PERIOD.bounds(ZONE)
        async with uow_factory(readonly=True) as uow:
            report = compute_report(await uow.reports.histories(start, end), PERIOD, CONFIG, ZONE)
            names = await uow.reports.agent_names()
        o = report.overall
        assert (o.opened, o.resolved, o.backlog) == (13, 11, 4)
        assert (o.first_response_median, o.first_response_p90) == (
            timedelta(minutes=40),
            timedelta(minutes=90),
        )
        assert (o.sla_met, o.sla_missed, o.csat_count, o.csat_sum) == (16, 6, 7, 25)
        assert (o.triaged, o.triage_uncorrected) == (12, 10)
        assert report.teams[TECH].first_response_median == timedelta(minutes=20)
        a, b = stored.agents["A"], stored.agents["B"]
        assert (report.best_agent, report.worst_agent) == (a, b)
        assert names[a] == "A"

    async def test_a_rating_alone_brings_an_old_ticket_in(self, uow_factory: UowFactory) -> None:
        await store_week(uow_factory)
        # On 21 February nothing happened but the rating of "old done" (resolved the day before).
        day = Period(date(2026, 2, 21), date(2026, 2, 21))
        start, end = day.bounds(ZONE)
        async with uow_factory(readonly=True) as uow:
            histories = await uow.reports.histories(start, end)
        assert sorted(h.ticket.subject for h in histories) == ["old done", "old open"]
        report = compute_report(histories, day, CONFIG, ZONE)
        o = report.overall
        assert (o.opened, o.resolved, o.backlog, o.csat_count, o.csat_sum) == (0, 0, 1, 1, 4)


class TestChannels:
    async def test_each_ticket_brings_its_first_channel_and_its_messages_of_the_period(
        self, uow_factory: UowFactory
    ) -> None:
        monday = datetime(2026, 3, 2, 9, tzinfo=UTC)
        day = Period(date(2026, 3, 2), date(2026, 3, 2))
        said = [
            (MessageDirection.AGENT, Channel.TELEGRAM, monday),  # an outbound contact first
            (MessageDirection.CUSTOMER, Channel.EMAIL, monday + timedelta(minutes=5)),
            (MessageDirection.CUSTOMER, Channel.TELEGRAM, monday + timedelta(minutes=9)),
            (MessageDirection.CUSTOMER, Channel.TELEGRAM, monday + timedelta(days=1)),  # after
        ]
        async with uow_factory() as uow:
            customer = await uow.customers.add(
                Customer(telegram_id=500, first_name="Ann", created_at=MONDAY_T0)
            )
            ticket = await uow.tickets.add(
                Ticket.open(customer_id=customer.id or 0, subject="x", now=monday)
            )
            silent = await uow.tickets.add(
                Ticket.open(customer_id=customer.id or 0, subject="y", now=monday)
            )
            for direction, channel, at in said:
                await uow.messages.add(
                    TicketMessage(ticket.id or 0, direction, at, "hi", channel=channel)
                )
            await uow.commit()
        start, end = day.bounds(ZONE)
        async with uow_factory(readonly=True) as uow:
            histories = {h.ticket.id: h for h in await uow.reports.histories(start, end)}
        assert histories[ticket.id].channel is Channel.EMAIL
        assert histories[ticket.id].messages_in == ((Channel.EMAIL, 1), (Channel.TELEGRAM, 1))
        assert (histories[silent.id].channel, histories[silent.id].messages_in) == (None, ())
        report = compute_report(histories.values(), day, CONFIG, ZONE)
        assert report.channels == {
            Channel.TELEGRAM: ChannelFigures(tickets=0, messages=1),
            Channel.EMAIL: ChannelFigures(tickets=1, messages=1),
        }
