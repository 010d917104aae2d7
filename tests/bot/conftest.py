from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import triage
from tests.support.desk import Desk, make_desk
from triage.compact import CompactTriage


@pytest.fixture(scope="session")
def seed_model() -> CompactTriage:
    """The default triage model, trained once per session on the seed examples, in the
    compact form the bot serves with."""
    compact = triage.default_model().compact
    assert compact is not None
    return compact


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    """The bot in-process with a forum agents' group."""
    d = await make_desk(tmp_path)
    yield d
    await d.close()


@pytest.fixture
async def plain_desk(tmp_path: Path) -> AsyncIterator[Desk]:
    """The bot in-process with an agents' group without topics."""
    d = await make_desk(tmp_path, forum=False)
    yield d
    await d.close()
