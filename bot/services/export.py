"""Exports for managers: a period's tickets, messages, events and ratings as CSV or JSON Lines.

Rows are streamed from the database and written as they come, so a large desk never sits in
memory. Every file has fixed columns, in this order (CSV: a header row, then one row per record;
JSONL: one object per line with these keys). Times are ISO-8601 UTC (``2026-03-02T09:00:00Z``);
unknown values are empty in CSV and ``null`` in JSONL; booleans are ``true``/``false``.

``tickets``   tickets created in the period: ``number, created_at, status, priority, category,
              team, assignee, customer_id, subject, first_response_at, resolved_at, closed_at,
              sla_breached, triage_confidence, needs_human, channel`` (team and assignee by
              name; the customer by the desk's internal id, not their Telegram identity;
              ``channel`` is where the first customer message came in: ``telegram``, ``email``
              or ``web``, empty for an outbound contact nobody answered)
``messages``  messages sent in the period: ``ticket, message_id, sent_at, direction,
              author_agent_id, media_kind, text, edited, channel`` (``ticket`` is the ticket
              number; ``channel`` the one a customer's message came in on, or a reply went
              out on)
``events``    ticket events in the period: ``ticket, event_id, at, kind, actor_kind, actor_id,
              old, new``
``ratings``   ratings given in the period: ``ticket, rated_at, score, comment``

In CSV, free text that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, tab or carriage return) gets a leading apostrophe; JSONL keeps it as it is.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

from models import Rating, Ticket, TicketEvent, TicketMessage
from models.delivery import Channel
from storage import AbstractUnitOfWork

COLUMNS: dict[str, tuple[str, ...]] = {
    "tickets": (
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
    ),
    "messages": (
        "ticket",
        "message_id",
        "sent_at",
        "direction",
        "author_agent_id",
        "media_kind",
        "text",
        "edited",
        "channel",
    ),
    "events": ("ticket", "event_id", "at", "kind", "actor_kind", "actor_id", "old", "new"),
    "ratings": ("ticket", "rated_at", "score", "comment"),
}
#: Free-text columns a spreadsheet might evaluate (guarded in CSV).
_TEXT_COLUMNS = frozenset({"subject", "text", "comment", "team", "assignee", "category"})
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: Largest archive ``/export`` sends through Telegram. Telegram takes 50 MB from bots, but the
#: file waits in the outbox as base64 inside one database row; bigger exports belong to the
#: ``helpdesk export`` command line.
ARCHIVE_MAX_BYTES = 10 * 1024 * 1024


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class ExportTooLarge(Exception):
    """The archive would be larger than the limit."""


Row = dict[str, Any]


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def ticket_row(
    ticket: Ticket, team: str | None, assignee: str | None, channel: Channel | None = None
) -> Row:
    return {
        "number": ticket.number,
        "created_at": iso(ticket.created_at),
        "status": str(ticket.status),
        "priority": str(ticket.priority),
        "category": ticket.category,
        "team": team,
        "assignee": assignee,
        "customer_id": ticket.customer_id,
        "subject": ticket.subject,
        "first_response_at": iso(ticket.first_response_at),
        "resolved_at": iso(ticket.resolved_at),
        "closed_at": iso(ticket.closed_at),
        "sla_breached": ticket.sla_breached,
        "triage_confidence": ticket.triage_confidence,
        "needs_human": ticket.needs_human,
        "channel": None if channel is None else str(channel),
    }


def message_row(number: int, message: TicketMessage) -> Row:
    return {
        "ticket": number,
        "message_id": message.id,
        "sent_at": iso(message.sent_at),
        "direction": str(message.direction),
        "author_agent_id": message.author_agent_id,
        "media_kind": str(message.media_kind),
        "text": message.text,
        "edited": message.edited,
        "channel": str(message.channel),
    }


def event_row(number: int, event: TicketEvent) -> Row:
    return {
        "ticket": number,
        "event_id": event.id,
        "at": iso(event.at),
        "kind": str(event.kind),
        "actor_kind": str(event.actor.kind),
        "actor_id": event.actor.id,
        "old": event.old,
        "new": event.new,
    }


def rating_row(number: int, rating: Rating) -> Row:
    return {
        "ticket": number,
        "rated_at": iso(rating.rated_at),
        "score": rating.score,
        "comment": rating.comment,
    }


async def rows(
    uow: AbstractUnitOfWork, table: str, start: datetime, end: datetime
) -> AsyncIterator[Row]:
    """The rows of one file, streamed from the database."""
    if table == "tickets":
        async for ticket, team, assignee, channel in uow.exports.tickets(start, end):
            yield ticket_row(ticket, team, assignee, channel)
    elif table == "messages":
        async for number, message in uow.exports.messages(start, end):
            yield message_row(number, message)
    elif table == "events":
        async for number, event in uow.exports.events(start, end):
            yield event_row(number, event)
    elif table == "ratings":
        async for number, rating in uow.exports.ratings(start, end):
            yield rating_row(number, rating)
    else:
        raise ValueError(f"unknown table {table!r}")


def _csv_value(column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if column in _TEXT_COLUMNS and text.startswith(_FORMULA_START):
        return "'" + text
    return text


class _Writer:
    def __init__(self, out: TextIO, fmt: ExportFormat, columns: tuple[str, ...]) -> None:
        self.out, self.fmt, self.columns = out, fmt, columns
        self._csv = csv.writer(out, lineterminator="\r\n") if fmt is ExportFormat.CSV else None
        if self._csv is not None:
            self._csv.writerow(columns)

    def write(self, row: Row) -> None:
        if self._csv is not None:
            self._csv.writerow([_csv_value(c, row[c]) for c in self.columns])
        else:
            record = {c: row[c] for c in self.columns}
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")


async def write_table(
    uow: AbstractUnitOfWork,
    table: str,
    out: TextIO,
    fmt: ExportFormat,
    start: datetime,
    end: datetime,
    *,
    check: Callable[[], None] | None = None,
) -> int:
    """Write one table to ``out``; returns the number of records. ``check`` runs after every
    row (the archive's size limit)."""
    writer = _Writer(out, fmt, COLUMNS[table])
    count = 0
    async for row in rows(uow, table, start, end):
        writer.write(row)
        count += 1
        if check is not None:
            check()
    return count


async def export_to_dir(
    uow: AbstractUnitOfWork, out_dir: Path, fmt: ExportFormat, start: datetime, end: datetime
) -> dict[str, int]:
    """``tickets.<fmt>``, ``messages.<fmt>``, ``events.<fmt>``, ``ratings.<fmt>`` in
    ``out_dir`` (an existing directory; files replaced if present); returns the record count
    of each. Blocking file writes: for the command line, not the bot's event loop."""
    counts = {}
    for table in COLUMNS:
        path = out_dir / f"{table}.{fmt}"
        partial = path.with_suffix(path.suffix + ".partial")
        with partial.open("w", encoding="utf-8", newline="") as out:
            counts[table] = await write_table(uow, table, out, fmt, start, end)
        partial.replace(path)
    return counts


async def export_archive(
    uow: AbstractUnitOfWork,
    start: datetime,
    end: datetime,
    *,
    max_bytes: int = ARCHIVE_MAX_BYTES,
) -> tuple[bytes, dict[str, int]]:
    """The four CSV files in one zip archive; raises :class:`ExportTooLarge` as soon as the
    archive grows past ``max_bytes``."""
    buffer = io.BytesIO()

    def check() -> None:
        if buffer.tell() > max_bytes:
            raise ExportTooLarge(buffer.tell())

    counts = {}
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in COLUMNS:
            with (
                archive.open(f"{table}.csv", "w", force_zip64=True) as raw,
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as out,
            ):
                counts[table] = await write_table(
                    uow, table, out, ExportFormat.CSV, start, end, check=check
                )
            check()
    return buffer.getvalue(), counts
