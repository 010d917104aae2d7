"""Exports of the generated week: exact columns, known values, both formats, the CLI."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.services.export import (
    COLUMNS,
    ExportFormat,
    ExportTooLarge,
    export_archive,
    export_to_dir,
)
from models import MediaKind, MessageDirection, TicketMessage
from models.delivery import Channel
from storage import AbstractUnitOfWork, make_engine, uow_factory
from tests.integration.test_reports_storage import Stored, store_week
from tests.support.cli import clean_env, helpdesk
from tests.support.stats_data import MONDAY, PERIOD, ZONE, at

UowFactory = Callable[..., AbstractUnitOfWork]

TICKET_COLUMNS = [
    "number",
    "created_at",
    "status",
    "priority",
    "category",
    "team",
    "assignee",
    "customer_id",
    "subject",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "sla_breached",
    "triage_confidence",
    "needs_human",
    "channel",
]


async def with_messages(uow_factory: UowFactory) -> Stored:
    stored = await store_week(uow_factory)
    async with uow_factory() as uow:
        b0 = await uow.tickets.by_number(stored.numbers["b0"])
        assert b0 is not None
        for text, direction, sent, channel in [
            (
                '=HYPERLINK("http://evil")',
                MessageDirection.CUSTOMER,
                at(MONDAY, 10),
                Channel.EMAIL,
            ),
            (
                "Hello, “Ann”,\nsee below",
                MessageDirection.AGENT,
                at(MONDAY, 10, 10),
                Channel.EMAIL,
            ),
            (
                "last year",
                MessageDirection.CUSTOMER,
                at(MONDAY.replace(year=2025), 10),
                Channel.TELEGRAM,
            ),
        ]:
            await uow.messages.add(
                TicketMessage(
                    ticket_id=b0.id or 0,
                    direction=direction,
                    sent_at=sent,
                    text=text,
                    media_kind=MediaKind.TEXT,
                    author_agent_id=stored.agents["A"] if direction == "agent" else None,
                    channel=channel,
                )
            )
        await uow.commit()
    return stored


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


class TestCsv:
    async def test_columns_and_values(self, uow_factory: UowFactory, tmp_path: Path) -> None:
        stored = await with_messages(uow_factory)
        start, end = PERIOD.bounds(ZONE)
        async with uow_factory(readonly=True) as uow:
            counts = await export_to_dir(uow, tmp_path, ExportFormat.CSV, start, end)
        assert counts["tickets"] == 13  # created in the week
        assert counts["ratings"] == 7  # given in the week
        assert counts["messages"] == 2  # last year's message is outside
        tickets = read_csv(tmp_path / "tickets.csv")
        assert tickets[0] == TICKET_COLUMNS
        by_subject = {row[8]: dict(zip(TICKET_COLUMNS, row, strict=True)) for row in tickets[1:]}
        b5 = by_subject["b5"]
        assert b5 == {
            "number": str(stored.numbers["b5"]),
            "created_at": "2026-03-02T10:00:00Z",
            "status": "resolved",
            "priority": "high",
            "category": "billing",
            "team": "Billing",
            "assignee": "B",
            "customer_id": b5["customer_id"],
            "subject": "b5",
            "first_response_at": "2026-03-02T11:00:00Z",
            "resolved_at": "2026-03-02T12:30:00Z",
            "closed_at": "",
            "sla_breached": "false",
            "triage_confidence": "0.9",
            "needs_human": "false",
            "channel": "",  # no customer message stored
        }
        assert by_subject["b0"]["channel"] == "email"  # its first customer message's
        assert by_subject["t2"]["assignee"] == ""
        messages = read_csv(tmp_path / "messages.csv")
        assert messages[0] == list(COLUMNS["messages"])
        assert [m[6] for m in messages[1:]] == [
            '\'=HYPERLINK("http://evil")',  # a spreadsheet must not run it
            "Hello, “Ann”,\nsee below",
        ]
        assert messages[2][2:6] == [
            "2026-03-02T10:10:00Z",
            "agent",
            str(stored.agents["A"]),
            "text",
        ]
        assert [m[8] for m in messages[1:]] == ["email", "email"]
        events = read_csv(tmp_path / "events.csv")
        assert events[0] == [
            "ticket",
            "event_id",
            "at",
            "kind",
            "actor_kind",
            "actor_id",
            "old",
            "new",
        ]
        b1 = [e for e in events[1:] if e[0] == str(stored.numbers["b1"])]
        assert [e[3] for e in b1][:3] == ["created", "triaged", "category_changed"]
        assert b1[2][4:] == ["agent", str(stored.agents["B"]), "billing", "refunds"]
        ratings = read_csv(tmp_path / "ratings.csv")
        assert ratings[0] == ["ticket", "rated_at", "score", "comment"]
        assert sorted(int(r[2]) for r in ratings[1:]) == [1, 2, 3, 4, 5, 5, 5]


class TestJsonl:
    async def test_typed_values(self, uow_factory: UowFactory, tmp_path: Path) -> None:
        stored = await with_messages(uow_factory)
        start, end = PERIOD.bounds(ZONE)
        async with uow_factory(readonly=True) as uow:
            counts = await export_to_dir(uow, tmp_path, ExportFormat.JSONL, start, end)
        lines = (tmp_path / "tickets.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == counts["tickets"] == 13
        records = [json.loads(line) for line in lines]
        assert all(list(r) == TICKET_COLUMNS for r in records)
        t2 = next(r for r in records if r["subject"] == "t2")
        assert t2["number"] == stored.numbers["t2"]
        assert (t2["assignee"], t2["first_response_at"], t2["needs_human"]) == (None, None, False)
        assert t2["triage_confidence"] == 0.9
        messages = [
            json.loads(x) for x in (tmp_path / "messages.jsonl").read_text("utf-8").splitlines()
        ]
        assert messages[0]["text"] == '=HYPERLINK("http://evil")'  # kept as it is


class TestArchive:
    async def test_zip_of_four_csv_files(self, uow_factory: UowFactory) -> None:
        await with_messages(uow_factory)
        start, end = PERIOD.bounds(ZONE)
        async with uow_factory(readonly=True) as uow:
            data, counts = await export_archive(uow, start, end)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.namelist() == [f"{t}.csv" for t in COLUMNS]
            tickets = archive.read("tickets.csv").decode()
        assert tickets.splitlines()[0] == ",".join(TICKET_COLUMNS)
        assert len(tickets.splitlines()) == 1 + counts["tickets"]

    async def test_size_limit(self, uow_factory: UowFactory) -> None:
        await with_messages(uow_factory)
        start, end = PERIOD.bounds(ZONE)
        async with uow_factory(readonly=True) as uow:
            with pytest.raises(ExportTooLarge):
                await export_archive(uow, start, end, max_bytes=200)


class TestCommandLine:
    async def test_export_jsonl(self, sqlite_url: str, tmp_path: Path) -> None:
        env = clean_env(HELPDESK_DATABASE_URL=sqlite_url)
        upgraded = helpdesk("db", "upgrade", env=env, cwd=tmp_path)
        assert upgraded.returncode == 0, upgraded.stderr
        engine = make_engine(sqlite_url)
        try:
            await store_week(uow_factory(engine))
        finally:
            await engine.dispose()
        out = tmp_path / "out"
        args = ["--format", "jsonl", "--since", "2026-03-02", "--until", "2026-03-08"]
        result = helpdesk("export", *args, "--out", str(out), env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        assert summary == {
            "format": "jsonl",
            "dir": str(out),
            "tickets": 13,
            "messages": 0,
            "events": summary["events"],
            "ratings": 7,
        }
        assert summary["events"] > 13
        assert sorted(p.name for p in out.iterdir()) == [
            "events.jsonl",
            "messages.jsonl",
            "ratings.jsonl",
            "tickets.jsonl",
        ]

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--since", "2026-13-01"], "--since: expected a date like 2026-03-01"),
            (["--since", "2026-03-02", "--until", "2026-03-01"], "is before --since"),
            (["--format", "xml", "--since", "2026-03-02"], "--format: expected csv or jsonl"),
            ([], "--since: required"),
        ],
    )
    def test_bad_input_is_one_line_and_exit_2(
        self, args: list[str], message: str, tmp_path: Path
    ) -> None:
        env = clean_env(HELPDESK_DATA_DIR=str(tmp_path / "data"))
        result = helpdesk("export", *args, "--out", str(tmp_path / "out"), env=env, cwd=tmp_path)
        assert result.returncode == 2
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "out").exists()
