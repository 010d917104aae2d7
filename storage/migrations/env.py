"""Alembic environment (async). The URL comes from the runner, or HELPDESK_DATABASE_URL."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Collection, Mapping
from typing import Any

from alembic import context
from alembic.runtime.environment import NameFilterParentNames, NameFilterType
from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import Script
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import is_sqlite, make_engine
from storage.fts import is_search_object
from storage.orm import Base

config = context.config
target_metadata = Base.metadata
#: One line per migration applied, nothing when there is none (Alembic's own INFO lines are
#: silenced in bot/logs.py).
log = logging.getLogger("storage.migrations")


def _url() -> str:
    url = config.attributes.get("url") or os.environ.get("HELPDESK_DATABASE_URL")
    if not url:
        raise RuntimeError(
            "no database URL: use 'helpdesk db upgrade' or set HELPDESK_DATABASE_URL"
        )
    return str(url)


def _include_name(name: str | None, type_: NameFilterType, parents: NameFilterParentNames) -> bool:
    # Full-text search objects live outside the metadata (storage/fts.py); a column is known
    # by its table too.
    return not is_search_object(name, type_, parents.get("table_name"))


def _applied(
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    # ``up_revision`` is the script run either way (undone on a downgrade).
    script = step.up_revision
    log.info(
        "migration %s: %s %s",
        "applied" if step.is_upgrade else "reverted",
        step.up_revision_id,
        (script.doc or "").strip() if isinstance(script, Script) else "",
    )


def _configure(**kwargs: object) -> None:
    context.configure(
        on_version_apply=_applied,
        include_name=_include_name,
        target_metadata=target_metadata,
        render_as_batch=is_sqlite(_url()),
        compare_type=True,
        **kwargs,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


#: Workers starting together all upgrade first: on PostgreSQL they queue on this lock, and
#: whoever comes after the first finds the database at head.
MIGRATION_LOCK = 7_430_151


def _run_sync(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(_run_async())
