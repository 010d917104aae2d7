"""The fitted triage model as plain arrays: scoring with numpy alone, no scikit-learn.

A fitted pipeline of :func:`triage.build_pipeline` is, for one text, a handful of
dictionary look-ups and one small matrix product: analyse the text into tokens (the same
analyzers as scikit-learn's ``TfidfVectorizer.build_analyzer()``: :mod:`triage.analyzers`),
count the tokens found in each block's vocabulary, weight them (sub-linear tf, idf, l2
norm, the block's weight in the union), multiply by the linear model's coefficients and
calibrate the decision values (temperature, sigmoid or isotonic, averaged over the
calibration members as scikit-learn does), then apply the rules of :mod:`triage.policy`.
:func:`triage.export.export_model` takes that state from a fitted
:class:`~triage.model.TriageModel`; this module saves, reads and runs it.

The bot process loads only this form (``compact.npz`` + ``compact.json`` beside
``model.joblib``, no pickle: :mod:`triage.saved`), so it never imports scikit-learn or scipy:
about 80 MB less per worker. ``tests/unit/triage/test_triage_compact.py`` checks that
predictions equal the scikit-learn pipeline's, and that the analyzers yield exactly
scikit-learn's tokens.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from triage.analyzers import AnalyzerSpec
from triage.policy import Policy, TriageResult
from triage.text import read_as_russian

__all__ = [
    "CalibratedHead",
    "Centroids",
    "CompactTriage",
    "FeatureSpace",
    "Member",
    "TfidfBlock",
    "gather_dot",
    "gather_dot_short",
]


# -- features ------------------------------------------------------------------------------


class TfidfBlock:
    """One fitted TF-IDF vectoriser: analyzer, vocabulary, idf and weighting.

    Parameters
    ----------
    analyzer : AnalyzerSpec
    terms : sequence of str
        The vocabulary, the term of column ``i`` at position ``i``.
    idf : ndarray or None
        Inverse document frequencies (``None``: ``use_idf=False``).
    sublinear_tf, binary : bool
    norm : {"l2", "l1"} or None
    weight : float
        The block's weight in the feature union.
    """

    def __init__(
        self,
        analyzer: AnalyzerSpec,
        terms: Sequence[str],
        idf: np.ndarray | None,
        *,
        sublinear_tf: bool,
        binary: bool = False,
        norm: Literal["l1", "l2"] | None = "l2",
        weight: float = 1.0,
    ) -> None:
        self.analyzer = analyzer
        self.vocabulary: dict[str, int] = {str(term): i for i, term in enumerate(terms)}
        self.idf = None if idf is None else np.asarray(idf, dtype=np.float64)
        self.sublinear_tf = bool(sublinear_tf)
        self.binary = bool(binary)
        self.norm = norm
        self.weight = float(weight)
        self._analyse = analyzer.build(self.vocabulary)

    def __len__(self) -> int:
        return len(self.vocabulary)

    def terms(self) -> np.ndarray:
        """The vocabulary in column order (for saving)."""
        ordered = [""] * len(self.vocabulary)
        for term, column in self.vocabulary.items():
            ordered[column] = term
        return np.asarray(ordered, dtype=np.str_)

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and values of the block's (weighted) vector of one text."""
        counts: dict[int, int] = {}
        vocabulary = self.vocabulary
        for token in self._analyse(text):
            column = vocabulary.get(token)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        if not counts:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)
        columns = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if self.binary:
            values[:] = 1.0
        elif self.sublinear_tf:
            values = np.log(values) + 1.0
        if self.idf is not None:
            values = values * self.idf[columns]
        if self.norm == "l2":
            values = values / math.sqrt(float(values @ values))
        elif self.norm == "l1":
            values = values / float(np.abs(values).sum())
        return columns, values * self.weight


