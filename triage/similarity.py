"""Text similarity for suggestions (e.g. which canned answers fit a new ticket)."""

from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel


class TextIndex:
    """Documents as TF-IDF character n-grams, fitted once; :meth:`scores` compares a query.

    Character n-grams within word boundaries tolerate inflection and typos, in Russian as in
    English. Fit it when the documents change (say, a new version of the canned answers), not
    per query: a query costs one transform and one product.

    Parameters
    ----------
    documents : list of str
        The texts to compare queries with.
    """

    def __init__(self, documents: list[str]) -> None:
        self.size = len(documents)
        self._vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=True
        )
        try:
            self._matrix = self._vectorizer.fit_transform(documents) if documents else None
        except ValueError:  # nothing but punctuation or very short words: no features
            self._matrix = None

    def scores(self, query: str) -> list[float]:
        """Cosine similarity (0..1) of ``query`` to each document (over the documents'
        n-grams)."""
        if self._matrix is None or not query.strip():
            return [0.0] * self.size
        vector = self._vectorizer.transform([query])
        return [float(s) for s in linear_kernel(vector, self._matrix)[0]]


def similarities(query: str, documents: list[str]) -> list[float]:
    """Cosine similarity (0..1) of ``query`` to each document; fits an index for one query
    (keep a :class:`TextIndex` when the documents are compared more than once)."""
    return TextIndex(documents).scores(query)
