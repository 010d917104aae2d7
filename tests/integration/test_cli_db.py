"""``helpdesk db upgrade | current | check`` on an empty database of each backend."""

from __future__ import annotations

import json
from pathlib import Path

from storage import migrate
from tests.support.cli import clean_env, helpdesk


def test_db_commands_on_an_empty_database(db_url: str, tmp_path: Path) -> None:
    env = clean_env(HELPDESK_DATABASE_URL=db_url)

    before = helpdesk("db", "current", env=env, cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    assert json.loads(before.stdout)["current"] is None

    upgraded = helpdesk("db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    state = json.loads(upgraded.stdout)
    assert state == {
        "current": migrate.head_revision(),
        "head": migrate.head_revision(),
        "up_to_date": True,
    }

    checked = helpdesk("db", "check", env=env, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "agree" in checked.stdout


def test_default_database_is_created_in_the_data_dir(tmp_path: Path) -> None:
    env = clean_env(HELPDESK_DATA_DIR=str(tmp_path / "data"))
    result = helpdesk("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "helpdesk.db").exists()


def test_unreachable_database_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    env = clean_env(HELPDESK_DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    result = helpdesk("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot migrate the database" in result.stderr
    assert "Traceback" not in result.stderr
