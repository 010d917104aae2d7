"""The fitted triage model and its prediction result.

:class:`TriageModel` is a plain class that keeps the policy (abstain threshold, team map,
priority rules) outside the scikit-learn estimators.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.pipeline import FeatureUnion, Pipeline

from triage.estimators import CentroidSimilarity
from triage.features import read_as_russian
from triage.priority import PRIORITY_LEVELS, assess_priority, priority_rank

__all__ = ["TriageModel", "TriageResult"]

_N_ALTERNATIVES = 3


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


class _FastScorer:
    """Single-text ``predict_proba`` for the pipelines built by :func:`build_pipeline`.

    ``Pipeline.predict_proba`` on one text spends most of its ~5 ms in input validation,
    sparse-matrix plumbing and one Python call per class calibrator. This re-implements the
    same arithmetic on the fitted attributes (vocabularies, idf, coefficients, calibrator
    parameters) for one text; ``tests/unit/triage`` checks that it matches the pipeline.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        features, calibrated = pipeline[:-1], pipeline[-1]
        if len(features) != 1 or not isinstance(features[0], FeatureUnion | TfidfVectorizer):
            raise TypeError("unsupported feature step")
        union = features[0]
        blocks = union.transformer_list if isinstance(union, FeatureUnion) else [("v", union)]
        weights = (union.transformer_weights or {}) if isinstance(union, FeatureUnion) else {}
        self._blocks: list[tuple[Callable[[str], list[str]], dict[str, int], Any, int, float]] = []
        self._vectorisers: list[TfidfVectorizer] = []
        offset = 0
        for name, vectoriser in blocks:
            if not isinstance(vectoriser, TfidfVectorizer) or vectoriser.norm not in ("l2", None):
                raise TypeError("unsupported vectoriser")
            idf = vectoriser.idf_ if vectoriser.use_idf else None
            self._blocks.append(
                (
                    vectoriser.build_analyzer(),
                    vectoriser.vocabulary_,
                    idf,
                    offset,
                    float(weights.get(name, 1.0)),
                )
            )
            self._vectorisers.append(vectoriser)
            offset += len(vectoriser.vocabulary_)
        if not isinstance(calibrated, CalibratedClassifierCV):
            raise TypeError("unsupported classifier step")
        self.classes_ = calibrated.classes_
        self._members = []
        for member in calibrated.calibrated_classifiers_:
            estimator = member.estimator
            if not isinstance(estimator, LinearClassifierMixin) or member.method not in (
                "temperature",
                "sigmoid",
            ):
                raise TypeError("unsupported calibrated classifier")
            n_estimator_classes = len(estimator.classes_)
            if member.method == "temperature":
                # sklearn fits the estimator on encoded labels here and applies the
                # calibrator to the whole decision matrix (no per-class re-indexing).
                if n_estimator_classes != self.classes_.shape[0]:
                    raise TypeError("unsupported class layout")
                positions = np.arange(n_estimator_classes)
            else:
                index = {label: i for i, label in enumerate(self.classes_.tolist())}
                positions = np.array([index[label] for label in estimator.classes_.tolist()])
            if member.method == "temperature":
                params: Any = float(member.calibrators[0].beta_)
            else:
                params = (
                    np.array([c.a_ for c in member.calibrators], dtype=float),
                    np.array([c.b_ for c in member.calibrators], dtype=float),
                )
            self._members.append(
                (
                    np.asarray(estimator.coef_),
                    np.asarray(estimator.intercept_),
                    member.method,
                    params,
                    positions,
                )
            )

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and values of the feature vector of one text."""
        columns: list[int] = []
        values: list[float] = []
        for (analyse, vocabulary, idf, offset, weight), vectoriser in zip(
            self._blocks, self._vectorisers, strict=True
        ):
            counts: dict[int, int] = {}
            for token in analyse(text):
                index = vocabulary.get(token)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            if not counts:
                continue
            block_columns = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=float, count=len(counts))
            if vectoriser.binary:
                tf[:] = 1.0
            elif vectoriser.sublinear_tf:
                tf = np.log(tf) + 1.0
            if idf is not None:
                tf = tf * idf[block_columns]
            if vectoriser.norm == "l2":
                tf = tf / math.sqrt(float(tf @ tf))
            columns.extend((block_columns + offset).tolist())
            values.extend((tf * weight).tolist())
        return np.asarray(columns, dtype=np.intp), np.asarray(values, dtype=float)

    def predict_proba(self, text: str) -> tuple[np.ndarray, bool]:
        """Probabilities over ``classes_`` and whether the text had any known feature."""
        columns, values = self.features(text)
        return self.proba_of(columns, values), columns.size > 0

    def proba_of(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Probabilities over ``classes_`` of a feature vector given by :meth:`features`."""
        n_classes = self.classes_.shape[0]
        total = np.zeros(n_classes)
        for coef, intercept, method, params, positions in self._members:
            decision = coef[:, columns] @ values + intercept
            proba = np.zeros(n_classes)
            if method == "temperature":
                logits = np.array([-decision[0], decision[0]]) if decision.size == 1 else decision
                scaled = params * logits
                scaled = np.exp(scaled - scaled.max())
                proba[positions if decision.size > 1 else slice(None)] = scaled / scaled.sum()
            else:
                slopes, offsets = params
                calibrated = expit(-(slopes * decision + offsets))
                if n_classes == 2:
                    proba[1] = calibrated[0]
                    proba[0] = 1.0 - proba[1]
                else:
                    proba[positions] = calibrated
                    denominator = proba.sum()
                    proba = (
                        proba / denominator
                        if denominator != 0
                        else np.full(n_classes, 1.0 / n_classes)
                    )
            proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
            total += proba
        return total / len(self._members)


