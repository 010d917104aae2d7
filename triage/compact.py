"""The fitted triage model as plain arrays: scoring with numpy alone, no scikit-learn.

A fitted pipeline of :func:`triage.build_pipeline` is, for one text, a handful of
dictionary look-ups and one small matrix product: analyse the text into tokens (the same
analyzers as scikit-learn's ``TfidfVectorizer.build_analyzer()``, reimplemented here),
count the tokens found in each block's vocabulary, weight them (sub-linear tf, idf, l2
norm, the block's weight in the union), multiply by the linear model's coefficients and
calibrate the decision values (temperature, sigmoid or isotonic, averaged over the
calibration members as scikit-learn does). :func:`triage.export.export_model` writes that
state from a fitted :class:`~triage.model.TriageModel`; this module reads and runs it.

The bot process loads only this form (``compact.npz`` + ``compact.json`` beside
``model.joblib``; no pickle), so it never imports scikit-learn or scipy: about 80 MB less
per worker. ``tests/unit/triage/test_triage_compact.py`` checks that predictions equal the
scikit-learn pipeline's, and that the analyzers yield exactly scikit-learn's tokens.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np

from triage.priority import PRIORITY_LEVELS, assess_priority, priority_rank
from triage.text import (
    normalise_text,
    read_as_russian,
    stemmed_words,
    stemmed_words_and_transliterations,
)

__all__ = [
    "ARRAYS_FILE",
    "FORMAT",
    "SPEC_FILE",
    "AnalyzerSpec",
    "CalibratedHead",
    "CompactTriage",
    "FeatureSpace",
    "Policy",
    "TfidfBlock",
    "TriageResult",
    "gather_dot",
    "load_compact",
    "save_compact",
]

FORMAT = "helpdesk-triage-compact/1"
ARRAYS_FILE = "compact.npz"
SPEC_FILE = "compact.json"

_N_ALTERNATIVES = 3
_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn's _VectorizerMixin


@dataclass(frozen=True, slots=True)
class TriageResult:
    """Prediction for one message.

    Attributes
    ----------
    category : str
        Most probable category.
    team : str
        Team that handles the message. With a team map, the team whose categories have the
        largest summed probability, averaged with the team head's probability when the model
        has one (it may differ from the team of ``category``).
    priority : str
        One of ``low``, ``normal``, ``high``, ``urgent``.
    confidence : float
        Calibrated probability of ``category``.
    team_confidence : float
        Probability of ``team`` (with a team map: the summed probability of its categories,
        averaged with the team head's).
    priority_confidence : float
        Confidence of ``priority`` (rule confidence or priority-model probability).
    needs_human : bool
        True when the message is out of scope (see ``out_of_scope``) or ``confidence`` is
        below the model's confidence threshold.
    alternatives : tuple of (str, float)
        The top three categories with their probabilities, best first.
    priority_cues : tuple of str
        Names of the urgency cues found in the text.
    similarity : float
        Cosine similarity to the nearest category centroid in the feature space (1.0 for a
        model without centroids): the novelty signal.
    out_of_scope : bool
        True when the message looks like none of the categories: the explicit "none of
        these" class is more probable than ``category``, ``similarity`` is below the
        model's similarity threshold, or the text has no feature seen in training.
    """

    category: str
    team: str
    priority: str
    confidence: float
    team_confidence: float
    priority_confidence: float
    needs_human: bool
    alternatives: tuple[tuple[str, float], ...]
    priority_cues: tuple[str, ...] = ()
    similarity: float = 1.0
    out_of_scope: bool = False


# -- analyzers -----------------------------------------------------------------------------


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


# -- the policy ----------------------------------------------------------------------------


class Policy:
    """The rules around the classifiers: out of scope, confidence threshold, team, priority.

    Shared by :class:`~triage.model.TriageModel` (scikit-learn) and :class:`CompactTriage`
    (numpy), so both decide alike from the same probabilities.
    """

    def __init__(
        self,
        classes: Sequence[str],
        *,
        threshold: float,
        similarity_threshold: float,
        oos_label: str | None,
        team_map: Mapping[str, str] | None,
        team_classes: Sequence[str] | None,
        priority_classes: Sequence[str] | None,
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within [0, 1], got {threshold}")
        if not 0.0 <= similarity_threshold <= 1.0:
            raise ValueError(
                f"similarity_threshold must be within [0, 1], got {similarity_threshold}"
            )
        self.threshold = float(threshold)
        self.similarity_threshold = float(similarity_threshold)
        self.oos_label = oos_label
        self.classes = tuple(str(label) for label in classes)
        in_scope = [i for i, label in enumerate(self.classes) if label != oos_label]
        if not in_scope:
            raise ValueError("the pipeline has no category besides the out-of-scope label")
        self.in_scope = np.asarray(in_scope, dtype=np.intp)
        self.oos_index = self.classes.index(oos_label) if oos_label in self.classes else None
        self.labels = tuple(self.classes[i] for i in in_scope)
        self.team_map: dict[str, str] | None = dict(team_map) if team_map is not None else None
        self.team_classes = None if team_classes is None else tuple(map(str, team_classes))
        self.priority_classes = (
            None if priority_classes is None else tuple(map(str, priority_classes))
        )
        if self.team_map is not None:
            missing = sorted(set(self.labels) - set(self.team_map))
            if missing:
                raise ValueError(f"team map has no team for: {', '.join(missing)}")
            self.teams: tuple[str, ...] = tuple(sorted({self.team_map[x] for x in self.labels}))
            self.team_index = np.array([self.teams.index(self.team_map[x]) for x in self.labels])
            if self.team_classes is not None:
                if sorted(self.team_classes) != list(self.teams):
                    raise ValueError("the team pipeline's classes are not the team map's teams")
                self.team_columns = np.array([self.team_classes.index(t) for t in self.teams])
        elif self.team_classes is not None:
            self.teams = self.team_classes
        else:
            self.teams = self.labels

    def decide(
        self,
        text: str,
        all_proba: np.ndarray,
        known: bool,
        similarity: float,
        team_proba: np.ndarray | None,
        priority_proba: np.ndarray | None,
    ) -> TriageResult:
        """The result for one text from its probabilities and novelty signals."""
        proba = all_proba[self.in_scope]
        order = np.argsort(-proba, kind="stable")[:_N_ALTERNATIVES]
        best = int(order[0])
        category = self.labels[best]
        confidence = float(proba[best])
        oos_proba = float(all_proba[self.oos_index]) if self.oos_index is not None else 0.0
        out_of_scope = (
            (not known) or oos_proba > confidence or similarity < self.similarity_threshold
        )
        if self.team_map is not None:
            # The team is decided on its own: the summed probability of its categories. A
            # message split between two categories of one team belongs to that team even
            # when a category of another team is the single most probable one.
            summed = np.bincount(self.team_index, weights=proba, minlength=len(self.teams))
            # With a team head, its own view of the team counts as much as the categories'.
            team_proba = (
                summed if team_proba is None else (summed + team_proba[self.team_columns]) / 2
            )
            team_best = int(np.argmax(team_proba))
            team, team_confidence = self.teams[team_best], float(team_proba[team_best])
        elif team_proba is not None:
            team_best = int(np.argmax(team_proba))
            team = self.teams[team_best]
            team_confidence = float(team_proba[team_best])
        else:
            team, team_confidence = category, confidence
        priority, priority_confidence, cues = self._priority(text, priority_proba)
        return TriageResult(
            category=category,
            team=team,
            priority=priority,
            confidence=confidence,
            team_confidence=min(1.0, team_confidence),
            priority_confidence=priority_confidence,
            needs_human=out_of_scope or confidence < self.threshold,
            alternatives=tuple((self.labels[int(i)], float(proba[int(i)])) for i in order),
            priority_cues=cues,
            similarity=similarity,
            out_of_scope=out_of_scope,
        )

    def _priority(
        self, text: str, priority_proba: np.ndarray | None
    ) -> tuple[str, float, tuple[str, ...]]:
        rules = assess_priority(text)
        if priority_proba is None or self.priority_classes is None:
            return rules.level, rules.confidence, rules.cues
        best = int(np.argmax(priority_proba))
        model_level = self.priority_classes[best]
        model_confidence = float(priority_proba[best])
        if model_level not in PRIORITY_LEVELS:  # pragma: no cover - train() validates levels
            return rules.level, rules.confidence, rules.cues
        if rules.level in ("high", "urgent"):
            if priority_rank(rules.level) > priority_rank(model_level):
                return rules.level, rules.confidence, rules.cues
            if rules.level == model_level:
                return model_level, max(rules.confidence, model_confidence), rules.cues
            return model_level, model_confidence, rules.cues
        if rules.level == "low" and model_level == "normal":
            return "low", rules.confidence, rules.cues
        return model_level, model_confidence, rules.cues


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
    # One copy of each touched row (a slice each: a text has a few hundred columns), then
    # one weighted count: fewer passes over the data than gathering by computed positions.
    lengths = [end - start for start, end in zip(starts, ends, strict=True)]
    if not any(lengths):
        return np.zeros(n_outputs)
    rows = np.concatenate([indices[s:e] for s, e in zip(starts, ends, strict=True)])
    weights = np.concatenate([data[s:e] for s, e in zip(starts, ends, strict=True)])
    weights = weights * np.repeat(values.astype(weights.dtype, copy=False), lengths)
    return np.bincount(rows, weights=weights, minlength=n_outputs)


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
        scores = gather_dot(
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


# -- files ---------------------------------------------------------------------------------


class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def put(self, name: str, array: Any) -> str:
        key = f"a{len(self.arrays)}"
        self.arrays[key] = np.asarray(array)
        return key


def _features_spec(space: FeatureSpace, writer: _Writer) -> list[dict[str, Any]]:
    return [
        {
            "analyzer": block.analyzer.to_dict(),
            "terms": writer.put("terms", block.terms()),
            "idf": None if block.idf is None else writer.put("idf", block.idf),
            "sublinear_tf": block.sublinear_tf,
            "binary": block.binary,
            "norm": block.norm,
            "weight": block.weight,
        }
        for block in space.blocks
    ]


def _head_spec(head: CalibratedHead, writer: _Writer) -> dict[str, Any]:
    members = []
    for member in head.members:
        params: dict[str, Any] = {}
        if member.method == "temperature":
            params["beta"] = float(member.params["beta"])
        elif member.method == "sigmoid":
            params["a"] = writer.put("a", member.params["a"])
            params["b"] = writer.put("b", member.params["b"])
        else:
            params["x"] = [writer.put("x", x) for x in member.params["x"]]
            params["y"] = [writer.put("y", y) for y in member.params["y"]]
            params["x_min"] = writer.put("x_min", member.params["x_min"])
            params["x_max"] = writer.put("x_max", member.params["x_max"])
        members.append(
            {
                "method": member.method,
                "coef": writer.put("coef", member.coef),
                "intercept": writer.put("intercept", member.intercept),
                "positions": writer.put("positions", member.positions),
                "params": params,
            }
        )
    return {"classes": list(head.classes), "members": members}


def save_compact(model: CompactTriage, directory: str | Path) -> tuple[Path, Path]:
    """Write ``compact.npz`` (arrays, no pickle) and ``compact.json`` (the rest).

    Returns
    -------
    tuple of Path
        The two files. The caller makes the directory appear atomically
        (see :func:`triage.save`).
    """
    directory = Path(directory)
    writer = _Writer()
    policy = model.policy
    spec: dict[str, Any] = {
        "format": FORMAT,
        "features": _features_spec(model.features, writer),
        "head": _head_spec(model.head, writer),
        "policy": {
            "threshold": policy.threshold,
            "similarity_threshold": policy.similarity_threshold,
            "oos_label": policy.oos_label,
            "team_map": policy.team_map,
        },
        "centroids": None,
        "team": None,
        "priority": None,
        "info": model.info,
    }
    if model.centroids is not None:
        c = model.centroids
        spec["centroids"] = {
            "indptr": writer.put("indptr", c.indptr),
            "indices": writer.put("indices", c.indices),
            "data": writer.put("data", c.data),
            "n": c.n_centroids,
        }
    if model.team is not None:
        features, head = model.team
        spec["team"] = {
            "features": None if features is None else _features_spec(features, writer),
            "head": _head_spec(head, writer),
        }
    if model.priority is not None:
        features, head = model.priority
        spec["priority"] = {
            "features": _features_spec(features, writer),
            "head": _head_spec(head, writer),
        }
    arrays, spec_path = directory / ARRAYS_FILE, directory / SPEC_FILE
    with arrays.open("wb") as stream:
        np.savez(stream, allow_pickle=False, **writer.arrays)
    spec_path.write_text(
        json.dumps(spec, ensure_ascii=False, sort_keys=True, default=str), encoding="utf-8"
    )
    return arrays, spec_path


def _read_features(spec: list[dict[str, Any]], arrays: Mapping[str, np.ndarray]) -> FeatureSpace:
    return FeatureSpace(
        [
            TfidfBlock(
                AnalyzerSpec.from_dict(block["analyzer"]),
                arrays[block["terms"]].tolist(),
                None if block["idf"] is None else arrays[block["idf"]],
                sublinear_tf=block["sublinear_tf"],
                binary=block["binary"],
                norm=block["norm"],
                weight=block["weight"],
            )
            for block in spec
        ]
    )


def _read_head(spec: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> CalibratedHead:
    members = []
    for member in spec["members"]:
        stored = member["params"]
        params: dict[str, Any]
        if member["method"] == "temperature":
            params = {"beta": float(stored["beta"])}
        elif member["method"] == "sigmoid":
            params = {"a": arrays[stored["a"]], "b": arrays[stored["b"]]}
        else:
            params = {
                "x": [arrays[key] for key in stored["x"]],
                "y": [arrays[key] for key in stored["y"]],
                "x_min": arrays[stored["x_min"]],
                "x_max": arrays[stored["x_max"]],
            }
        members.append(
            Member(
                coef=arrays[member["coef"]],
                intercept=arrays[member["intercept"]],
                method=member["method"],
                positions=arrays[member["positions"]],
                params=params,
            )
        )
    return CalibratedHead(spec["classes"], members)


def load_compact(directory: str | Path, *, info: Mapping[str, Any] | None = None) -> CompactTriage:
    """Read a model written by :func:`save_compact`.

    Parameters
    ----------
    directory : str or Path
        The saved model directory.
    info : mapping, optional
        Provenance to keep on the model (``info`` of ``meta.json``, say) instead of the
        copy in ``compact.json``.

    Raises
    ------
    ValueError
        When the files are not a compact triage model of this format.
    OSError
        When a file cannot be read.
    """
    directory = Path(directory)
    spec = json.loads((directory / SPEC_FILE).read_text(encoding="utf-8"))
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise ValueError(f"{directory / SPEC_FILE}: not a {FORMAT} file")
    with np.load(directory / ARRAYS_FILE, allow_pickle=False) as stored:
        arrays = {key: stored[key] for key in stored.files}
    features = _read_features(spec["features"], arrays)
    head = _read_head(spec["head"], arrays)
    team = priority = None
    if spec["team"] is not None:
        shared = spec["team"]["features"]
        team = (
            None if shared is None else _read_features(shared, arrays),
            _read_head(spec["team"]["head"], arrays),
        )
    if spec["priority"] is not None:
        priority = (
            _read_features(spec["priority"]["features"], arrays),
            _read_head(spec["priority"]["head"], arrays),
        )
    centroids = None
    if spec["centroids"] is not None:
        c = spec["centroids"]
        centroids = Centroids(arrays[c["indptr"]], arrays[c["indices"]], arrays[c["data"]], c["n"])
    stored_policy = spec["policy"]
    policy = Policy(
        head.classes,
        threshold=float(stored_policy["threshold"]),
        similarity_threshold=float(stored_policy["similarity_threshold"]),
        oos_label=stored_policy["oos_label"],
        team_map=stored_policy["team_map"],
        team_classes=None if team is None else team[1].classes,
        priority_classes=None if priority is None else priority[1].classes,
    )
    return CompactTriage(
        features,
        head,
        policy,
        centroids=centroids,
        team=team,
        priority=priority,
        info=spec.get("info") if info is None else info,
    )
