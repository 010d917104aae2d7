"""Migrations build the schema on an empty database, and agree with the models."""

from __future__ import annotations

import asyncio
import json
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from storage import migrate

ROOT = Path(__file__).resolve().parents[2]


async def test_upgrade_head_on_empty_database_then_no_drift(db_url: str) -> None:
    assert await asyncio.to_thread(migrate.current, db_url) is None
    await asyncio.to_thread(migrate.upgrade, db_url)
    assert await asyncio.to_thread(migrate.current, db_url) == migrate.head_revision()
    await asyncio.to_thread(migrate.check, db_url)


def test_the_head_constant_is_alembic_s_head() -> None:
    assert migrate.head_revision() == migrate.HEAD


async def test_a_current_database_is_recognised_without_loading_alembic(db_url: str) -> None:
    assert not await asyncio.to_thread(migrate.is_current, db_url)
    await asyncio.to_thread(migrate.upgrade, db_url)
    assert await asyncio.to_thread(migrate.is_current, db_url)
    code = (
        "import sys; from storage import migrate; migrate.upgrade(sys.argv[1]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, db_url, cwd=ROOT, stdout=PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    assert out.decode().strip() == "[]"


async def test_upgrade_is_idempotent(sqlite_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, sqlite_url)
    await asyncio.to_thread(migrate.upgrade, sqlite_url)
    assert await asyncio.to_thread(migrate.current, sqlite_url) == migrate.head_revision()


async def test_workers_starting_together_upgrade_once(db_url: str) -> None:
    """Several workers run the migrations at start-up at the same moment: one applies them,
    the others wait and find the database at head (no "table already exists")."""
    script = (
        "import sys; from storage import migrate; migrate.upgrade(sys.argv[1]);"
        " print(migrate.current(sys.argv[1]))"
    )
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, db_url, stdout=PIPE, stderr=PIPE, cwd=ROOT
        )
        for _ in range(3)
    ]
    results = [await p.communicate() for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
        assert out.decode().strip() == migrate.head_revision()


async def test_start_up_logs_one_line_per_migration_applied_and_none_when_none(
    sqlite_url: str,
) -> None:
    """With the bot's logging set up, Alembic's own chatter stays quiet: a fresh database logs
    one line per revision applied, an up-to-date one logs nothing."""
    script = (
        "import sys; from bot.logs import setup_logging; from storage import migrate;"
        " setup_logging('text', 'INFO'); migrate.upgrade(sys.argv[1])"
    )

    async def upgrade_once() -> list[str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, sqlite_url, stdout=PIPE, stderr=PIPE, cwd=ROOT
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()[-2000:]
        return (out + err).decode().splitlines()

    revisions = sorted(p.name for p in (ROOT / "storage/migrations/versions").glob("0*.py"))
    first = await upgrade_once()
    assert len(first) == len(revisions), first
    assert all("migration applied" in line for line in first)
    assert revisions[0].split("_")[0] in first[0]
    assert await upgrade_once() == []


async def test_calls_queued_before_typed_references_keep_their_meaning(db_url: str) -> None:
    """0016: a call queued by the previous version (``{"$ref": ...}`` placeholders) is read by
    this one as typed references; sent calls are left as history; a downgrade writes it back."""
    from alembic import command

    from models.delivery import Channel, Ref, RefKind, Upload
    from storage.db import make_engine
    from storage.delivery import OutboxRepository

    legacy = {
        "chat_id": -100,
        "text": {"$ref": "card_text", "ticket": 7},
        "message_thread_id": {"$ref": "thread", "ticket": 7, "own": True},
        "message_ids": {"$ref": "album", "ticket": 7, "group": "g1", "to": "agents"},
        "reply_markup": {"$ref": "ticket_button", "ticket": 7, "text": "Open"},
        "photo": {"$ref": "upload", "name": "a.png", "b64": "AAE="},
        "reply_parameters": {"message_id": 5},
    }
    await asyncio.to_thread(migrate.upgrade, db_url, "0015")
    engine = make_engine(db_url)
    insert = text(
        "INSERT INTO outbox (chat_id, method, params, lane, status, attempts, created_at)"
        " VALUES (-100, 'sendMessage', :params, 0, :status, 0, CURRENT_TIMESTAMP)"
    )
    async with engine.begin() as conn:
        await conn.execute(insert, {"params": json.dumps(legacy), "status": "pending"})
        await conn.execute(insert, {"params": json.dumps(legacy), "status": "sent"})
    await asyncio.to_thread(migrate.upgrade, db_url)

    async with AsyncSession(engine) as session:
        pending = await OutboxRepository(session).next_in((Channel.TELEGRAM, -100))
        rows = (await session.execute(text("SELECT params FROM outbox ORDER BY id"))).all()
    assert pending is not None
    assert pending.params == {
        "chat_id": -100,
        "text": Ref(RefKind.CARD_TEXT, 7),
        "message_thread_id": Ref(RefKind.THREAD, 7, own=True),
        "message_ids": Ref(RefKind.ALBUM_FOR_AGENTS, 7, group="g1"),
        "reply_markup": Ref(RefKind.TICKET_BUTTON, 7, label="Open"),
        "photo": Upload("a.png", b"\x00\x01"),
        "reply_parameters": {"message_id": 5},
    }
    assert json.loads(rows[1][0]) == legacy  # sent: history, untouched

    await asyncio.to_thread(command.downgrade, migrate.alembic_config(db_url), "0015")
    async with engine.connect() as conn:
        back = (await conn.execute(text("SELECT params FROM outbox ORDER BY id"))).all()
    await engine.dispose()
    assert [json.loads(p) for (p,) in back] == [legacy, legacy]


async def test_webhook_deliveries_move_to_their_channel(db_url: str) -> None:
    """0017: a delivery queued under an endpoint's old fake chat id is on the webhook channel
    with the endpoint's id; a Telegram call stays where it was; a downgrade puts both back."""
    from alembic import command

    from models.delivery import Channel
    from storage.db import make_engine
    from storage.delivery import OutboxRepository

    old_key = -(2**60) - 3  # endpoint 3, as 0016 and before queued it
    await asyncio.to_thread(migrate.upgrade, db_url, "0016")
    engine = make_engine(db_url)
    insert = text(
        "INSERT INTO outbox (chat_id, method, params, lane, status, attempts, created_at)"
        " VALUES (:chat, :method, '{}', 0, 'pending', 0, CURRENT_TIMESTAMP)"
    )
    async with engine.begin() as conn:
        await conn.execute(insert, {"chat": old_key, "method": "webhook"})
        await conn.execute(insert, {"chat": 3, "method": "sendMessage"})
    await asyncio.to_thread(migrate.upgrade, db_url)

    async with AsyncSession(engine) as session:
        heads = await OutboxRepository(session).heads()
    assert sorted((c.channel, c.chat_id, c.method) for c in heads) == [
        (Channel.TELEGRAM, 3, "sendMessage"),
        (Channel.WEBHOOK, 3, "webhook"),
    ]

    await asyncio.to_thread(command.downgrade, migrate.alembic_config(db_url), "0016")
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT chat_id, method FROM outbox ORDER BY id"))).all()
    await engine.dispose()
    assert [tuple(r) for r in rows] == [(old_key, "webhook"), (3, "sendMessage")]
