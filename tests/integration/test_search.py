"""Full-text search over tickets on SQLite (FTS5) and PostgreSQL (GIN tsvector indexes).

The database is built by the migrations (so their triggers and indexes are the ones tested);
one test checks that ``create_all`` builds the same search objects.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import delete, text

import storage.search
from models import (
    Customer,
    InvalidInput,
    MessageDirection,
    SearchHit,
    Ticket,
    TicketMessage,
    TicketStatus,
    parse_query,
)
from models.search import MARK_END, MARK_START
from storage import AbstractUnitOfWork, SqlAlchemyUnitOfWork, make_engine, migrate
from storage import uow_factory as make_uow_factory
from storage.fts import is_search_object
from storage.orm import TicketMessageRecord
from storage.search import CANDIDATES, MAX_LIMIT
from tests.support.db import empty_database, engine_with_schema

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

UowFactory = Callable[..., SqlAlchemyUnitOfWork]


@pytest.fixture
async def migrated(db_url: str) -> AsyncIterator[UowFactory]:
    await asyncio.to_thread(migrate.upgrade, db_url)
    engine = make_engine(db_url)
    yield make_uow_factory(engine)
    await engine.dispose()


class Desk:
    """Opens tickets with messages, one unit of work each, a minute apart."""

    def __init__(self, uow_factory: UowFactory) -> None:
        self.uow_factory = uow_factory
        self.now = T0
        self.customer_id: int | None = None

    async def ticket(self, subject: str, *messages: str | None) -> tuple[Ticket, list[int]]:
        self.now += timedelta(minutes=1)
        async with self.uow_factory() as uow:
            if self.customer_id is None:
                customer = await uow.customers.add(
                    Customer(telegram_id=100, first_name="Ann", created_at=T0)
                )
                self.customer_id = customer.id
            assert self.customer_id is not None
            ticket = await uow.tickets.add(
                Ticket.open(customer_id=self.customer_id, subject=subject, now=self.now)
            )
            assert ticket.id is not None
            ids = []
            for body in messages:
                msg = await uow.messages.add(
                    TicketMessage(
                        ticket_id=ticket.id,
                        direction=MessageDirection.CUSTOMER,
                        sent_at=self.now,
                        text=body,
                    )
                )
                assert msg.id is not None
                ids.append(msg.id)
            await uow.commit()
        return ticket, ids

    async def find(self, query: str, **kwargs: object) -> list[SearchHit]:
        async with self.uow_factory(readonly=True) as uow:
            return await uow.search.search(parse_query(query), **kwargs)  # type: ignore[arg-type]

    async def numbers(self, query: str, **kwargs: object) -> list[int]:
        return [h.ticket_number for h in await self.find(query, **kwargs)]


@pytest.fixture
def desk(migrated: UowFactory) -> Desk:
    return Desk(migrated)


class TestMatching:
    async def test_words_phrases_exclusions_prefix_or(self, desk: Desk) -> None:
        a, _ = await desk.ticket("Printer problem", "the paper jam happens daily")
        b, _ = await desk.ticket("Payment", "jam on the paper tray, refund please")
        c, _ = await desk.ticket("Other", "chargeback for my payment")

        assert sorted(await desk.numbers("paper jam")) == sorted([a.number, b.number])
        assert await desk.numbers('"paper jam"') == [a.number]
        assert await desk.numbers("paper -refund") == [a.number]
        assert await desk.numbers('jam -"paper jam"') == [b.number]
        assert sorted(await desk.numbers("refund OR chargeback")) == sorted([b.number, c.number])
        assert sorted(await desk.numbers("pay*")) == sorted([b.number, c.number])
        assert await desk.numbers("nothing") == []

    async def test_russian_text_case_insensitive(self, desk: Desk) -> None:
        ru, _ = await desk.ticket("Не работает", "Принтер не печатает, замятие бумаги")
        await desk.ticket("Other", "printer fine")
        assert await desk.numbers("ПРИНТЕР") == [ru.number]
        assert await desk.numbers("печат*") == [ru.number]
        assert await desk.numbers('"замятие бумаги"') == [ru.number]
        assert await desk.numbers("принтер -бумаги") == []

    async def test_one_hit_per_ticket_with_its_best_message(self, desk: Desk) -> None:
        ticket, ids = await desk.ticket(
            "Help", "refund", "refund refund refund please", "nothing here"
        )
        hits = await desk.find("refund")
        assert [h.ticket_id for h in hits] == [ticket.id]
        assert hits[0].message_id == ids[1]
        assert hits[0].status is TicketStatus.NEW
        assert hits[0].subject == "Help"

    async def test_messages_without_text_are_ignored(self, desk: Desk) -> None:
        await desk.ticket("Photo", None, None)
        assert await desk.numbers("photo") != []
        assert await desk.numbers("none") == []

    async def test_ticket_ids_filter(self, desk: Desk) -> None:
        a, _ = await desk.ticket("Invoice", "invoice missing")
        b, _ = await desk.ticket("Invoice", "invoice wrong")
        assert await desk.numbers("invoice", ticket_ids_filter=[b.id]) == [b.number]
        assert await desk.numbers("invoice", ticket_ids_filter=[a.id, b.id]) == [
            b.number,
            a.number,
        ]
        assert await desk.numbers("invoice", ticket_ids_filter=[]) == []


class TestRanking:
    async def test_subject_match_beats_a_mention_in_a_message(self, desk: Desk) -> None:
        subject, _ = await desk.ticket("Refund request", "hello, see the title")
        mention, _ = await desk.ticket("Question", "and maybe a refund later, thanks a lot")
        hits = await desk.find("refund")
        assert [h.ticket_number for h in hits] == [subject.number, mention.number]
        assert hits[0].message_id is None
        assert hits[1].message_id is not None
        assert hits[0].rank > hits[1].rank

    async def test_more_occurrences_rank_higher(self, desk: Desk) -> None:
        once, _ = await desk.ticket("A", "my card was declined at the shop today ok")
        thrice, _ = await desk.ticket("B", "card declined, card blocked, card lost today")
        once_again, _ = await desk.ticket("C", "new card is fine and works at the shop ok")
        numbers = await desk.numbers("card")
        assert numbers[0] == thrice.number
        assert set(numbers) == {once.number, thrice.number, once_again.number}

    async def test_phrase_of_common_words_ranks_adjacent_repeats_first(self, desk: Desk) -> None:
        await desk.ticket("A", "the card and an order, the end, order the box")
        once, _ = await desk.ticket("B", "where is the order from monday")
        twice, _ = await desk.ticket("C", "the order came, then the order left")
        hits = await desk.find('"the order"')
        assert [h.ticket_number for h in hits] == [twice.number, once.number]
        assert hits[0].rank > hits[1].rank

    async def test_ties_go_to_the_newest_ticket(self, desk: Desk) -> None:
        tickets = [(await desk.ticket("Same", "identical words here"))[0] for _ in range(3)]
        hits = await desk.find("identical")
        assert [h.ticket_number for h in hits] == [t.number for t in reversed(tickets)]
        assert len({h.rank for h in hits}) == 1


class TestSnippets:
    async def test_snippet_marks_the_matched_word(self, desk: Desk) -> None:
        await desk.ticket("X", "intro " * 50 + "the <b>Refund</b> never came & " + "tail " * 50)
        [hit] = await desk.find("refund")
        assert f"{MARK_START}Refund{MARK_END}" in hit.snippet
        assert "<b>" in hit.snippet  # raw text: the presenter escapes it
        assert len(hit.snippet) <= 170

    async def test_subject_hit_snippet_is_the_subject(self, desk: Desk) -> None:
        await desk.ticket("Broken charger", "hi")
        [hit] = await desk.find("charger")
        assert hit.snippet == f"Broken {MARK_START}charger{MARK_END}"


class TestIndexFollowsChanges:
    async def test_edited_and_deleted_messages(self, desk: Desk, migrated: UowFactory) -> None:
        ticket, [msg_id] = await desk.ticket("Subject", "original wording")
        async with migrated() as uow:
            msg = await uow.messages.get(msg_id)
            assert msg is not None
            msg.text = "edited wording"
            await uow.commit()
        assert await desk.numbers("original") == []
        assert await desk.numbers("edited") == [ticket.number]

        async with migrated() as uow:
            assert uow.session is not None
            await uow.session.execute(
                delete(TicketMessageRecord).where(TicketMessageRecord.id == msg_id)
            )
            await uow.commit()
        assert await desk.numbers("edited") == []
        assert await desk.numbers("wording") == []

    async def test_changed_subject(self, desk: Desk, migrated: UowFactory) -> None:
        ticket, _ = await desk.ticket("Old title")
        async with migrated() as uow:
            loaded = await uow.tickets.get(ticket.id)  # type: ignore[arg-type]
            assert loaded is not None
            loaded.subject = "New title"
            await uow.commit()
        assert await desk.numbers("old") == []
        assert await desk.numbers("new") == [ticket.number]


class TestPaging:
    async def test_pages_cover_every_ticket_once(self, desk: Desk, migrated: UowFactory) -> None:
        made = [(await desk.ticket(f"Ticket {i}", "common word"))[0] for i in range(7)]
        seen: list[int] = []
        offset = 0
        while True:
            async with migrated(readonly=True) as uow:
                page = await uow.search.page(parse_query("common"), limit=3, offset=offset)
            seen += [h.ticket_number for h in page.hits]
            assert page.offset == offset
            if not page.has_more:
                break
            offset += 3
        assert seen == [t.number for t in reversed(made)]
        assert offset == 6

    async def test_limits_are_checked(self, migrated: UowFactory) -> None:
        async with migrated(readonly=True) as uow:
            with pytest.raises(ValueError, match="limit"):
                await uow.search.search(parse_query("x"), limit=MAX_LIMIT + 2)
            with pytest.raises(ValueError, match="offset"):
                await uow.search.search(parse_query("x"), offset=-1)


class TestCandidateCap:
    async def test_common_word_ranks_only_the_newest_candidates(
        self, desk: Desk, migrated: UowFactory
    ) -> None:
        # One old ticket with the best match, then more newer matches than the cap.
        best, _ = await desk.ticket("Common common common")
        async with migrated() as uow:
            assert desk.customer_id is not None
            await _bulk_tickets(uow, desk.customer_id, max(CANDIDATES.values()) + 5)
            await uow.commit()
        assert await desk.numbers("common", limit=1) != [best.number]
        assert await desk.numbers("common", ticket_ids_filter=[best.id]) == [best.number]

    async def test_small_id_windows_find_the_same_hits(
        self, desk: Desk, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # PostgreSQL searches windows of ids newest first; with tiny windows every query needs
        # several of them, and the answer must not change.
        for i in range(12):
            await desk.ticket(f"ticket {i}", f"paper jam number {i}", "printer again" * (i % 3))
        queries = ['"paper jam"', "printer", "jam -printer", "number OR again", "ticket"]
        expected = [await desk.find(q, limit=20) for q in queries]
        monkeypatch.setattr(storage.search, "FIRST_WINDOW", 1)
        monkeypatch.setattr(storage.search, "PHRASE_FIRST_WINDOW", 1)
        monkeypatch.setattr(storage.search, "WINDOW_GROWTH", 2)
        assert [await desk.find(q, limit=20) for q in queries] == expected
        assert all(expected)

    @pytest.mark.postgres
    async def test_postgres_plans_each_search_for_its_words(self, tmp_path: Path) -> None:
        # A generic plan walks the primary key for seconds on a rare word (storage/search.py).
        async for url in empty_database("postgres", tmp_path):
            await asyncio.to_thread(migrate.upgrade, url)
            engine = make_engine(url)
            try:
                async with make_uow_factory(engine)(readonly=True) as uow:
                    await uow.search.search(parse_query("anything"))
                    assert uow.session is not None
                    mode = await uow.session.execute(text("SHOW plan_cache_mode"))
                    assert mode.scalar_one() == "force_custom_plan"
            finally:
                await engine.dispose()


class TestContradictions:
    async def test_a_query_that_excludes_what_it_asks_for_finds_nothing(self, desk: Desk) -> None:
        await desk.ticket("Paper jam", "the paper jam again")
        assert await desk.numbers('"paper jam"') != []
        assert await desk.numbers('"paper jam" -jam') == []
        assert await desk.numbers("paper -pap*") == []


async def _bulk_tickets(uow: AbstractUnitOfWork, customer_id: int, n: int) -> None:
    for i in range(n):
        await uow.tickets.add(
            Ticket.open(
                customer_id=customer_id, subject=f"common {i}", now=T0 + timedelta(hours=1)
            )
        )


class TestSyntaxErrors:
    def test_errors_say_what_is_wrong(self) -> None:
        with pytest.raises(InvalidInput, match="without its closing pair"):
            parse_query('"unbalanced')
        with pytest.raises(InvalidInput, match="only excludes words"):
            parse_query("-alone")


class TestSchema:
    async def test_create_all_builds_the_same_search_objects_as_the_migration(
        self, db_url: str, tmp_path: Path
    ) -> None:
        await asyncio.to_thread(migrate.upgrade, db_url)
        backend = "sqlite" if db_url.startswith("sqlite") else "postgres"
        async for other_url in empty_database(backend, tmp_path / "other"):
            engine = await engine_with_schema(other_url)
            await engine.dispose()
            assert await _search_objects(db_url) == await _search_objects(other_url)
            assert await _search_objects(db_url)

    async def test_downgrade_removes_the_search_objects(self, db_url: str) -> None:
        await asyncio.to_thread(migrate.upgrade, db_url)
        objects = await _search_objects(db_url)
        await asyncio.to_thread(command.downgrade, migrate.alembic_config(db_url), "0004")
        assert await _search_objects(db_url) == []
        await asyncio.to_thread(migrate.upgrade, db_url)
        assert await _search_objects(db_url) == objects

    @pytest.mark.postgres
    async def test_postgres_downgrade_to_0007_restores_the_expression_indexes(
        self, tmp_path: Path
    ) -> None:
        async for url in empty_database("postgres", tmp_path):
            await asyncio.to_thread(migrate.upgrade, url)
            assert await _search_objects(url) == [
                ("column", "ticket_messages.text_tsv", _MESSAGES_TSV),
                ("column", "tickets.subject_tsv", _SUBJECT_TSV),
                ("index", "ix_ticket_messages_text_fts", _gin("ticket_messages", "text_tsv")),
                ("index", "ix_tickets_subject_fts", _gin("tickets", "subject_tsv")),
            ]
            await asyncio.to_thread(command.downgrade, migrate.alembic_config(url), "0007")
            assert await _search_objects(url) == [
                ("index", "ix_ticket_messages_text_fts", _gin("ticket_messages", _MESSAGES_TSV)),
                ("index", "ix_tickets_subject_fts", _gin("tickets", _SUBJECT_TSV)),
            ]
            await asyncio.to_thread(migrate.upgrade, url)
            await asyncio.to_thread(migrate.check, url)


_MESSAGES_TSV = "to_tsvector('simple'::regconfig, COALESCE(text, ''::text))"
_SUBJECT_TSV = "to_tsvector('simple'::regconfig, (subject)::text)"


def _gin(table: str, expression: str) -> str:
    column = "subject" if table == "tickets" else "text"
    return f"CREATE INDEX ix_{table}_{column}_fts ON public.{table} USING gin ({expression})"


@pytest.mark.parametrize(
    ("name", "type_", "table", "hidden"),
    [
        ("subject_tsv", "column", "tickets", True),
        ("text_tsv", "column", "ticket_messages", True),
        # Same names elsewhere are ordinary columns that autogenerate must still compare.
        ("text_tsv", "column", "tickets", False),
        ("subject_tsv", "column", None, False),
        ("subject", "column", "tickets", False),
        ("ix_tickets_subject_fts", "index", "tickets", True),
        ("ticket_messages_fts_data", "table", None, True),
        ("tickets", "table", None, False),
    ],
)
def test_autogenerate_ignores_exactly_the_search_objects(
    name: str, type_: str, table: str | None, hidden: bool
) -> None:
    assert is_search_object(name, type_, table) is hidden


async def _search_objects(url: str) -> list[tuple[str, ...]]:
    """FTS5 tables and triggers on SQLite; tsvector columns and GIN indexes on PostgreSQL."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                sql = (
                    "SELECT name, sql FROM sqlite_master "
                    "WHERE name LIKE '%fts%' AND sql IS NOT NULL ORDER BY name"
                )
                return [(r[0], r[1]) for r in await conn.execute(text(sql))]
            columns = (
                "SELECT 'column', table_name || '.' || column_name, generation_expression "
                "FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND data_type = 'tsvector' ORDER BY 2"
            )
            indexes = (
                "SELECT 'index', indexname, indexdef FROM pg_indexes "
                "WHERE indexname LIKE '%fts%' ORDER BY indexname"
            )
            return [
                (r[0], r[1], r[2])
                for sql in (columns, indexes)
                for r in await conn.execute(text(sql))
            ]
    finally:
        await engine.dispose()
