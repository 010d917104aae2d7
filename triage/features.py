"""Text normalisation and the TF-IDF feature union used by the triage pipeline.

Everything here is module-level so that fitted pipelines pickle without lambdas.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import Stemmer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

__all__ = [
    "WORD_TOKEN_PATTERN",
    "StemVectorizer",
    "build_features",
    "fold_lookalikes",
    "normalise_text",
    "read_as_russian",
    "stemmed_words",
    "stemmed_words_and_transliterations",
    "to_cyrillic",
    "to_latin",
]

#: Word tokens of one or more characters: keeps "i", "я", "в" and digits-as-"0".
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


class StemVectorizer(TfidfVectorizer):
    """TF-IDF over :func:`stemmed_words` that reads Latin words as transliterated Russian.

    Fitting builds the vocabulary from :func:`stemmed_words` alone; once the vocabulary
    holds Russian stems, transforming uses :func:`stemmed_words_and_transliterations`, so
    a customer who writes "karta ne rabotaet" meets the stems of "карта не работает" that
    the training data taught. An English-only training set gains no Cyrillic pseudo-stems
    and pays nothing at transform time (its vocabulary, weights and memory are those of
    the plain stem block). Parameters are those of
    :class:`~sklearn.feature_extraction.text.TfidfVectorizer`; ``analyzer`` is
    :func:`stemmed_words`.

    Attributes
    ----------
    reads_transliteration_ : bool
        Whether the vocabulary holds a Cyrillic stem (then Latin words are also read as
        transliterated Russian).
    """

    def build_analyzer(self) -> Callable[[str], list[str]]:
        """The analyzer: plain stems while fitting, with transliterations after.

        Returns
        -------
        callable
            Text -> tokens.
        """
        if self.analyzer is stemmed_words and getattr(self, "reads_transliteration_", False):
            return functools.partial(stemmed_words_and_transliterations, known=self.vocabulary_)
        return super().build_analyzer()

    def fit(self, raw_documents: Iterable[str], y: Any = None) -> StemVectorizer:
        """Learn the vocabulary and idf from :func:`stemmed_words` (see the class)."""
        self.fit_transform(raw_documents, y)
        return self

    def fit_transform(self, raw_documents: Iterable[str], y: Any = None) -> Any:
        """Learn the vocabulary and idf, and return the training matrix (see the class)."""
        self.reads_transliteration_ = False
        matrix = super().fit_transform(raw_documents, y)
        self.reads_transliteration_ = any("а" <= stem[:1] <= "я" for stem in self.vocabulary_)
        return matrix


def build_features(
    *,
    word_ngrams: tuple[int, int] | None = (1, 3),
    char_ngrams: tuple[int, int] | None = (2, 5),
    min_df: int = 1,
    word_weight: float = 1.0,
    stem_weight: float | None = None,
) -> FeatureUnion:
    """Build the word + character TF-IDF feature union.

    Parameters
    ----------
    word_ngrams : tuple of int or None, default=(1, 3)
        Word n-gram range, or ``None`` to leave word features out.
    char_ngrams : tuple of int or None, default=(2, 5)
        ``char_wb`` n-gram range, or ``None`` to leave character features out.
    min_df : int, default=1
        Minimum document frequency of a word n-gram.
    word_weight : float, default=1.0
        Weight of the word block relative to the character block (``transformer_weights``);
        below 1 favours character n-grams, which generalise better over Russian inflection.
    stem_weight : float or None, default=None
        Weight of a third block, ``stem``: Snowball stems and stem bigrams
        (:func:`stemmed_words`; a :class:`StemVectorizer`, which also reads Latin words as
        transliterated Russian when transforming). ``None`` leaves it out.

    Returns
    -------
    FeatureUnion
        Unfitted union named ``word``, ``char`` (and ``stem``); all use :func:`normalise_text`,
        ``sublinear_tf=True`` and l2 normalisation.
    """
    parts: list[tuple[str, TfidfVectorizer]] = []
    if word_ngrams is not None:
        parts.append(
            (
                "word",
                TfidfVectorizer(
                    preprocessor=normalise_text,
                    token_pattern=WORD_TOKEN_PATTERN,
                    ngram_range=word_ngrams,
                    sublinear_tf=True,
                    min_df=min_df,
                ),
            )
        )
    if char_ngrams is not None:
        parts.append(
            (
                "char",
                TfidfVectorizer(
                    preprocessor=normalise_text,
                    analyzer="char_wb",
                    ngram_range=char_ngrams,
                    sublinear_tf=True,
                ),
            )
        )
    if stem_weight is not None:
        parts.append(
            ("stem", StemVectorizer(analyzer=stemmed_words, sublinear_tf=True, min_df=min_df))
        )
    if not parts:
        raise ValueError("at least one of word_ngrams and char_ngrams must be set")
    weights: dict[str, float] = {}
    if word_ngrams is not None and word_weight != 1.0:
        weights["word"] = word_weight
    if stem_weight is not None and stem_weight != 1.0:
        weights["stem"] = stem_weight
    return FeatureUnion(parts, transformer_weights=weights or None)
