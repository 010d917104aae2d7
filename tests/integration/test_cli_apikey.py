"""``helpdesk apikey create | list | revoke``: the key printed once, only its hash stored."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from tests.support.cli import clean_env, helpdesk


def test_create_list_revoke(tmp_path: Path) -> None:
    env = clean_env(HELPDESK_DATA_DIR=str(tmp_path / "data"))

    created = helpdesk(
        "apikey", "create", "crm", "--scopes", "tickets:read,tickets:write", env=env, cwd=tmp_path
    )
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)  # one JSON object, nothing else on stdout
    assert key["name"] == "crm"
    assert key["scopes"] == ["tickets:read", "tickets:write"]
    assert key["key"].startswith("hdk_")
    assert "api key created" in created.stderr  # the audit line

    with sqlite3.connect(tmp_path / "data" / "helpdesk.db") as db:
        stored = db.execute("SELECT key_hash FROM api_keys").fetchall()
    assert stored == [(hashlib.sha256(key["key"].encode()).hexdigest(),)]

    taken = helpdesk("apikey", "create", "crm", "--scopes", "stats:read", env=env, cwd=tmp_path)
    assert taken.returncode == 2
    assert "taken" in taken.stderr

    bad = helpdesk("apikey", "create", "x", "--scopes", "tickets:delete", env=env, cwd=tmp_path)
    assert bad.returncode == 2
    assert "scopes" in bad.stderr

    listed = helpdesk("apikey", "list", env=env, cwd=tmp_path)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["name"] for r in rows] == ["crm"]
    assert "key" not in rows[0]

    revoked = helpdesk("apikey", "revoke", "crm", env=env, cwd=tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["revoked_at"] is not None
    assert helpdesk("apikey", "list", env=env, cwd=tmp_path).stdout == ""
    again = helpdesk("apikey", "revoke", "crm", env=env, cwd=tmp_path)
    assert again.returncode == 1
    everything = helpdesk("apikey", "list", "--all", env=env, cwd=tmp_path).stdout
    assert json.loads(everything)["name"] == "crm"