def _russian_stems(pipeline: Pipeline) -> Mapping[str, int] | None:
    """The stem block's vocabulary when it holds Russian stems (else no reading to choose)."""
    union = pipeline[0] if isinstance(pipeline, Pipeline) and len(pipeline) > 1 else None
    if not isinstance(union, FeatureUnion):
        return None
    stem = dict(union.transformer_list).get("stem")
    if not getattr(stem, "reads_transliteration_", False):
        return None  # no Russian stems, or a model saved before StemVectorizer
    return stem.vocabulary_  # type: ignore[union-attr]


def _compile(pipeline: Pipeline | None) -> _FastScorer | None:
    if pipeline is None:
        return None
    try:
        return _FastScorer(pipeline)
    except (TypeError, AttributeError):
        return None


class TriageModel:
    """A fitted category classifier plus the policy around it.

    The out-of-scope decision combines three signals, each of which can mark a message
    ``needs_human`` on its own: the explicit "none of these" class (``oos_label``) being
    more probable than the best category, the similarity to the nearest category centroid
    (``novelty``) below ``similarity_threshold``, and the calibrated confidence below
    ``threshold``. :func:`triage.train` chooses both thresholds on validation data that
    holds out-of-scope rows.

    Parameters
    ----------
    pipeline : Pipeline
        Fitted category pipeline (see :func:`triage.build_pipeline`); must have
        ``predict_proba``. Its classes may include ``oos_label``.
    threshold : float
        Confidence threshold: a message whose best category's calibrated probability is
        below it is flagged ``needs_human``.
    similarity_threshold : float, default=0.0
        Novelty threshold: a message whose cosine similarity to every category centroid is
        below it is out of scope. Needs ``novelty``.
    novelty : CentroidSimilarity, optional
        Fitted on the output of the pipeline's feature step, with ``oos_label`` excluded.
    oos_label : str, optional
        The "none of these" class of the pipeline, if it has one. It is never returned as
        a category and needs no team.
    team_map : mapping of str to str, optional
        Category -> team. Every label of ``pipeline`` must be mapped.
    team_pipeline : Pipeline, optional
        Fitted team classifier. Without a ``team_map`` it decides the team alone; with
        one, its probabilities are averaged with the summed probabilities of each team's
        categories (its classes must be the map's teams). When it shares the category
        pipeline's fitted feature step, a message is vectorised once. Without both, the
        team is the category.
    priority_pipeline : Pipeline, optional
        Fitted classifier over ``low/normal/high/urgent``, combined with the rules of
        :mod:`triage.priority`: high and urgent cues are floors (the result is the higher of
        cue and model), a low cue lowers a ``normal`` model answer, and without cues the
        model decides.
    info : mapping, optional
        Free-form provenance (threshold selection, data hash, metrics, ...) kept in
        ``meta.json`` by :func:`triage.save`.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        threshold: float,
        similarity_threshold: float = 0.0,
        novelty: CentroidSimilarity | None = None,
        oos_label: str | None = None,
        team_map: Mapping[str, str] | None = None,
        team_pipeline: Pipeline | None = None,
        priority_pipeline: Pipeline | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(pipeline, ClassifierMixin | Pipeline) or not hasattr(
            pipeline, "predict_proba"
        ):
            raise TypeError("pipeline must be a fitted classifier with predict_proba")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within [0, 1], got {threshold}")
        if not 0.0 <= similarity_threshold <= 1.0:
            raise ValueError(
                f"similarity_threshold must be within [0, 1], got {similarity_threshold}"
            )
        self.pipeline = pipeline
        self.threshold = float(threshold)
        self.similarity_threshold = float(similarity_threshold)
        self.novelty = novelty
        self.oos_label = oos_label
        #: Every class of the pipeline, ``oos_label`` included (columns of predict_proba).
        self.classes: tuple[str, ...] = tuple(str(label) for label in pipeline.classes_)
        in_scope = [i for i, label in enumerate(self.classes) if label != oos_label]
        if not in_scope:
            raise ValueError("the pipeline has no category besides the out-of-scope label")
        self._in_scope = np.asarray(in_scope, dtype=np.intp)
        self._oos_index = self.classes.index(oos_label) if oos_label in self.classes else None
        #: The categories (``oos_label`` excluded).
        self.labels: tuple[str, ...] = tuple(self.classes[i] for i in in_scope)
        self._centroids_t = novelty.centroids_.T.tocsr() if novelty is not None else None
        self.team_map: dict[str, str] | None = dict(team_map) if team_map is not None else None
        if self.team_map is not None:
            missing = sorted(set(self.labels) - set(self.team_map))
            if missing:
                raise ValueError(f"team map has no team for: {', '.join(missing)}")
        self.team_pipeline = team_pipeline
        self.priority_pipeline = priority_pipeline
        self.info: dict[str, Any] = dict(info or {})
        self._labels_array = np.asarray(self.labels, dtype=object)
        self._scorer = _compile(pipeline)
        self._russian_stems = _russian_stems(pipeline)
        self._team_scorer = _compile(self.team_pipeline)
        self._priority_scorer = _compile(priority_pipeline)
        # A team head on the category pipeline's own features scores the same vector.
        self._team_shares_features = (
            self._scorer is not None
            and self._team_scorer is not None
            and self.team_pipeline is not None
            and self.team_pipeline[0] is pipeline[0]
        )
        if self.team_map is not None:
            self.teams: tuple[str, ...] = tuple(sorted({self.team_map[x] for x in self.labels}))
            self._team_index = np.array([self.teams.index(self.team_map[x]) for x in self.labels])
            if self.team_pipeline is not None:
                head = [str(team) for team in self.team_pipeline.classes_]
                if sorted(head) != list(self.teams):
                    raise ValueError("the team pipeline's classes are not the team map's teams")
                self._team_columns = np.array([head.index(team) for team in self.teams])
        elif self.team_pipeline is not None:
            self.teams = tuple(str(team) for team in self.team_pipeline.classes_)
        else:
            self.teams = self.labels

    def __repr__(self) -> str:
        return (
            f"TriageModel(labels={len(self.labels)}, teams={len(self.teams)}, "
            f"threshold={self.threshold:.3f}, "
            f"similarity_threshold={self.similarity_threshold:.3f}, "
            f"oos_label={self.oos_label!r}, priority_model={self.priority_pipeline is not None})"
        )

    def with_thresholds(
        self, threshold: float, similarity_threshold: float, **info: Any
    ) -> TriageModel:
        """The same fitted model with other thresholds (``info`` entries are replaced).

        Parameters
        ----------
        threshold, similarity_threshold : float
            See the class parameters.
        **info
            Entries to set in the new model's :attr:`info`.

        Returns
        -------
        TriageModel
        """
        return TriageModel(
            self.pipeline,
            threshold=threshold,
            similarity_threshold=similarity_threshold,
            novelty=self.novelty,
            oos_label=self.oos_label,
            team_map=self.team_map,
            team_pipeline=self.team_pipeline,
            priority_pipeline=self.priority_pipeline,
            info={**self.info, **info},
        )

    # -- probabilities ---------------------------------------------------------------------

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated class probabilities, columns in the order of :attr:`classes`.

        Parameters
        ----------
        texts : sequence of str
            Messages.

        Returns
        -------
        ndarray of shape (n_texts, n_labels)
        """
        return np.asarray(self.pipeline.predict_proba([self._read(text) for text in texts]))

    def _read(self, text: str) -> str:
        """The text as the model reads it: Russian typed in Latin letters is transliterated.

        Only for a model that learned Russian stems, and only when the transliterated
        reading knows more of the message's Latin words than the Latin one
        (:func:`triage.features.read_as_russian`).
        """
        if self._russian_stems is None:
            return text
        return read_as_russian(text, self._russian_stems) or text

    def _batch(
        self, pipeline: Pipeline, texts: list[str], novelty: CentroidSimilarity | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
        features = pipeline[:-1].transform(texts)
        known = np.diff(features.indptr) > 0 if hasattr(features, "indptr") else None
        proba = np.asarray(pipeline[-1].predict_proba(features))
        if known is None:
            known = np.ones(len(texts), dtype=bool)
        similarity = (
            novelty.transform(features).max(axis=1) if novelty is not None else np.ones(len(texts))
        )
        return proba, known, similarity, features

    def _similarity(self, columns: np.ndarray, values: np.ndarray) -> float:
        """Nearest-centroid cosine similarity of one feature vector (fast path)."""
        if self._centroids_t is None:
            return 1.0
        if columns.size == 0:
            return 0.0
        # The rows of the transposed centroid matrix for this message's columns, gathered
        # straight from the CSR arrays: slicing a scipy matrix costs ten times more here.
        matrix = self._centroids_t
        starts, ends = matrix.indptr[columns], matrix.indptr[columns + 1]
        lengths = ends - starts
        if not lengths.any():
            return 0.0
        offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        positions = np.arange(int(lengths.sum())) + offsets
        weights = matrix.data[positions] * np.repeat(values, lengths)
        scores = np.bincount(matrix.indices[positions], weights=weights, minlength=matrix.shape[1])
        return float(scores.max() / math.sqrt(float(values @ values)))

    # -- predictions -----------------------------------------------------------------------

    def predict(self, text: str) -> TriageResult:
        """Triage one message.

        Parameters
        ----------
        text : str
            The customer's message.

        Returns
        -------
        TriageResult
        """
        text = self._read(text)
        if self._scorer is not None:
            columns, values = self._scorer.features(text)
            proba, known = self._scorer.proba_of(columns, values), columns.size > 0
            similarity = self._similarity(columns, values)
        else:
            batch, known_rows, similarities, _ = self._batch(self.pipeline, [text], self.novelty)
            proba, known, similarity = batch[0], bool(known_rows[0]), float(similarities[0])
        team_proba = priority_proba = None
        if self._team_shares_features:
            team_proba = self._team_scorer.proba_of(columns, values)  # type: ignore[union-attr]
        elif self.team_pipeline is not None:
            team_proba = (
                self._team_scorer.predict_proba(text)[0]
                if self._team_scorer is not None
                else self.team_pipeline.predict_proba([text])[0]
            )
        if self.priority_pipeline is not None:
            priority_proba = (
                self._priority_scorer.predict_proba(text)[0]
                if self._priority_scorer is not None
                else self.priority_pipeline.predict_proba([text])[0]
            )
        return self._result(text, proba, known, similarity, team_proba, priority_proba)

    def predict_many(self, texts: Iterable[str]) -> list[TriageResult]:
        """Triage many messages at once (vectorised; same results as :meth:`predict`).

        Parameters
        ----------
        texts : iterable of str
            Messages.

        Returns
        -------
        list of TriageResult
        """
        texts = [self._read(str(text)) for text in texts]
        if not texts:
            return []
        proba, known, similarity, features = self._batch(self.pipeline, texts, self.novelty)
        team_proba = None
        if self.team_pipeline is not None:
            team_proba = (
                self.team_pipeline[-1].predict_proba(features)
                if self.team_pipeline[0] is self.pipeline[0]
                else self.team_pipeline.predict_proba(texts)
            )
        priority_proba = (
            self.priority_pipeline.predict_proba(texts)
            if self.priority_pipeline is not None
            else None
        )
        return [
            self._result(
                text,
                proba[row],
                bool(known[row]),
                float(similarity[row]),
                None if team_proba is None else team_proba[row],
                None if priority_proba is None else priority_proba[row],
            )
            for row, text in enumerate(texts)
        ]

    def _result(
        self,
        text: str,
        all_proba: np.ndarray,
        known: bool,
        similarity: float,
        team_proba: np.ndarray | None,
        priority_proba: np.ndarray | None,
    ) -> TriageResult:
        proba = all_proba[self._in_scope]
        order = np.argsort(-proba, kind="stable")[:_N_ALTERNATIVES]
        best = int(order[0])
        category = self.labels[best]
        confidence = float(proba[best])
        oos_proba = float(all_proba[self._oos_index]) if self._oos_index is not None else 0.0
        out_of_scope = (
            (not known) or oos_proba > confidence or similarity < self.similarity_threshold
        )
        if self.team_map is not None:
            # The team is decided on its own: the summed probability of its categories. A
            # message split between two categories of one team belongs to that team even
            # when a category of another team is the single most probable one.
            summed = np.bincount(self._team_index, weights=proba, minlength=len(self.teams))
            # With a team head, its own view of the team counts as much as the categories'.
            team_proba = (
                summed if team_proba is None else (summed + team_proba[self._team_columns]) / 2
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
        if priority_proba is None or self.priority_pipeline is None:
            return rules.level, rules.confidence, rules.cues
        classes = [str(level) for level in self.priority_pipeline.classes_]
        best = int(np.argmax(priority_proba))
        model_level, model_confidence = classes[best], float(priority_proba[best])
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
