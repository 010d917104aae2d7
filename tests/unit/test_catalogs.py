"""Every text renders in both languages: for each message id of the catalog, in en and ru, with
counts 1, 2 and 5 (Russian has three plural forms), with its placeholders filled."""

from __future__ import annotations

import string
from collections.abc import Iterator

import pytest
from babel.messages.catalog import Message
from babel.messages.pofile import read_po

from bot.texts import LOCALES_DIR, SUPPORTED_LANGUAGES, make_i18n


def messages() -> list[Message]:
    with (LOCALES_DIR / "messages.pot").open("rb") as f:
        return [m for m in read_po(f) if m.id]


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


class Anything(dict[str, int]):
    """A value for every placeholder: a number, so ``{share:.0%}`` renders too."""

    def __missing__(self, key: str) -> int:
        return 5


def rendered(message: Message, language: str) -> Iterator[tuple[int, str, str]]:
    """(count, msgid used, rendered text) for counts 1, 2 and 5."""
    for n in (1, 2, 5):
        if message.pluralizable:
            singular, plural = message.id
            text = I18N.gettext(singular, plural, n, locale=language)
            source = singular if n == 1 else plural
        else:
            text = I18N.gettext(message.id, locale=language)
            source = message.id
        yield n, source, text


ALL = messages()
#: Texts that read the same in Russian.
SAME_IN_RUSSIAN = ("GIF",)
I18N = make_i18n("en")


def test_the_catalog_is_not_empty_and_has_plurals() -> None:
    assert len(ALL) > 100
    assert sum(m.pluralizable for m in ALL) >= 6


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_message_renders_with_counts_1_2_5(language: str) -> None:
    problems = []
    for message in ALL:
        for n, source, text in rendered(message, language):
            if not text.strip():
                problems.append(f"{language} n={n}: empty for {source!r}")
                continue
            if language != "en" and text == source and source not in SAME_IN_RUSSIAN:
                problems.append(f"{language} n={n}: untranslated {source!r}")
            if fields(text) != fields(source):
                problems.append(f"{language} n={n}: placeholders differ in {text!r}")
            try:
                text.format_map(Anything())
            except (ValueError, IndexError, KeyError) as exc:
                problems.append(f"{language} n={n}: {exc!r} in {text!r}")
    assert problems == []


def test_russian_plurals_use_three_forms() -> None:
    for message in (m for m in ALL if m.pluralizable):
        one, _few, many = (text for _n, _s, text in rendered(message, "ru"))
        assert one != many, message.id  # "1 заявка", "5 заявок"


def test_english_plurals_say_one_and_many() -> None:
    for message in (m for m in ALL if m.pluralizable):
        one, two, five = (text for _n, _s, text in rendered(message, "en"))
        assert one == message.id[0]
        assert two == five == message.id[1]
