"""Text normalisation and the TF-IDF feature union used by the triage pipeline.

Everything here is module-level so that fitted pipelines pickle without lambdas.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading

import Stemmer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

__all__ = [
    "WORD_TOKEN_PATTERN",
    "build_features",
    "fold_lookalikes",
    "normalise_text",
    "stemmed_words",
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


def _fold_word(match: re.Match[str]) -> str:
    word = match.group()
    cyrillic = len(_CYRILLIC.findall(word))
    latin = len(_LATIN.findall(word))
    if not cyrillic or not latin:
        return word
    if cyrillic >= latin:
        return word.translate(_LATIN_TO_CYRILLIC)
    return word.translate(_CYRILLIC_TO_LATIN)


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
    russian, english = _stemmers()
    stems = [
        russian.stemWord(word) if _CYRILLIC.search(word) else english.stemWord(word)
        for word in _TOKEN.findall(normalise_text(text))
    ]
    return stems + [f"{a} {b}" for a, b in itertools.pairwise(stems)]


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
        (:func:`stemmed_words`). ``None`` leaves it out.

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
            ("stem", TfidfVectorizer(analyzer=stemmed_words, sublinear_tf=True, min_df=min_df))
        )
    if not parts:
        raise ValueError("at least one of word_ngrams and char_ngrams must be set")
    weights: dict[str, float] = {}
    if word_ngrams is not None and word_weight != 1.0:
        weights["word"] = word_weight
    if stem_weight is not None and stem_weight != 1.0:
        weights["stem"] = stem_weight
    return FeatureUnion(parts, transformer_weights=weights or None)
