"""The fitted triage model and its prediction result.

:class:`TriageModel` is a plain class that keeps the policy (abstain threshold, team map,
priority rules) outside the scikit-learn estimators. The policy itself
(:class:`~triage.compact.Policy`) and the single-text scoring live in :mod:`triage.compact`,
shared with the numpy-only form the bot serves with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.pipeline import FeatureUnion, Pipeline

from triage.compact import CompactTriage
from triage.estimators import CentroidSimilarity
from triage.export import export_model
from triage.policy import Policy, TriageResult
from triage.text import read_as_russian

__all__ = ["TriageModel", "TriageResult"]


def _russian_stems(pipeline: Pipeline) -> Mapping[str, int] | None:
    """The stem block's vocabulary when it holds Russian stems (else no reading to choose)."""
    union = pipeline[0] if isinstance(pipeline, Pipeline) and len(pipeline) > 1 else None
    if not isinstance(union, FeatureUnion):
        return None
    stem = dict(union.transformer_list).get("stem")
    if not getattr(stem, "reads_transliteration_", False):
        return None  # no Russian stems, or a model saved before StemVectorizer
    return stem.vocabulary_  # type: ignore[union-attr]


def _compile(model: TriageModel) -> CompactTriage | None:
    """The model's numpy form (the fast single-text path), or None for a pipeline that
    :mod:`triage.export` does not support (then predictions go through scikit-learn)."""
    try:
        return export_model(model)
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
        self.pipeline = pipeline
        self.novelty = novelty
        self.team_pipeline = team_pipeline
        self.priority_pipeline = priority_pipeline
        self.info: dict[str, Any] = dict(info or {})
        self._policy = Policy(
            [str(label) for label in pipeline.classes_],
            threshold=threshold,
            similarity_threshold=similarity_threshold,
            oos_label=oos_label,
            team_map=team_map,
            team_classes=None
            if team_pipeline is None
            else [str(team) for team in team_pipeline.classes_],
            priority_classes=None
            if priority_pipeline is None
            else [str(level) for level in priority_pipeline.classes_],
        )
        self.threshold = self._policy.threshold
        self.similarity_threshold = self._policy.similarity_threshold
        self.oos_label = oos_label
        #: Every class of the pipeline, ``oos_label`` included (columns of predict_proba).
        self.classes: tuple[str, ...] = self._policy.classes
        #: The categories (``oos_label`` excluded).
        self.labels: tuple[str, ...] = self._policy.labels
        self.team_map: dict[str, str] | None = self._policy.team_map
        self.teams: tuple[str, ...] = self._policy.teams
        self._russian_stems = _russian_stems(pipeline)
        #: The numpy form of the model (:mod:`triage.compact`): single texts are scored with
        #: it, and :func:`triage.save` writes it beside the pickle for the bot process.
        self.compact = _compile(self)

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
        if self.compact is not None:
            return self.compact.predict(text)
        return self._predict_read([self._read(text)])[0]

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
        return self._predict_read(texts)

    def _predict_read(self, texts: list[str]) -> list[TriageResult]:
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
            self._policy.decide(
                text,
                proba[row],
                bool(known[row]),
                float(similarity[row]),
                None if team_proba is None else team_proba[row],
                None if priority_proba is None else priority_proba[row],
            )
            for row, text in enumerate(texts)
        ]
