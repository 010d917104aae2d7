"""Search benchmark: ticket full-text search on generated data; prints ONE JSON object.

Generates N messages (default 1,000,000, five per ticket on average) of help-desk text in English
and Russian from the word lists below (Zipf-distributed, so a few words are in a large share of
messages and most are rare), loads them into SQLite (a temp file, schema by the migrations, the
FTS5 triggers doing the indexing) and, when a URL is given (``--postgres`` or
HELPDESK_TEST_POSTGRES_URL), into a fresh PostgreSQL database (COPY; the stored tsvector
columns and their GIN indexes are made by the migrations before the load). Then runs
``--queries`` searches of mixed shapes through ``uow.search.page`` exactly as the bot would
(read-only unit of work, limit 10) and reports p50/p95/p99 per backend and per shape, with
generation time and database size.

    python bench/search.py [--messages 1000000] [--queries 200] [--postgres URL] [--backend both]

SQLite's index is merged (FTS5 'optimize') after the load, as a maintenance job would; the
timing is reported separately (``optimize_s``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from models.search import parse_query  # noqa: E402
from storage import make_engine, migrate, uow_factory  # noqa: E402
from storage.search import CANDIDATES, PHRASE_CANDIDATES  # noqa: E402

POSTGRES_ENV = "HELPDESK_TEST_POSTGRES_URL"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _words(text: str) -> list[str]:
    return text.split()


# Written for this benchmark: the words of a help desk, most frequent first within each list.
EN_COMMON = _words("""
the i to and a my is it not you of in for please on with have this can was but me order
help account card payment thanks hello problem do app be at no error from can't why get
""")
EN_WORDS = _words("""
refund delivery password login invoice subscription charge charged balance transfer bank
update cancel cancelled package tracking address email phone number code verification
screen crash crashes loading slow support agent manager ticket issue working broken failed
declined blocked locked reset change changed wrong missing received sent waiting days week
yesterday today tomorrow morning evening money price discount coupon promo bonus points
return exchange size color item items product shop store online website browser android
iphone version install installed notification notifications message messages chat call
callback contact urgent again still already never always sometimes doesn't won't cannot
unable access download upload file photo document passport identity confirm confirmation
pending processing status shipped courier warehouse damaged replacement warranty repair
printer scanner laptop battery charger cable wifi router internet connection network
server timeout outage maintenance backup restore data lost deleted duplicate double twice
limit fee fees tax receipt statement currency exchange rate abroad travel holiday flight
hotel booking reservation seat ticketing gate luggage baggage insurance claim policy
premium basic plan upgrade downgrade trial expired renewal auto renew billing cycle month
annual yearly contract terms privacy settings profile avatar username nickname language
""")
RU_COMMON = _words("""
не и в я на что с по у меня как это но здравствуйте пожалуйста спасибо заказ помогите
карта оплата ошибка приложение почему уже ещё нет где когда
""")
RU_WORDS = _words("""
возврат доставка пароль вход счёт подписка списание списали баланс перевод банк обновление
отмена отменить посылка трекинг адрес почта телефон номер код подтверждение экран вылетает
загрузка медленно поддержка оператор менеджер заявка проблема работает сломался сломалась
отклонена заблокирована заблокировали сбросить изменить неправильный пропал получил
отправил жду дней неделю вчера сегодня завтра утром вечером деньги цена скидка купон
промокод бонусы баллы вернуть обменять размер цвет товар товары магазин сайт браузер
андроид айфон версия установить уведомление уведомления сообщение сообщения чат звонок
перезвоните срочно снова всё ещё никогда всегда иногда невозможно доступ скачать загрузить
файл фото документ паспорт личность подтвердить ожидание обработка статус отправлен курьер
склад повреждён замена гарантия ремонт принтер сканер ноутбук батарея зарядка кабель роутер
интернет соединение сеть сервер таймаут сбой обслуживание резервная копия данные потерял
удалил дубль дважды лимит комиссия налог чек выписка валюта курс заграницей путешествие
отпуск рейс отель бронирование место багаж страховка полис тариф премиум базовый пробный
истёк продление автопродление месяц годовой договор условия конфиденциальность настройки
профиль аватар логин язык
""")


def _zipf(words: list[str], s: float = 1.05) -> list[float]:
    return list(accumulate(1.0 / (i + 1) ** s for i in range(len(words))))


class Generator:
    """Deterministic messages: a ticket is English or Russian; words drawn Zipf-like, with a
    common-word share like real text and rare product codes now and then."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.lang = {
            "en": (EN_COMMON, _zipf(EN_COMMON), EN_WORDS, _zipf(EN_WORDS)),
            "ru": (RU_COMMON, _zipf(RU_COMMON), RU_WORDS, _zipf(RU_WORDS)),
        }

    def message(self, lang: str) -> str:
        common, common_w, words, words_w = self.lang[lang]
        rng = self.rng
        n = max(3, int(rng.lognormvariate(2.7, 0.5)))  # median ~15 words
        n_common = n // 2
        picked = rng.choices(common, cum_weights=common_w, k=n_common)
        picked += rng.choices(words, cum_weights=words_w, k=n - n_common)
        rng.shuffle(picked)
        if rng.random() < 0.05:
            picked.append(f"#{rng.choice('ABCDEFGH')}{rng.randrange(10_000, 99_999)}")
        body = " ".join(picked)
        return body[0].upper() + body[1:] + rng.choice([".", "?", "!", "", " :("])


