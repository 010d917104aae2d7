"""Canned answers: reusable replies with placeholders, one version per language."""

from __future__ import annotations

import re
import string
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from models.errors import InvalidInput

#: What a canned answer may mention, and what each stands for.
PLACEHOLDERS = {
    "name": "the customer's first name",
    "ticket": "the ticket number, like #42",
    "agent": "the answering agent's name",
}
KEY_MAX = 32
TEXT_MAX = 3500  # leaves room for a signature under Telegram's 4096 characters
_KEY = re.compile(r"[a-z0-9][a-z0-9_.-]*")


def parse_key(text: str) -> str:
    """A canned answer's key as typed: one word of lower-case letters, digits, ``_ . -``."""
    key = text.strip().lower()
    if not _KEY.fullmatch(key) or len(key) > KEY_MAX:
        raise InvalidInput(
            "key", text, f"a key is one word of letters, digits, '_', '.' or '-', up to {KEY_MAX}"
        )
    return key


def check_template(text: str, allowed: Collection[str] = tuple(PLACEHOLDERS)) -> str:
    """The body of a canned answer: non-empty, not too long, only known ``{placeholders}``.

    A literal brace is written doubled (``{{`` and ``}}``), as in Python's format strings.
    """
    body = text.strip()
    if not body:
        raise InvalidInput("text", text, "the answer is empty")
    if len(body) > TEXT_MAX:
        raise InvalidInput("text", len(body), f"the answer is longer than {TEXT_MAX} characters")
    known = ", ".join("{" + p + "}" for p in allowed)
    try:
        fields = [f for _, f, spec, conv in string.Formatter().parse(body) if f is not None]
    except ValueError:
        raise InvalidInput(
            "text",
            body[:40],
            f"unbalanced braces; write {{{{ and }}}} for literal braces; placeholders: {known}",
        ) from None
    for name in fields:
        if name not in allowed:
            raise InvalidInput("placeholder", "{" + name + "}", f"unknown; use {known}")
    return body


@dataclass
class CannedAnswer:
    key: str
    language: str
    text: str
    category: str | None = None
    created_by: int | None = None
    created_at: datetime | None = None
    id: int | None = None

    def render(self, *, name: str, ticket: int | None, agent: str) -> str:
        """The text with its placeholders filled in."""
        values = {"name": name, "ticket": f"#{ticket}" if ticket else "", "agent": agent}
        return self.text.format_map(values)


def pick_version(
    versions: list[CannedAnswer], language: str | None, default_language: str
) -> CannedAnswer | None:
    """The version for the customer's language, else the desk's default, else any."""
    by_language = {v.language: v for v in versions}
    for lang in (language, default_language):
        if lang and lang in by_language:
            return by_language[lang]
    return versions[0] if versions else None
