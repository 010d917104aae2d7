"""Statistics and exports for managers (bot.services.reports, bot.services.export): who may
ask, what is counted, where the archive goes. The presenter here records what it is given
(the real one draws charts; tests/bot covers it)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.services import export, reports
from bot.services.ports import TelegramUser
from models import (
    Actor,
    Agent,
    Customer,
    InvalidInput,
    MessageDirection,
    NotAllowed,
    Role,
    Team,
    Ticket,
    TicketMessage,
)
from models.delivery import OutboundCall
from models.stats import Period, Report
from tests.support.fake_uow import FakeDatabase
from tests.support.services import (
    ADA,
    AGENTS_CHAT,
    BOB,
    T0,
    store,
    store_staff,
)

SUE = TelegramUser(id=40, first_name="Sue")  # a supervisor
TODAY = Period(date(2026, 3, 2), date(2026, 3, 2))
GROUP = reports.Place(AGENTS_CHAT, 3)


@dataclass
class Recorder:
    """A ReportPresenter that answers one call per rendering, naming it and its facts."""

    given: list[tuple[str, object]] = field(default_factory=list)

    def _call(self, place: reports.Place, what: str, facts: object) -> list[OutboundCall]:
        self.given.append((what, facts))
        return [OutboundCall(place.chat_id, "sendMessage", {"is": what})]

    def stats(
        self, place: reports.Place, report: Report, names: dict[int, str], team: str | None
    ) -> list[OutboundCall]:
        return self._call(place, "stats", (report, names, team))

    def export(
        self, place: reports.Place, period: Period, archive: bytes, counts: dict[str, int]
    ) -> list[OutboundCall]:
        return self._call(place, "export", (archive, counts))

    def export_too_large(
        self, place: reports.Place, period: Period, limit: int
    ) -> list[OutboundCall]:
        return self._call(place, "too large", limit)

    def export_sent_privately(self, place: reports.Place, name: str) -> list[OutboundCall]:
        return self._call(place, "sent privately", name)


@pytest.fixture
async def desk(db: FakeDatabase) -> tuple[Ticket, Ticket]:
    """Staff, a supervisor, and today's two tickets (one of Billing, resolved by Bob) beside
    one from last week."""
    await store_staff(db)
    await store(db, Agent(telegram_id=SUE.id, name="Sue", role=Role.SUPERVISOR, created_at=T0))
    billing = Team(name="Billing")
    await store(db, billing)
    customer = Customer(telegram_id=501, first_name="Ann", created_at=T0)
    await store(db, customer)
    old = Ticket.open(customer_id=customer.id, subject="last week", now=T0 - timedelta(days=7))
    await store(db, old)
    first = Ticket.open(customer_id=customer.id, subject="=SUM(A1)", now=T0)
    first.team_id = billing.id
    first.resolve(Actor.agent(2), T0 + timedelta(hours=1))
    second = Ticket.open(customer_id=customer.id, subject="refund", now=T0 + timedelta(hours=2))
    await store(db, first, second)
    await store(
        db,
        TicketMessage(first.id, MessageDirection.CUSTOMER, T0, "=SUM(A1)"),
        TicketMessage(first.id, MessageDirection.AGENT, T0 + timedelta(minutes=30), "done"),
        TicketMessage(old.id, MessageDirection.CUSTOMER, T0 - timedelta(days=7), "old"),
    )
    return first, second


async def stats(
    db: FakeDatabase, user: TelegramUser, team: str | None = None
) -> tuple[Report, Recorder]:
    recorder = Recorder()
    async with db.uow() as uow:
        report = await reports.stats(
            uow, db.uow, recorder, user, reports.Asked(TODAY, team, GROUP), "UTC", T0
        )
    return report, recorder


class TestStats:
    async def test_a_supervisor_gets_the_periods_figures_in_the_group(
        self, db: FakeDatabase, desk: tuple[Ticket, Ticket]
    ) -> None:
        report, recorder = await stats(db, SUE)
        assert (report.overall.opened, report.overall.resolved) == (2, 1)
        [(what, (_, names, team))] = recorder.given  # type: ignore[misc]
        assert (what, team) == ("stats", None)
        assert set(names.values()) == {"Ada", "Bob", "Sue"}
        assert [c.chat_id for c in db.outbox] == [AGENTS_CHAT]

    async def test_one_teams_figures(self, db: FakeDatabase, desk: tuple[Ticket, Ticket]) -> None:
        report, recorder = await stats(db, SUE, "billing")
        assert (report.overall.opened, report.overall.resolved) == (1, 1)
        assert recorder.given[0][1][2] == "Billing"

    async def test_an_unknown_team_is_refused_naming_the_teams(
        self, db: FakeDatabase, desk: tuple[Ticket, Ticket]
    ) -> None:
        with pytest.raises(InvalidInput, match="Billing"):
            await stats(db, SUE, "sales")
        assert db.outbox == []

    async def test_plain_agents_do_not_get_them(
        self, db: FakeDatabase, desk: tuple[Ticket, Ticket]
    ) -> None:
        with pytest.raises(NotAllowed):
            await stats(db, BOB)
        assert db.outbox == []


class TestPeriodFrom:
    def test_a_period_is_read_in_the_desks_zone(self) -> None:
        late = T0.replace(hour=23)  # already the next day in Tokyo
        assert reports.period_from("", late, "Asia/Tokyo").first == date(2026, 3, 3)
        assert reports.period_from("week", T0, "UTC") == Period(date(2026, 2, 24), T0.date())

    def test_nonsense_is_refused(self) -> None:
        with pytest.raises(InvalidInput):
            reports.period_from("fortnight", T0, "UTC")


async def run_export(
    db: FakeDatabase, user: TelegramUser, place: reports.Place = GROUP, **limit: int
) -> tuple[int, Recorder]:
    recorder = Recorder()
    asked = reports.Asked(TODAY, None, place)
    async with db.uow() as uow:
        size = await reports.export(uow, db.uow, recorder, user, asked, "UTC", T0, **limit)
    return size, recorder


def table(archive: bytes, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(io.BytesIO(archive)) as files:
        return list(csv.DictReader(io.TextIOWrapper(files.open(f"{name}.csv"), "utf-8")))


class TestExport:
    async def test_the_archive_goes_to_the_admin_privately_and_the_group_is_told(
        self, db: FakeDatabase, desk: tuple[Ticket, Ticket]
    ) -> None:
        first, second = desk
        size, recorder = await run_export(db, ADA)
        assert [what for what, _ in recorder.given] == ["export", "sent privately"]
        archive, counts = recorder.given[0][1]  # type: ignore[misc]
        name = recorder.given[1][1]
        assert size == len(archive) > 0
        assert [c.chat_id for c in db.outbox] == [ADA.id, AGENTS_CHAT]
        assert name == "Ada"
        today = [e for e in db.events if e.at.date() == T0.date()]
        assert len(today) < len(db.events)  # last week's are left out
        assert counts == {"tickets": 2, "messages": 2, "events": len(today), "ratings": 0}
        tickets = table(archive, "tickets")
        assert [t["number"] for t in tickets] == [str(first.number), str(second.number)]
        assert tickets[0]["subject"] == "'=SUM(A1)"  # no formula for a spreadsheet
        assert tickets[0]["team"] == "Billing"
        assert [m["text"] for m in table(archive, "messages")] == ["'=SUM(A1)", "done"]

    async def test_asked_in_the_private_chat_it_comes_alone(
        self, db: FakeDatabase, desk: tuple[Ticket, Ticket]
    ) -> None:
        _, recorder = await run_export(db, ADA, reports.Place(ADA.id))
        assert [what for what, _ in recorder.given] == ["export"]

    async def test_too_large_an_archive_is_a_note_in_the_group(
        self, db: FakeDatabase, desk: tuple[Ticket, Ticket]
    ) -> None:
        size, recorder = await run_export(db, ADA, max_bytes=100)
        assert size == 0
        assert recorder.given == [("too large", 100)]
        assert [c.chat_id for c in db.outbox] == [AGENTS_CHAT]

    async def test_supervisors_may_not_export(
        self, db: FakeDatabase, desk: tuple[Ticket, Ticket]
    ) -> None:
        with pytest.raises(NotAllowed):
            await run_export(db, SUE)
        assert db.outbox == []


def read_jsonl(folder: Path) -> dict[str, list[dict[str, object]]]:
    """Each file's records, by file name."""
    return {
        p.name: [json.loads(line) for line in p.read_text("utf-8").splitlines()]
        for p in sorted(folder.iterdir())
    }


class TestExportToDir:
    async def test_four_jsonl_files_keep_text_as_it_is(
        self, db: FakeDatabase, desk: tuple[Ticket, Ticket], tmp_path: Path
    ) -> None:
        start, end = TODAY.bounds("UTC")
        jsonl = export.ExportFormat.JSONL
        async with db.uow(readonly=True) as uow:
            counts = await export.export_to_dir(uow, tmp_path, jsonl, start, end)
        files = read_jsonl(tmp_path)
        assert list(files) == ["events.jsonl", "messages.jsonl", "ratings.jsonl", "tickets.jsonl"]
        assert [m["text"] for m in files["messages.jsonl"]] == ["=SUM(A1)", "done"]
        assert list(files["messages.jsonl"][0]) == list(export.COLUMNS["messages"])
        assert {name.split(".")[0]: len(rows) for name, rows in files.items()} == counts
