"""Gettext set-up for the two languages the help desk speaks."""

from __future__ import annotations

from pathlib import Path

from aiogram.utils.i18n import I18n

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
SUPPORTED_LANGUAGES = ("en", "ru")


def make_i18n(default_language: str = "en") -> I18n:
    return I18n(path=LOCALES_DIR, default_locale=default_language, domain=DOMAIN)


def pick_language(language_code: str | None, default: str) -> str:
    """Map Telegram's ``language_code`` (``ru``, ``en-GB``, ``uk``...) to a supported language."""
    if language_code:
        base = language_code.split("-")[0].split("_")[0].lower()
        if base in SUPPORTED_LANGUAGES:
            return base
    return default
