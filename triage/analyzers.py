"""scikit-learn's text analyzers, reimplemented: the same tokens without scikit-learn.

:class:`AnalyzerSpec` describes a fitted vectoriser's analyzer as data (analyzer kind,
n-gram range, lower-casing, accent stripping, the project's preprocessor or stem analyzer,
token pattern) and builds the function that turns a text into its tokens, exactly as
``TfidfVectorizer.build_analyzer()`` does (``tests/unit/triage/test_triage_compact.py``
checks it with hypothesis on arbitrary text).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from triage.text import normalise_text, stemmed_words, stemmed_words_and_transliterations

__all__ = ["AnalyzerSpec", "char_ngrams", "char_wb_ngrams", "word_ngrams"]

_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn's _VectorizerMixin


def _strip_accents_unicode(text: str) -> str:
    try:
        text.encode("ASCII", errors="strict")
        return text
    except UnicodeEncodeError:
        normalized = unicodedata.normalize("NFKD", text)
        return "".join([c for c in normalized if not unicodedata.combining(c)])


def _strip_accents_ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ASCII", "ignore").decode("ASCII")


def _lower_and_strip(text: str, *, lower: bool, strip: Callable[[str], str] | None) -> str:
    if lower:
        text = text.lower()
    if strip is not None:
        text = strip(text)
    return text


def word_ngrams(tokens: list[str], ngram_range: tuple[int, int]) -> list[str]:
    """Word n-grams of ``tokens``, as ``CountVectorizer._word_ngrams`` (no stop words)."""
    min_n, max_n = ngram_range
    if max_n == 1:
        return tokens
    if min_n == 1:
        grams = list(tokens)
        min_n += 1
    else:
        grams = []
    count = len(tokens)
    for n in range(min_n, min(max_n + 1, count + 1)):
        for i in range(count - n + 1):
            grams.append(" ".join(tokens[i : i + n]))
    return grams


def char_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """Character n-grams, as ``CountVectorizer._char_ngrams``."""
    text = _WHITE_SPACES.sub(" ", text)
    length = len(text)
    min_n, max_n = ngram_range
    if min_n == 1:
        grams = list(text)
        min_n += 1
    else:
        grams = []
    for n in range(min_n, min(max_n + 1, length + 1)):
        for i in range(length - n + 1):
            grams.append(text[i : i + n])
    return grams


def char_wb_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """Character n-grams inside word boundaries, as ``CountVectorizer._char_wb_ngrams``."""
    text = _WHITE_SPACES.sub(" ", text)
    min_n, max_n = ngram_range
    grams: list[str] = []
    append = grams.append
    for word in text.split():
        word = " " + word + " "
        length = len(word)
        for n in range(min_n, max_n + 1):
            offset = 0
            append(word[offset : offset + n])
            while offset + n < length:
                offset += 1
                append(word[offset : offset + n])
            if offset == 0:  # a word shorter than n is counted once
                break
    return grams


@dataclass(frozen=True, slots=True)
class AnalyzerSpec:
    """How a vectoriser turns a text into tokens, as data.

    Parameters
    ----------
    analyzer : {"word", "char", "char_wb", "stems"}
        scikit-learn's analyzers, or :func:`triage.text.stemmed_words` (the stem block).
    ngram_range : tuple of int
    lowercase : bool
        Ignored with a ``preprocessor`` (as in scikit-learn).
    strip_accents : {"ascii", "unicode"} or None
        Ignored with a ``preprocessor``.
    preprocessor : {"normalise_text"} or None
        :func:`triage.text.normalise_text`, the only custom preprocessor the project uses.
    token_pattern : str
        For ``"word"``.
    transliterate : bool
        For ``"stems"``: also read Latin words as transliterated Russian
        (:func:`triage.text.stemmed_words_and_transliterations`, knowing the vocabulary).
    """

    analyzer: Literal["word", "char", "char_wb", "stems"]
    ngram_range: tuple[int, int] = (1, 1)
    lowercase: bool = True
    strip_accents: Literal["ascii", "unicode"] | None = None
    preprocessor: Literal["normalise_text"] | None = None
    token_pattern: str = r"(?u)\b\w\w+\b"
    transliterate: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "analyzer": self.analyzer,
            "ngram_range": list(self.ngram_range),
            "lowercase": self.lowercase,
            "strip_accents": self.strip_accents,
            "preprocessor": self.preprocessor,
            "token_pattern": self.token_pattern,
            "transliterate": self.transliterate,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnalyzerSpec:
        low, high = data["ngram_range"]
        return cls(
            analyzer=data["analyzer"],
            ngram_range=(int(low), int(high)),
            lowercase=bool(data["lowercase"]),
            strip_accents=data["strip_accents"],
            preprocessor=data["preprocessor"],
            token_pattern=str(data["token_pattern"]),
            transliterate=bool(data["transliterate"]),
        )

    def _preprocess(self) -> Callable[[str], str]:
        if self.preprocessor == "normalise_text":
            return normalise_text
        if self.preprocessor is not None:
            raise ValueError(f"unknown preprocessor {self.preprocessor!r}")
        strip = {None: None, "unicode": _strip_accents_unicode, "ascii": _strip_accents_ascii}
        return partial(_lower_and_strip, lower=self.lowercase, strip=strip[self.strip_accents])

    def build(self, vocabulary: Mapping[str, int] | None = None) -> Callable[[str], list[str]]:
        """Text -> tokens, exactly as the fitted vectoriser's ``build_analyzer()``.

        Parameters
        ----------
        vocabulary : mapping of str to int, optional
            The fitted vocabulary (only the transliterating stem analyzer reads it).
        """
        if self.analyzer == "stems":
            if self.transliterate:
                return partial(stemmed_words_and_transliterations, known=vocabulary)
            return stemmed_words
        preprocess = self._preprocess()
        ngram_range = self.ngram_range
        if self.analyzer == "char":
            return lambda text: char_ngrams(preprocess(text), ngram_range)
        if self.analyzer == "char_wb":
            return lambda text: char_wb_ngrams(preprocess(text), ngram_range)
        if self.analyzer == "word":
            pattern = re.compile(self.token_pattern)
            if pattern.groups > 1:
                raise ValueError("token_pattern has more than one group")
            findall = pattern.findall
            return lambda text: word_ngrams(findall(preprocess(text)), ngram_range)
        raise ValueError(f"unknown analyzer {self.analyzer!r}")
