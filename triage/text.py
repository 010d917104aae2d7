"""Text normalisation and the analyzers of the stem block: pure Python (re, PyStemmer).

Nothing here needs scikit-learn, so the bot process can read text the way the fitted
pipelines do (see :mod:`triage.compact`). Everything is module-level so that fitted
pipelines pickle without lambdas.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
from collections.abc import Mapping

import Stemmer

__all__ = [
    "WORD_TOKEN_PATTERN",
    "fold_lookalikes",
    "normalise_text",
    "read_as_russian",
    "stemmed_words",
    "stemmed_words_and_transliterations",
    "to_cyrillic",
    "to_latin",
]

WORD_TOKEN_PATTERN = r"(?u)\b\w+\b"

_APOSTROPHES = str.maketrans({"’": "'", "`": "'", "ʼ": "'", "ё": "е", "Ё": "Е"})
_URL = re.compile(r"(?:https?://|www\.)\S+")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
# English contractions carry the negation that separates "can log in" from "can't log in";
# the default token pattern would drop the lone "t".
_CONTRACTIONS = (
    (re.compile(r"\bcan'?t\b"), "can not"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\b(\w+)n't\b"), r"\1 not"),
    (
        re.compile(r"\b(ain|aren|couldn|didn|doesn|hasn|haven|isn|shouldn|wasn|weren|wouldn)t\b"),
        r"\1 not",
    ),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"'s\b"), ""),
)


# Latin and Cyrillic letters that look alike (lower case, after ``str.lower``). People type
# "пpивет" with a Latin "p" or "cаrd" with a Cyrillic "а" (keyboard layouts, spam filters
# dodged on purpose); a mixed word matches nothing in either script.
_LATIN_TO_CYRILLIC = str.maketrans("aceopxykmtbh", "асеорхукмтвн")
_CYRILLIC_TO_LATIN = str.maketrans("асеорхукмтвн", "aceopxykmtbh")
_CYRILLIC = re.compile(r"[а-я]")
_LATIN = re.compile(r"[a-z]")
_WORD = re.compile(r"\w+")


# Transliteration of Russian typed in Latin letters ("karta ne rabotaet"): the common
# informal schemes, longest spelling first; "y" is "й" after a vowel, else "ы"; "c" is "ц"
# before e, i, y, else "к".
_TRANSLIT_TO_CYRILLIC = {
    "shch": "щ", "zh": "ж", "kh": "х", "ch": "ч", "sh": "ш", "ts": "ц",
    "tz": "ц", "yu": "ю", "ju": "ю", "ya": "я", "ja": "я", "yo": "е", "jo": "е", "ye": "е",
    "a": "а", "b": "б", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х", "i": "и", "j": "й",
    "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "q": "к", "r": "р", "s": "с",
    "t": "т", "u": "у", "v": "в", "w": "в", "x": "кс", "z": "з",
}  # fmt: skip
_TRANSLIT_UNIT = re.compile(
    "|".join(sorted((k for k in _TRANSLIT_TO_CYRILLIC), key=len, reverse=True)) + "|c|y"
)
_VOWELS = frozenset("aeiouy")
# The reverse, for Cyrillic letters left inside a mostly Latin word.
_CYRILLIC_TO_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
        "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
        "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch",
        "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    }
)  # fmt: skip
_LATIN_RUN = re.compile(r"[a-z]+")


def _translit_unit(match: re.Match[str]) -> str:
    unit, start, text = match.group(), match.start(), match.string
    if unit == "y":
        return "й" if start and text[start - 1] in _VOWELS else "ы"
    if unit == "c":
        return "ц" if text[start + 1 : start + 2] in ("e", "i", "y") else "к"
    return _TRANSLIT_TO_CYRILLIC[unit]


def to_cyrillic(text: str) -> str:
    """Read the Latin letters of lower-case text as transliterated Russian.

    "karta ne rabotaet" becomes "карта не работает", "zhdu vozvrat" "жду возврат";
    other characters are kept. The inverse of no single standard: it accepts the common
    informal spellings ("sh", "ch", "zh", "kh", "ts", "shch", "ya"/"ja", "yu"/"ju").

    Parameters
    ----------
    text : str
        Lower-case text (Latin capitals are not read).

    Returns
    -------
    str
        The text with every Latin letter replaced by Cyrillic.
    """
    return _LATIN_RUN.sub(lambda run: _TRANSLIT_UNIT.sub(_translit_unit, run.group()), text)


def to_latin(text: str) -> str:
    """Write the Cyrillic letters of lower-case text in the informal Latin transliteration.

    The scheme :func:`to_cyrillic` reads back: "карта не работает" -> "karta ne rabotaet",
    "жду" -> "zhdu", "щ" -> "shch"; "ъ" and "ь" are dropped.

    Parameters
    ----------
    text : str
        Lower-case text; other characters are kept.

    Returns
    -------
    str
        The text with every Cyrillic letter transliterated.
    """
    return text.translate(_CYRILLIC_TO_TRANSLIT)


def _fold_word(match: re.Match[str]) -> str:
    word = match.group()
    cyrillic = len(_CYRILLIC.findall(word))
    latin = len(_LATIN.findall(word))
    if not cyrillic or not latin:
        return word
    # Look-alike letters first ("oплата" with a Latin "o"); a letter of the other script
    # that looks like none of ours is read phonetically ("dоставка", "зakaz").
    if cyrillic >= latin:
        return to_cyrillic(word.translate(_LATIN_TO_CYRILLIC))
    return to_latin(word.translate(_CYRILLIC_TO_LATIN))


def fold_lookalikes(text: str) -> str:
    """Write each mixed Latin/Cyrillic word in its majority script.

    Only words that mix the two scripts change, and only look-alike letters ("а"/"a",
    "е"/"e", "о"/"o", "р"/"p", "с"/"c", ...) are replaced; ties go to Cyrillic.

    Parameters
    ----------
    text : str
        Lower-case text.

    Returns
    -------
    str
        The text with mixed words folded into one script.
    """
    if not (_CYRILLIC.search(text) and _LATIN.search(text)):
        return text  # one script only: nothing can be mixed
    return _WORD.sub(_fold_word, text)


# Each feature block normalises the same message again (word, char and stem analyzers, and
# the priority model's): remembering the last few thousand saves that repeated work.
@functools.lru_cache(maxsize=4096)
def normalise_text(text: str) -> str:
    """Normalise a message before vectorisation.

    Lower-cases, folds "ё" into "е" and typographic apostrophes into "'", writes words that
    mix Latin and Cyrillic look-alike letters in one script, expands English negative
    contractions, replaces URLs, e-mail addresses and digit runs with placeholders
    and collapses white space.

    Parameters
    ----------
    text : str
        Raw message text.

    Returns
    -------
    str
        The normalised text.
    """
    text = text.translate(_APOSTROPHES).lower()
    text = _URL.sub(" url ", text)
    text = fold_lookalikes(text)
    text = _EMAIL.sub(" email ", text)
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    text = _DIGITS.sub("0", text)
    return _SPACES.sub(" ", text).strip()


_TOKEN = re.compile(WORD_TOKEN_PATTERN)
# PyStemmer's stemmers are not thread-safe and the model is used while a retrain runs in a
# worker thread: one pair of stemmers per thread.
_STEMMERS = threading.local()


def _stemmers() -> tuple[Stemmer._Stemmer, Stemmer._Stemmer]:
    pair = getattr(_STEMMERS, "pair", None)
    if pair is None:
        pair = (Stemmer.Stemmer("russian"), Stemmer.Stemmer("english"))
        _STEMMERS.pair = pair
    return pair


def _stems(words: list[str]) -> list[str]:
    russian, english = _stemmers()
    return [
        russian.stemWord(word) if _CYRILLIC.search(word) else english.stemWord(word)
        for word in words
    ]


def _bigrams(stems: list[str]) -> list[str]:
    return [f"{a} {b}" for a, b in itertools.pairwise(stems)]


def stemmed_words(text: str) -> list[str]:
    """Analyzer of the stem block: Snowball stems of the words, and stem bigrams.

    Words with a Cyrillic letter get the Russian stemmer, the others the English one, so
    "карту", "карты", "картой" and "card", "cards" each fall on one feature. Used as the
    ``analyzer`` of a :class:`~sklearn.feature_extraction.text.TfidfVectorizer`; it calls
    :func:`normalise_text` itself.

    Parameters
    ----------
    text : str
        Raw message text.

    Returns
    -------
    list of str
        Stems, then ``"stem stem"`` bigrams, in text order.
    """
    stems = _stems(_TOKEN.findall(normalise_text(text)))
    return stems + _bigrams(stems)


_PLACEHOLDERS = frozenset({"url", "email"})


def _latin_word(word: str) -> bool:
    return word not in _PLACEHOLDERS and bool(_LATIN.search(word)) and not _CYRILLIC.search(word)


@functools.lru_cache(maxsize=8192)
def _latin_as_russian_stem(word: str) -> str:
    return _stemmers()[0].stemWord(to_cyrillic(word))


def stemmed_words_and_transliterations(
    text: str, known: Mapping[str, int] | None = None
) -> list[str]:
    """:func:`stemmed_words`, plus each Latin word read as transliterated Russian.

    "karta ne rabotaet" yields the English stems of its words and also "карт", "не",
    "работа", "карт не", "не работа": the features of "карта не работает". The extra
    tokens are the transliteration view of the text; :class:`StemVectorizer` uses them
    only when transforming, so they find Russian training stems without adding a
    vocabulary entry for every English word.

    Parameters
    ----------
    text : str
        Raw message text, in any script.
    known : mapping of str to int, optional
        The stems seen in training. When given, a Latin word whose English stem is among
        them is an English word and is not read as Russian ("my" stays "my", not "мы").

    Returns
    -------
    list of str
        The tokens of :func:`stemmed_words`, then the transliterated stems and the
        bigrams that contain one.
    """
    words = _TOKEN.findall(normalise_text(text))
    stems = _stems(words)
    tokens = stems + _bigrams(stems)
    read = [
        _latin_as_russian_stem(word)
        if _latin_word(word) and (known is None or stem not in known)
        else ""
        for word, stem in zip(words, stems, strict=True)
    ]
    if not any(read):
        return tokens
    alternative = [other or stem for other, stem in zip(read, stems, strict=True)]
    tokens += [stem for stem in read if stem]
    tokens += [
        f"{a} {b}"
        for (a, b), changed in zip(
            itertools.pairwise(alternative),
            itertools.pairwise(read),
            strict=True,
        )
        if any(changed)
    ]
    return tokens


def read_as_russian(text: str, stems: Mapping[str, int]) -> str | None:
    """The text read as transliterated Russian, when that reading knows more of its words.

    A Latin word counts for the Russian reading when the Russian stem of its
    transliteration is in ``stems`` and its English stem is not, and for the Latin
    reading the other way round. When the Russian reading wins, the normalised text is
    returned with its Latin words transliterated ("karta ne rabotaet" -> "карта не
    работает"), so every feature block sees what the training data taught; otherwise
    ``None``.

    Parameters
    ----------
    text : str
        Raw message text.
    stems : mapping of str to int
        The stem block's vocabulary (stems seen in training).

    Returns
    -------
    str or None
    """
    normalised = normalise_text(text)
    if not _LATIN.search(normalised):
        return None
    english = _stemmers()[1]
    balance = 0
    for word in _TOKEN.findall(normalised):
        if _latin_word(word):
            balance += (_latin_as_russian_stem(word) in stems) - (english.stemWord(word) in stems)
    if balance <= 0:
        return None
    return _WORD.sub(
        lambda match: to_cyrillic(match.group()) if _latin_word(match.group()) else match.group(),
        normalised,
    )
