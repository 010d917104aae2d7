"""Service tests on the in-memory unit of work: a fake database, the real presenter."""

from __future__ import annotations

import pytest
from aiogram.utils.i18n import I18n

from bot.adapters.presenter import Presenter
from bot.texts import make_i18n
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def presenter() -> Presenter:
    i18n = make_i18n("en")
    I18n.set_current(i18n)
    return Presenter(i18n, agent_chat_id=AGENTS_CHAT)
