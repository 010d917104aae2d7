"""Settings admins change at run time (bot.services.desk_settings), their own texts
(bot.services.texts), and the greeting that uses them (bot.services.customers.welcome)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.adapters.presenter import Presenter
from bot.services import customers, desk_settings, texts
from bot.services.ports import TelegramUser
from models import CollisionMode, InvalidInput, NotAllowed
from tests.support.fake_uow import FakeDatabase
from tests.support.services import ADA, BOB, T0, store_staff

ANN = TelegramUser(id=501, first_name="Ann", username="ann", language_code="de-AT")


@pytest.fixture(autouse=True)
async def staff(db: FakeDatabase) -> None:
    await store_staff(db)


async def setting(db: FakeDatabase, name: str, fallback: object = None) -> object:
    async with db.uow() as uow:
        return await desk_settings.get(uow, name, fallback)


class TestSet:
    async def test_a_valid_value_is_stored_and_read_parsed(self, db: FakeDatabase) -> None:
        assert await setting(db, "collision") is CollisionMode.WARN  # the default
        async with db.uow() as uow:
            await desk_settings.change(uow, ADA, "collision", "block", T0)
            await desk_settings.change(uow, ADA, "reopen_window", "3d", T0)
        assert db.settings == {"setting:collision": "block", "setting:reopen_window": "3d"}
        assert await setting(db, "collision") is CollisionMode.BLOCK
        assert await setting(db, "reopen_window") == timedelta(days=3)

    async def test_without_a_value_the_environments_counts(self, db: FakeDatabase) -> None:
        assert await setting(db, "reopen_window", timedelta(hours=5)) == timedelta(hours=5)

    @pytest.mark.parametrize(
        ("name", "value", "reason"),
        [
            ("colour", "blue", "known settings"),
            ("collision", "", "give a value"),
            ("collision", "maybe", "expected warn or block"),
            ("reopen_window", "100d", "at most 90 days"),
        ],
    )
    async def test_invalid_values_are_refused(
        self, db: FakeDatabase, name: str, value: str, reason: str
    ) -> None:
        async with db.uow() as uow:
            with pytest.raises(InvalidInput, match=reason):
                await desk_settings.change(uow, ADA, name, value, T0)
        assert db.settings == {}

    async def test_only_admins(self, db: FakeDatabase) -> None:
        async with db.uow() as uow:
            with pytest.raises(NotAllowed):
                await desk_settings.change(uow, BOB, "collision", "block", T0)
        assert db.settings == {}

    async def test_the_overview_counts_agents_by_role(self, db: FakeDatabase) -> None:
        async with db.uow() as uow:
            overview = await desk_settings.overview(uow, ADA, {"reopen_window": "72h"})
        assert overview.agents_by_role == {"admin": 1, "agent": 1}
        shown = {s.name: value for s, value in overview.settings}
        assert (shown["reopen_window"], shown["collision"]) == ("72h", "warn")


class TestTexts:
    async def text(
        self, db: FakeDatabase, name: str, language: str, wording: str | None
    ) -> str | None:
        async with db.uow() as uow:
            return await texts.set_text(uow, ADA, name, language, wording, T0)

    async def test_a_custom_welcome_greets_in_the_customers_language(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        assert await self.text(db, "welcome", "de", "Hallo {name}!") == "Hallo {name}!"
        async with db.uow() as uow:
            customer = await customers.welcome(uow, presenter, ANN, "de", T0)
        stored = db.row("customers", customer.id)
        assert (stored.telegram_id, stored.language, stored.language_code) == (501, "de", "de-AT")
        assert [(c.chat_id, c.params["text"]) for c in db.outbox] == [(501, "Hallo Ann!")]

    async def test_reset_brings_the_desks_text_back(
        self, db: FakeDatabase, presenter: Presenter
    ) -> None:
        await self.text(db, "welcome", "en", "Hi {name}.")
        assert db.settings != {}
        assert await self.text(db, "welcome", "en", None) is None
        assert db.settings == {}
        async with db.uow() as uow:
            await customers.welcome(uow, presenter, ANN, "en", T0)
        assert db.outbox[0].params["text"].startswith("Hello, Ann!")

    @pytest.mark.parametrize(
        ("name", "wording", "reason"),
        [
            ("welcome", "Hi {ticket}", "placeholder"),
            ("registered", "  ", "empty"),
            ("farewell", "Bye {name}", "expected one of: welcome, registered"),
            ("farewell", None, "expected one of"),
        ],
    )
    async def test_refusals(
        self, db: FakeDatabase, name: str, wording: str | None, reason: str
    ) -> None:
        # The handler's parser refuses an unknown name first (tests/unit/test_command_parsing.py);
        # the use case checks it again for its other callers.
        with pytest.raises(InvalidInput, match=reason):
            await self.text(db, name, "en", wording)
        assert db.settings == {}

    async def test_only_admins(self, db: FakeDatabase) -> None:
        async with db.uow() as uow:
            with pytest.raises(NotAllowed):
                await texts.set_text(uow, BOB, "welcome", "en", "Hi {name}.", T0)
        assert db.settings == {}


async def test_a_returning_customer_is_refreshed_not_added_again(
    db: FakeDatabase, presenter: Presenter
) -> None:
    async with db.uow() as uow:
        await customers.welcome(uow, presenter, ANN, "de", T0)
    renamed = TelegramUser(id=501, first_name="Anna", username=None, language_code=None)
    async with db.uow() as uow:
        await customers.welcome(uow, presenter, renamed, "de", T0 + timedelta(days=1))
    (stored,) = db.rows("customers")
    # Telegram leaves the language code out at times: the last known one stays.
    assert (stored.first_name, stored.username, stored.language_code) == ("Anna", None, "de-AT")
    assert stored.created_at == T0