def generate(n_messages: int, n_tickets: int, seed: int) -> Iterator[tuple[Any, ...]]:
    """Yield ("ticket", row) and ("message", row) in id order; tickets before their messages."""
    gen = Generator(seed)
    rng = gen.rng
    # Split n_messages over n_tickets (each ticket has >= 1 message).
    cuts = sorted(rng.sample(range(1, n_messages), n_tickets - 1))
    counts = [b - a for a, b in zip([0, *cuts], [*cuts, n_messages], strict=True)]
    msg_id = 0
    step = timedelta(seconds=365 * 24 * 3600 / max(n_tickets, 1))
    for t, count in enumerate(counts, start=1):
        lang = "ru" if rng.random() < 0.4 else "en"
        created = T0 + step * t
        first = gen.message(lang)
        subject = " ".join(first.split()[:8])
        status = rng.choice(["new", "open", "waiting", "resolved", "closed", "closed"])
        yield ("ticket", (t, t, 1 + t // 4, subject, status, created))
        for k in range(count):
            msg_id += 1
            body = first if k == 0 else gen.message(lang)
            direction = "customer" if k % 2 == 0 else "agent"
            yield ("message", (msg_id, t, direction, created + timedelta(minutes=k), body))


# --- loading ------------------------------------------------------------------------------------

TICKET_COLUMNS = (
    "id, number, customer_id, subject, status, priority, created_at, updated_at, "
    "needs_human, sla_breached"
)
MESSAGE_COLUMNS = "id, ticket_id, direction, sent_at, text, media_kind, edited"


def _naive(at: datetime) -> str:
    """SQLite stores UTC datetimes as naive text (storage.orm.UTCDateTime)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def load_sqlite(path: Path, n_messages: int, n_tickets: int, seed: int) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(url)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA foreign_keys=OFF")
    started = time.perf_counter()
    db.execute("BEGIN")
    n_customers = n_tickets // 4 + 2
    db.executemany(
        "INSERT INTO customers (id, telegram_id, first_name, blocked_bot, banned, "
        "wants_new_ticket, created_at) VALUES (?, ?, 'Bench', 0, 0, 0, ?)",
        ((i, 10_000 + i, _naive(T0)) for i in range(1, n_customers + 1)),
    )
    tickets: list[tuple[Any, ...]] = []
    messages: list[tuple[Any, ...]] = []

    def flush() -> None:
        db.executemany(
            f"INSERT INTO tickets ({TICKET_COLUMNS}) VALUES (?, ?, ?, ?, ?, 'normal', ?, ?, 0, 0)",
            ((*r[:5], _naive(r[5]), _naive(r[5])) for r in tickets),
        )
        db.executemany(
            f"INSERT INTO ticket_messages ({MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, 'text', 0)",
            ((*r[:3], _naive(r[3]), r[4]) for r in messages),
        )
        tickets.clear()
        messages.clear()

    for kind, row in generate(n_messages, n_tickets, seed):
        (tickets if kind == "ticket" else messages).append(row)
        if len(messages) >= 20_000:
            flush()
    flush()
    db.execute("UPDATE counters SET value = ? WHERE name = 'ticket'", (n_tickets,))
    db.execute("COMMIT")
    generated = time.perf_counter() - started
    started = time.perf_counter()
    for table in ("tickets_fts", "ticket_messages_fts"):
        db.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    optimized = time.perf_counter() - started
    db.close()
    return {
        "url": url,
        "generation_s": round(generated, 1),
        "optimize_s": round(optimized, 1),
        "db_bytes": path.stat().st_size,
    }


async def load_postgres(url: str, n_messages: int, n_tickets: int, seed: int) -> dict[str, Any]:
    import asyncpg

    await asyncio.to_thread(migrate.upgrade, url)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        n_customers = n_tickets // 4 + 2
        await conn.copy_records_to_table(
            "customers",
            records=[
                (i, 10_000 + i, "Bench", False, False, False, T0)
                for i in range(1, n_customers + 1)
            ],
            columns=[
                "id", "telegram_id", "first_name", "blocked_bot", "banned",
                "wants_new_ticket", "created_at",
            ],
        )  # fmt: skip
        tickets: list[tuple[Any, ...]] = []
        messages: list[tuple[Any, ...]] = []

        async def flush() -> None:
            await conn.copy_records_to_table(
                "tickets",
                records=[(*r[:5], "normal", r[5], r[5], False, False) for r in tickets],
                columns=[c.strip() for c in TICKET_COLUMNS.split(",")],
            )
            await conn.copy_records_to_table(
                "ticket_messages",
                records=[(*r, "text", False) for r in messages],
                columns=[c.strip() for c in MESSAGE_COLUMNS.split(",")],
            )
            tickets.clear()
            messages.clear()

        for kind, row in generate(n_messages, n_tickets, seed):
            (tickets if kind == "ticket" else messages).append(row)
            if len(messages) >= 50_000:
                await flush()
        await flush()
        await conn.execute("UPDATE counters SET value = $1 WHERE name = 'ticket'", n_tickets)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE tickets")
        await conn.execute("VACUUM ANALYZE ticket_messages")
        analyzed = time.perf_counter() - started
        size = await conn.fetchval("SELECT pg_database_size(current_database())")
    finally:
        await conn.close()
    return {
        "url": url,
        "generation_s": round(generated, 1),
        "analyze_s": round(analyzed, 1),
        "db_bytes": size,
    }


# --- queries ------------------------------------------------------------------------------------

SHAPES = ("rare", "common", "two_words", "phrase", "prefix", "exclusion", "or")


def make_queries(n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed + 1)
    gen = Generator(seed + 2)
    out: list[tuple[str, str]] = []
    for i in range(n):
        shape = SHAPES[i % len(SHAPES)]
        lang = "ru" if rng.random() < 0.4 else "en"
        common, _, words, _ = gen.lang[lang]
        head, tail = words[: len(words) // 5], words[len(words) // 2 :]
        if shape == "rare":
            q = rng.choice(tail)
        elif shape == "common":
            q = rng.choice(common[:8] + head[:4])
        elif shape == "two_words":
            q = f"{rng.choice(head)} {rng.choice(words)}"
        elif shape == "phrase":
            msg = gen.message(lang).split()
            k = rng.randrange(max(1, len(msg) - 1))
            q = '"' + " ".join(msg[k : k + 2]) + '"'
        elif shape == "prefix":
            word = rng.choice([w for w in words if len(w) >= 6])
            q = word[: rng.choice([3, 4, 5])] + "*"
        elif shape == "exclusion":
            q = f"{rng.choice(head)} -{rng.choice(head)}"
        else:
            q = f"{rng.choice(tail)} OR {rng.choice(words)}"
        out.append((shape, q))
    return out


def _pcts(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        values = values * 2 or [0.0, 0.0]
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50": round(q[49], 2),
        "p95": round(q[94], 2),
        "p99": round(q[98], 2),
        "max": round(max(values), 2),
    }


async def run_queries(url: str, queries: list[tuple[str, str]]) -> dict[str, Any]:
    engine = make_engine(url)
    factory = uow_factory(engine)
    try:
        for _, q in queries[: len(SHAPES)]:  # warm the caches once per shape
            async with factory(readonly=True) as uow:
                await uow.search.page(parse_query(q), limit=10)
        latencies: list[float] = []
        by_shape: dict[str, list[float]] = {s: [] for s in SHAPES}
        hits = 0
        empty = 0
        for shape, q in queries:
            started = time.perf_counter()
            async with factory(readonly=True) as uow:
                page = await uow.search.page(parse_query(q), limit=10)
            ms = (time.perf_counter() - started) * 1000
            latencies.append(ms)
            by_shape[shape].append(ms)
            hits += len(page.hits)
            empty += not page.hits
        async with engine.connect() as conn:
            tickets = (await conn.execute(text("SELECT count(*) FROM tickets"))).scalar_one()
            messages = (
                await conn.execute(text("SELECT count(*) FROM ticket_messages"))
            ).scalar_one()
    finally:
        await engine.dispose()
    return {
        "rows": {"tickets": tickets, "messages": messages},
        "queries": len(queries),
        "latency_ms": _pcts(latencies),
        "by_shape_ms": {s: _pcts(v) for s, v in by_shape.items() if v},
        "avg_hits_per_page": round(hits / max(len(queries), 1), 2),
        "empty_results": empty,
    }


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
    }


async def _postgres_version(url: str) -> str:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return str((await conn.execute(text("SHOW server_version"))).scalar_one())
    finally:
        await engine.dispose()


async def _admin(url: str, statement: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def bench_postgres(
    base_url: str, n_messages: int, n_tickets: int, queries: list[tuple[str, str]], seed: int
) -> dict[str, Any]:
    name = f"helpdesk_bench_{uuid.uuid4().hex[:10]}"
    await _admin(base_url, f'CREATE DATABASE "{name}"')
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    try:
        loaded = await load_postgres(url, n_messages, n_tickets, seed)
        result = await run_queries(url, queries)
        loaded.pop("url")
        return {"server": await _postgres_version(url), **loaded, **result}
    finally:
        await _admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def bench_sqlite(
    n_messages: int, n_tickets: int, queries: list[tuple[str, str]], seed: int
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="helpdesk-search-") as tmp:
        loaded = await asyncio.to_thread(
            load_sqlite, Path(tmp) / "bench.db", n_messages, n_tickets, seed
        )
        result = await run_queries(loaded.pop("url"), queries)
        return {**loaded, **result}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--tickets", type=int, help="default: messages / 5")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backend", choices=["both", "sqlite", "postgres"], default="both")
    parser.add_argument("--postgres", default=os.environ.get(POSTGRES_ENV), help="server URL")
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    n_tickets = args.tickets or max(1, args.messages // 5)
    if not 0 < n_tickets <= args.messages:
        raise SystemExit("need 1 <= tickets <= messages")
    queries = make_queries(args.queries, args.seed)
    out: dict[str, Any] = {
        "machine": machine(),
        "params": {
            "messages": args.messages,
            "tickets": n_tickets,
            "queries": len(queries),
            "page_size": 10,
            "candidate_cap": CANDIDATES,
            "postgres_phrase_candidate_cap": PHRASE_CANDIDATES,
            "seed": args.seed,
            "sample_queries": dict(reversed(queries)),
        },
    }
    if args.backend in ("both", "sqlite"):
        out["sqlite"] = await bench_sqlite(args.messages, n_tickets, queries, args.seed)
    if args.backend in ("both", "postgres"):
        if args.postgres:
            out["postgres"] = await bench_postgres(
                args.postgres, args.messages, n_tickets, queries, args.seed
            )
        else:
            out["postgres"] = {"skipped": f"no --postgres URL and {POSTGRES_ENV} unset"}
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return out


if __name__ == "__main__":
    asyncio.run(main())
