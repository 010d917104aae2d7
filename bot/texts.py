"""Gettext set-up for the two languages the help desk speaks."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from aiogram.utils.i18n import I18n

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
SUPPORTED_LANGUAGES = ("en", "ru")


def make_i18n(default_language: str = "en") -> I18n:
    return I18n(path=LOCALES_DIR, default_locale=default_language, domain=DOMAIN)


def base_language(language_code: str) -> str:
    """The language of an IETF tag, without its region or script: ``en-GB`` -> ``en``."""
    return language_code.split("-")[0].split("_")[0].lower()


def use_language(language: str) -> AbstractContextManager[None]:
    """Texts in ``language`` inside the block (the process's catalogs, set at start-up)."""
    i18n = I18n.get_current()
    assert i18n is not None, "I18n.set_current() is called at start-up"
    return i18n.use_locale(language)


def pick_language(language_code: str | None, default: str) -> str:
    """Map Telegram's ``language_code`` (``ru``, ``en-GB``, ``uk``...) to a supported language."""
    if language_code:
        base = base_language(language_code)
        if base in SUPPORTED_LANGUAGES:
            return base
    return default


TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji beyond the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def entities_after(
    entities: Iterable[dict[str, Any]], start: int, length: int
) -> tuple[dict[str, Any], ...]:
    """The message entities of the text from ``start`` on (``length`` units long), moved to
    match; all in UTF-16 units, as Telegram counts. Those wholly before ``start`` are dropped,
    one that straddles it is cut."""
    kept = []
    for entity in entities:
        begin = max(entity["offset"] - start, 0)
        end = min(entity["offset"] + entity["length"] - start, length)
        if end > begin:
            kept.append({**entity, "offset": begin, "length": end - begin})
    return tuple(kept)


def cut_utf16(text: str, limit: int) -> str:
    """``text`` within ``limit`` UTF-16 units; a cut one ends with "…"."""
    if utf16_len(text) <= limit:
        return text
    kept, used = [], 0
    for char in text:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split an HTML message into parts Telegram accepts, at line breaks where possible.

    A hard cut never lands inside a tag (``<b>``) or an entity (``&amp;``), which would make
    Telegram refuse the part ("can't parse entities").
    """
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:  # Telegram counts UTF-16 units
        fit = _fitting(rest, limit)
        cut = rest.rfind("\n", 0, fit + 1)
        if cut <= fit // 2:
            cut = rest.rfind(" ", 0, fit + 1)
        if cut <= fit // 2:
            cut = _safe_hard_cut(rest, fit)
        parts.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:].lstrip("\n")
    if rest or not parts:
        parts.append(rest)
    return parts


def _fitting(text: str, limit: int) -> int:
    """How many characters of ``text`` fit into ``limit`` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def _safe_hard_cut(text: str, limit: int) -> int:
    cut = limit
    amp, semi = text.rfind("&", 0, cut), text.rfind(";", 0, cut)
    if amp > semi and cut - amp < 10:
        cut = amp
    lt, gt = text.rfind("<", 0, cut), text.rfind(">", 0, cut)
    if lt > gt:
        cut = lt
    return cut
