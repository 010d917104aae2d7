"""The numpy canned-answer index scores as scikit-learn's TF-IDF + linear_kernel did."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel

from triage import load_seed
from triage.similarity import TextIndex


def sklearn_scores(query: str, documents: list[str]) -> list[float]:
    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=True
    )
    try:
        matrix = vectorizer.fit_transform(documents) if documents else None
    except ValueError:
        matrix = None
    if matrix is None or not query.strip():
        return [0.0] * len(documents)
    return [float(s) for s in linear_kernel(vectorizer.transform([query]), matrix)[0]]


def test_scores_and_ranking_equal_sklearns() -> None:
    documents = [*load_seed("examples").texts[:300], "", "!!", "a b"]
    index = TextIndex(documents)
    for query in [*load_seed("holdout").texts[:60], "", "  ", "ok", "REFUND!!! please"]:
        expected = np.array(sklearn_scores(query, documents))
        got = np.array(index.scores(query))
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
        # Same order wherever scikit-learn's scores differ by more than rounding.
        top = np.argsort(-expected, kind="stable")[:5]
        assert all(
            got[a] >= got[b]
            for a, b in itertools.pairwise(top)
            if expected[a] > expected[b] + 1e-9
        )


@settings(max_examples=100, deadline=None)
@given(
    query=st.text(max_size=40),
    documents=st.lists(st.text(max_size=40), max_size=6),
)
def test_any_texts(query: str, documents: list[str]) -> None:
    np.testing.assert_allclose(
        TextIndex(documents).scores(query), sklearn_scores(query, documents), atol=1e-12
    )
