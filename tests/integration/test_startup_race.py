"""Workers starting together prepare the desk once, and none of them fails doing it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram.utils.i18n import I18n

from bot.app import desk_config_from, make_presenter, prepare_desk
from bot.config import Settings
from bot.texts import make_i18n
from storage import uow_factory as make_uow_factory
from tests.support.db import engine_with_schema

TEAMS = {"billing": "Money", "refund": "Money", "login": "Access", "delivery": "Shipping"}


async def test_three_workers_prepare_the_desk_at_once(db_url: str, tmp_path: Path) -> None:
    settings = Settings(
        bot_token="123456:TEST-token-for-the-emulator-only",
        agent_chat_id=-1001,
        admin_ids=[7, 8],
        data_dir=tmp_path,
        database_url=db_url,
    )
    i18n = make_i18n("en")
    I18n.set_current(i18n)
    presenter = make_presenter(i18n, desk_config_from(settings, is_forum=True))
    engines = [await engine_with_schema(db_url) for _ in range(3)]
    try:
        factories: list[Any] = [make_uow_factory(engine) for engine in engines]
        now = datetime.now(UTC)
        for _round in range(3):  # the same race again: nothing new, nothing fails
            await asyncio.gather(
                *(prepare_desk(f, settings.admin_ids, TEAMS, presenter, now) for f in factories)
            )
        async with factories[0]() as uow:
            teams = sorted(t.name for t in await uow.teams.list())
            categories = sorted(c.key for c in await uow.categories.list())
            admins = sorted(a.telegram_id for a in await uow.agents.list())
            topics = [c for c in await uow.outbox.heads() if c.method == "createForumTopic"]
    finally:
        for engine in engines:
            await engine.dispose()
    assert teams == ["Access", "Money", "Shipping"]
    assert categories == sorted(TEAMS)
    assert admins == [7, 8]
    assert len(topics) == 1  # the triage queue's topic is asked for once
