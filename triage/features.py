"""The TF-IDF feature union used by the triage pipeline.

The text functions live in :mod:`triage.text` (no scikit-learn); they are re-exported here,
and fitted pipelines pickled before the split still find them under this module.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from triage.text import (
    WORD_TOKEN_PATTERN,
    fold_lookalikes,
    normalise_text,
    read_as_russian,
    stemmed_words,
    stemmed_words_and_transliterations,
    to_cyrillic,
    to_latin,
)

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
