"""Text similarity for suggestions (e.g. which canned answers fit a new ticket)."""

from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel


def similarities(query: str, documents: list[str]) -> list[float]:
    """Cosine similarity (0..1) of ``query`` to each document, over TF-IDF character n-grams.

    Character n-grams within word boundaries tolerate inflection and typos, in Russian as in
    English; fitting on the documents plus the query keeps it self-contained (no model file).
    """
    if not documents or not query.strip():
        return [0.0] * len(documents)
    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=True
    )
    try:
        matrix = vectorizer.fit_transform([*documents, query])
    except ValueError:  # nothing but punctuation or very short words: no features
        return [0.0] * len(documents)
    scores = linear_kernel(matrix[len(documents)], matrix[: len(documents)])[0]
    return [float(s) for s in scores]
