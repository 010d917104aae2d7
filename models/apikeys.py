"""API keys: who may call the REST API, with which scopes.

A key is shown once, when it is made; only its SHA-256 is stored. The prefix makes a leaked key
recognisable (secret scanners, logs) and tells a key from other tokens at a glance.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from models.errors import InvalidInput

KEY_PREFIX = "hdk_"

TICKETS_READ = "tickets:read"
TICKETS_WRITE = "tickets:write"
MESSAGES_WRITE = "messages:write"
PEOPLE_READ = "people:read"
STATS_READ = "stats:read"
SCOPES = (TICKETS_READ, TICKETS_WRITE, MESSAGES_WRITE, PEOPLE_READ, STATS_READ)

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class ApiKey:
    """A key's record: its name (shown in the topic as "via API: <name>"), never the key."""

    name: str
    key_hash: str
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: int | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    id: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return self.active and scope in self.scopes


@dataclass(frozen=True)
class NewKey:
    """A key just made: the record to store and the key itself, to show once."""

    record: ApiKey
    key: str = field(repr=False)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_name(text: str) -> str:
    name = text.strip()
    if not NAME_PATTERN.match(name):
        raise InvalidInput(
            "name", name[:70], "expected 1-64 letters, digits, '_', '.' or '-' (no spaces)"
        )
    return name


def parse_scopes(text: str) -> tuple[str, ...]:
    """``tickets:read,tickets:write`` (commas and/or spaces) into known scopes, in order."""
    wanted = [s for s in re.split(r"[,\s]+", text.strip().lower()) if s]
    if not wanted:
        raise InvalidInput("scopes", text, "expected one or more of: " + ", ".join(SCOPES))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise InvalidInput("scopes", ",".join(unknown), "expected: " + ", ".join(SCOPES))
    return tuple(s for s in SCOPES if s in wanted)


def new_key(name: str, scopes: tuple[str, ...], now: datetime, created_by: int | None) -> NewKey:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(
        name=name, key_hash=hash_key(key), scopes=scopes, created_at=now, created_by=created_by
    )
    return NewKey(record, key)
