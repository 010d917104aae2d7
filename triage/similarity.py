"""Text similarity for suggestions (e.g. which canned answers fit a new ticket).

Numpy only (no scikit-learn): the bot process builds these indexes. The weighting is
scikit-learn's ``TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)``
(smooth idf, l2 norm) and the score its ``linear_kernel``; ``tests/unit/triage`` checks the
scores against scikit-learn's.
"""

from __future__ import annotations

import math

import numpy as np

from triage.analyzers import AnalyzerSpec
from triage.compact import gather_dot

__all__ = ["TextIndex", "similarities"]

_ANALYZER = AnalyzerSpec("char_wb", ngram_range=(3, 5), lowercase=True)


def _counts(tokens: list[str], vocabulary: dict[str, int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for token in tokens:
        column = vocabulary.get(token)
        if column is not None:
            counts[column] = counts.get(column, 0) + 1
    return counts


class TextIndex:
    """Documents as TF-IDF character n-grams, fitted once; :meth:`scores` compares a query.

    Character n-grams within word boundaries tolerate inflection and typos, in Russian as in
    English. Fit it when the documents change (say, a new version of the canned answers), not
    per query: a query costs one analysis and one sparse product.

    Parameters
    ----------
    documents : list of str
        The texts to compare queries with.
    """

    def __init__(self, documents: list[str]) -> None:
        self.size = len(documents)
        self._analyse = _ANALYZER.build()
        tokens = [self._analyse(document) for document in documents]
        # The vocabulary in sorted order, as scikit-learn's (the order changes no score).
        self._vocabulary = {
            term: i for i, term in enumerate(sorted({t for d in tokens for t in d}))
        }
        n_terms = len(self._vocabulary)
        rows = [_counts(document, self._vocabulary) for document in tokens]
        df = np.zeros(n_terms)
        for row in rows:
            df[list(row)] += 1
        self._idf = np.log((1 + self.size) / (1 + df)) + 1.0
        # features x documents, CSR by hand: the posting list of each term.
        by_term: list[list[tuple[int, float]]] = [[] for _ in range(n_terms)]
        for document, row in enumerate(rows):
            if not row:
                continue
            columns = np.fromiter(row.keys(), dtype=np.intp, count=len(row))
            values = (np.log(np.fromiter(row.values(), float, count=len(row))) + 1.0) * self._idf[
                columns
            ]
            values /= math.sqrt(float(values @ values))
            for column, value in zip(columns.tolist(), values.tolist(), strict=True):
                by_term[column].append((document, value))
        lengths = np.array([len(postings) for postings in by_term], dtype=np.int64)
        self._indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self._indices = np.array([d for postings in by_term for d, _ in postings], dtype=np.int64)
        self._data = np.array([v for postings in by_term for _, v in postings], dtype=np.float64)

    def scores(self, query: str) -> list[float]:
        """Cosine similarity (0..1) of ``query`` to each document (over the documents'
        n-grams)."""
        if not self._vocabulary or not query.strip():
            return [0.0] * self.size
        counts = _counts(self._analyse(query), self._vocabulary)
        if not counts:
            return [0.0] * self.size
        columns = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        values = (np.log(np.fromiter(counts.values(), float, count=len(counts))) + 1.0) * (
            self._idf[columns]
        )
        values /= math.sqrt(float(values @ values))
        scores = gather_dot(self._indptr, self._indices, self._data, self.size, columns, values)
        return [float(s) for s in scores]


def similarities(query: str, documents: list[str]) -> list[float]:
    """Cosine similarity (0..1) of ``query`` to each document; fits an index for one query
    (keep a :class:`TextIndex` when the documents are compared more than once)."""
    return TextIndex(documents).scores(query)
