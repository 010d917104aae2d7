"""Text normalisation and the TF-IDF feature union used by the triage pipeline.

Everything here is module-level so that fitted pipelines pickle without lambdas.
"""

from __future__ import annotations

import re

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

__all__ = ["WORD_TOKEN_PATTERN", "build_features", "normalise_text"]

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


def normalise_text(text: str) -> str:
    """Normalise a message before vectorisation.

    Lower-cases, folds "ё" into "е" and typographic apostrophes into "'", expands English
    negative contractions, replaces URLs, e-mail addresses and digit runs with placeholders
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
    text = _EMAIL.sub(" email ", text)
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    text = _DIGITS.sub("0", text)
    return _SPACES.sub(" ", text).strip()


def build_features(
    *,
    word_ngrams: tuple[int, int] | None = (1, 3),
    char_ngrams: tuple[int, int] | None = (2, 5),
    min_df: int = 1,
    word_weight: float = 1.0,
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

    Returns
    -------
    FeatureUnion
        Unfitted union named ``word`` and ``char``; both use :func:`normalise_text`,
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
    if not parts:
        raise ValueError("at least one of word_ngrams and char_ngrams must be set")
    weights = {"word": word_weight} if word_ngrams is not None and word_weight != 1.0 else None
    return FeatureUnion(parts, transformer_weights=weights)