class FeatureSpace:
    """The blocks of a feature union, side by side (block ``i`` starts after block ``i-1``)."""

    def __init__(self, blocks: Sequence[TfidfBlock]) -> None:
        self.blocks = list(blocks)
        self._offsets = np.cumsum([0] + [len(block) for block in self.blocks])[:-1]
        self.n_features = int(sum(len(block) for block in self.blocks))

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and values of the feature vector of one text."""
        parts = [block.vector(text) for block in self.blocks]
        columns = np.concatenate(
            [part[0] + offset for part, offset in zip(parts, self._offsets, strict=True)]
        )
        return columns.astype(np.intp, copy=False), np.concatenate([part[1] for part in parts])

    def block(self, analyzer: str) -> TfidfBlock | None:
        """The first block with this kind of analyzer."""
        return next((b for b in self.blocks if b.analyzer.analyzer == analyzer), None)


# -- calibrated linear heads ---------------------------------------------------------------


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = np.exp(scores - scores.max())
    return scores / scores.sum()


def _expit(values: np.ndarray) -> np.ndarray:
    # As scipy.special.expit, without over- or underflow.
    out = np.empty_like(values, dtype=np.float64)
    positive = values >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-values[positive]))
    exp = np.exp(values[~positive])
    out[~positive] = exp / (1.0 + exp)
    return out


@dataclass(slots=True)
class Member:
    """One member of ``CalibratedClassifierCV.calibrated_classifiers_``.

    ``positions``: the column of each of the linear model's classes among the head's classes.
    ``params``: for ``temperature`` ``{"beta": float}``; for ``sigmoid`` ``{"a", "b"}``
    arrays (one per calibrator); for ``isotonic`` ``{"x", "y"}`` lists of arrays and
    ``{"x_min", "x_max"}`` arrays.
    """

    coef: np.ndarray
    intercept: np.ndarray
    method: Literal["temperature", "sigmoid", "isotonic"]
    positions: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)

    def proba(self, decision: np.ndarray, n_classes: int) -> np.ndarray:
        proba = np.zeros(n_classes)
        if self.method == "temperature":
            logits = np.array([-decision[0], decision[0]]) if decision.size == 1 else decision
            scaled = _softmax(self.params["beta"] * logits)
            if decision.size == 1:
                proba[:] = scaled
            else:
                proba[self.positions] = scaled
        else:
            if self.method == "sigmoid":
                calibrated = _expit(-(self.params["a"] * decision + self.params["b"]))
            else:
                calibrated = np.array(
                    [
                        np.interp(np.clip(value, low, high), x, y)
                        for value, low, high, x, y in zip(
                            decision,
                            self.params["x_min"],
                            self.params["x_max"],
                            self.params["x"],
                            self.params["y"],
                            strict=True,
                        )
                    ]
                )
            if n_classes == 2:
                proba[1] = calibrated[0]
                proba[0] = 1.0 - proba[1]
            else:
                proba[self.positions] = calibrated
                total = proba.sum()
                proba = proba / total if total != 0 else np.full(n_classes, 1.0 / n_classes)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba


class CalibratedHead:
    """A calibrated linear classifier over a :class:`FeatureSpace`'s columns."""

    def __init__(self, classes: Sequence[str], members: Sequence[Member]) -> None:
        self.classes = tuple(str(label) for label in classes)
        self.members = list(members)

    def proba(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Probabilities over :attr:`classes` of one feature vector."""
        n_classes = len(self.classes)
        total = np.zeros(n_classes)
        for member in self.members:
            decision = member.coef[:, columns] @ values + member.intercept
            total += member.proba(decision, n_classes)
        return total / len(self.members)


def gather_dot(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    n_outputs: int,
    columns: np.ndarray,
    values: np.ndarray,
) -> np.ndarray:
    """``values @ M[columns]`` for a CSR matrix ``M`` (features x outputs) given as arrays.

    Gathers the rows of the vector's own columns straight from the CSR arrays and sums them
    with one ``bincount``: the product of a one-text vector with an inverted index.
    """
    starts = indptr[columns].tolist()
    ends = indptr[columns + 1].tolist()
    total = sum(end - start for start, end in zip(starts, ends, strict=True))
    if not total:
        return np.zeros(n_outputs)
    # Each touched row is copied once, straight into the arrays bincount reads (the row
    # numbers as intp, the weights scaled and as float64): one pass per array.
    rows = np.empty(total, dtype=np.intp)
    weights = np.empty(total, dtype=np.float64)
    at = 0
    for start, end, value in zip(starts, ends, values.tolist(), strict=True):
        if end > start:
            rows[at : at + end - start] = indices[start:end]
            np.multiply(data[start:end], value, out=weights[at : at + end - start])
            at += end - start
    return np.bincount(rows, weights=weights, minlength=n_outputs)


def gather_dot_short(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    n_outputs: int,
    columns: np.ndarray,
    values: np.ndarray,
) -> np.ndarray:
    """:func:`gather_dot` without a Python loop over the vector's columns.

    For short rows (a class centroid's column has at most one entry per class) the loop's
    per-column overhead, not the copying, is the cost: here the positions of every touched
    entry are computed at once. The entries are summed in the same order as
    :func:`gather_dot`, so the result is the same to the last bit.
    """
    starts = indptr[columns]
    lengths = indptr[columns + 1] - starts
    total = int(lengths.sum())
    if not total:
        return np.zeros(n_outputs)
    # The position of each entry: its row's start, plus its rank inside the row.
    firsts = np.cumsum(lengths) - lengths
    positions = np.arange(total) + np.repeat(starts - firsts, lengths)
    weights = data[positions].astype(np.float64, copy=False) * np.repeat(values, lengths)
    return np.bincount(indices[positions], weights=weights, minlength=n_outputs)


class Centroids:
    """Class centroids, transposed (features x centroids) in CSR arrays, for one-text cosine."""

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n: int):
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.indices = np.asarray(indices, dtype=np.int64)
        self.data = np.asarray(data, dtype=np.float64)
        self.n_centroids = int(n)

    def similarity(self, columns: np.ndarray, values: np.ndarray) -> float:
        """Nearest-centroid cosine similarity of one feature vector."""
        if columns.size == 0:
            return 0.0
        lengths = self.indptr[columns + 1] - self.indptr[columns]
        if not lengths.any():
            return 0.0
        scores = gather_dot_short(
            self.indptr, self.indices, self.data, self.n_centroids, columns, values
        )
        return float(scores.max() / math.sqrt(float(values @ values)))


# -- the model -----------------------------------------------------------------------------


class CompactTriage:
    """A triage model that scores with numpy alone (see the module notes).

    Parameters
    ----------
    features : FeatureSpace
        The category pipeline's feature step.
    head : CalibratedHead
        The category classifier (its classes may include the out-of-scope label).
    policy : Policy
    centroids : Centroids, optional
        The novelty signal (class centroids in the feature space).
    team : tuple of (FeatureSpace or None, CalibratedHead), optional
        The team head; ``None`` features: it shares ``features``.
    priority : tuple of (FeatureSpace, CalibratedHead), optional
    info : mapping, optional
        Provenance, as ``TriageModel.info``.
    """

    def __init__(
        self,
        features: FeatureSpace,
        head: CalibratedHead,
        policy: Policy,
        *,
        centroids: Centroids | None = None,
        team: tuple[FeatureSpace | None, CalibratedHead] | None = None,
        priority: tuple[FeatureSpace, CalibratedHead] | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        self.features = features
        self.head = head
        self.policy = policy
        self.centroids = centroids
        self.team = team
        self.priority = priority
        self.info: dict[str, Any] = dict(info or {})
        stems = features.block("stems")
        self._russian_stems = (
            stems.vocabulary if stems is not None and stems.analyzer.transliterate else None
        )

    # The attributes the bot reads, as on TriageModel.
    @property
    def labels(self) -> tuple[str, ...]:
        return self.policy.labels

    @property
    def teams(self) -> tuple[str, ...]:
        return self.policy.teams

    @property
    def team_map(self) -> dict[str, str] | None:
        return self.policy.team_map

    @property
    def threshold(self) -> float:
        return self.policy.threshold

    def read(self, text: str) -> str:
        """The text as the model reads it: Russian typed in Latin letters is transliterated
        (only for a model that learned Russian stems; see :func:`triage.text.read_as_russian`)."""
        if self._russian_stems is None:
            return text
        return read_as_russian(text, self._russian_stems) or text

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The category feature vector of an already :meth:`read` text."""
        return self.features.vector(text)

    def predict_proba(self, text: str) -> np.ndarray:
        """Calibrated probabilities over the category head's classes."""
        return self.head.proba(*self.vector(self.read(text)))

    def predict(self, text: str) -> TriageResult:
        """Triage one message (the same result as ``TriageModel.predict``)."""
        text = self.read(text)
        columns, values = self.features.vector(text)
        proba = self.head.proba(columns, values)
        similarity = (
            self.centroids.similarity(columns, values) if self.centroids is not None else 1.0
        )
        team_proba = priority_proba = None
        if self.team is not None:
            features, head = self.team
            team_proba = (
                head.proba(columns, values)
                if features is None
                else head.proba(*features.vector(text))
            )
        if self.priority is not None:
            features, head = self.priority
            priority_proba = head.proba(*features.vector(text))
        return self.policy.decide(
            text, proba, columns.size > 0, similarity, team_proba, priority_proba
        )
