"""typed outbox references: queued calls' placeholders rewritten from the old "$ref" form

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 13:30:00.000000

Calls queued before this version carry ``{"$ref": name, "ticket": id, ...}`` placeholders;
the sender now reads :class:`models.delivery.Ref` values stored as ``{"@ref": kind, "id": ...}``
and uploads as ``{"@upload": name, "b64": ...}``. Only calls still waiting are rewritten (sent
ones are history); a downgrade writes them back.
"""

import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OWNER = ("ticket", "message", "incident")


def _typed(value: dict[str, Any]) -> dict[str, Any]:
    name = value["$ref"]
    if name == "upload":
        return {"@upload": value.get("name") or "file", "b64": value.get("b64", "")}
    if name == "album":
        name = "album_for_agents" if value.get("to") == "agents" else "album_for_customer"
    typed: dict[str, Any] = {"@ref": name}
    for key in _OWNER:
        if key in value:
            typed["id"] = value[key]
    for key in ("required", "own", "group"):
        if value.get(key):
            typed[key] = value[key]
    if value.get("text"):
        typed["label"] = value["text"]
    return typed


def _legacy(value: dict[str, Any]) -> dict[str, Any]:
    if "@upload" in value:
        return {"$ref": "upload", "name": value["@upload"], "b64": value.get("b64", "")}
    name = value["@ref"]
    legacy: dict[str, Any] = {"$ref": name}
    if name.startswith("album_for_"):
        legacy = {"$ref": "album", "to": "agents" if name.endswith("agents") else "customer"}
    owner = "incident" if name.startswith("incident_") else "ticket"
    if name in ("reply_agents_copy", "reply_customer_copy", "customer_copy"):
        owner = "message"
    if value.get("id") is not None:
        legacy[owner] = value["id"]
    for key in ("required", "own", "group"):
        if value.get(key):
            legacy[key] = value[key]
    if value.get("label"):
        legacy["text"] = value["label"]
    return legacy


def _rewrite(marker: str, tags: tuple[str, ...], convert: Callable[..., dict[str, Any]]) -> None:
    bind = op.get_bind()
    outbox = sa.table(
        "outbox", sa.column("id", sa.Integer), sa.column("params"), sa.column("status")
    )
    rows = bind.execute(
        sa.select(outbox.c.id, outbox.c.params).where(
            outbox.c.status == "pending", outbox.c.params.like(f'%"{marker}%')
        )
    ).all()
    for row_id, text in rows:
        params = json.loads(text)
        for key, value in params.items():
            if isinstance(value, dict) and any(tag in value for tag in tags):
                params[key] = convert(value)
        bind.execute(
            sa.update(outbox)
            .where(outbox.c.id == row_id)
            .values(params=json.dumps(params, ensure_ascii=False))
        )


def upgrade() -> None:
    _rewrite("$ref", ("$ref",), _typed)


def downgrade() -> None:
    _rewrite("@", ("@ref", "@upload"), _legacy)
