"""Export fitted scikit-learn pipelines to the numpy-only form of :mod:`triage.compact`.

Supported: a :class:`~sklearn.pipeline.FeatureUnion` (or one vectoriser) of
:class:`~sklearn.feature_extraction.text.TfidfVectorizer` blocks (scikit-learn's analyzers
with :func:`triage.text.normalise_text` or the built-in preprocessing, and the
:class:`~triage.features.StemVectorizer`), followed by a
:class:`~sklearn.calibration.CalibratedClassifierCV` over a linear model, calibrated by
temperature, sigmoid or isotonic regression. Anything else raises ``TypeError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.pipeline import FeatureUnion, Pipeline

from triage.analyzers import AnalyzerSpec
from triage.compact import (
    CalibratedHead,
    Centroids,
    CompactTriage,
    FeatureSpace,
    Member,
    TfidfBlock,
)
from triage.estimators import CentroidSimilarity
from triage.policy import Policy
from triage.text import normalise_text, stemmed_words

if TYPE_CHECKING:
    from triage.model import TriageModel

__all__ = ["export_features", "export_head", "export_model", "export_pipeline"]


def _analyzer(vectoriser: TfidfVectorizer) -> AnalyzerSpec:
    if vectoriser.input != "content" or vectoriser.tokenizer is not None:
        raise TypeError("unsupported vectoriser input or tokenizer")
    if vectoriser.stop_words is not None:
        raise TypeError("stop words are not supported")
    if callable(vectoriser.analyzer):
        if vectoriser.analyzer is not stemmed_words:
            raise TypeError(f"unsupported analyzer {vectoriser.analyzer!r}")
        return AnalyzerSpec(
            "stems", transliterate=bool(getattr(vectoriser, "reads_transliteration_", False))
        )
    if vectoriser.preprocessor is not None and vectoriser.preprocessor is not normalise_text:
        raise TypeError(f"unsupported preprocessor {vectoriser.preprocessor!r}")
    if vectoriser.strip_accents not in (None, "ascii", "unicode"):
        raise TypeError("unsupported strip_accents")
    low, high = vectoriser.ngram_range
    return AnalyzerSpec(
        vectoriser.analyzer,
        ngram_range=(int(low), int(high)),
        lowercase=bool(vectoriser.lowercase),
        strip_accents=vectoriser.strip_accents,
        preprocessor="normalise_text" if vectoriser.preprocessor is not None else None,
        token_pattern=vectoriser.token_pattern,
    )


def _block(vectoriser: Any, weight: float) -> TfidfBlock:
    if not isinstance(vectoriser, TfidfVectorizer) or vectoriser.norm not in ("l1", "l2", None):
        raise TypeError("unsupported vectoriser")
    if np.dtype(vectoriser.dtype) != np.float64:
        raise TypeError("only float64 vectorisers are supported")
    terms = [""] * len(vectoriser.vocabulary_)
    for term, column in vectoriser.vocabulary_.items():
        terms[column] = term
    return TfidfBlock(
        _analyzer(vectoriser),
        terms,
        np.asarray(vectoriser.idf_, dtype=np.float64) if vectoriser.use_idf else None,
        sublinear_tf=vectoriser.sublinear_tf,
        binary=vectoriser.binary,
        norm=vectoriser.norm,
        weight=weight,
    )


def export_features(step: Any) -> FeatureSpace:
    """The fitted feature step (a union of TF-IDF blocks, or one) as a :class:`FeatureSpace`."""
    if isinstance(step, FeatureUnion):
        weights = step.transformer_weights or {}
        return FeatureSpace(
            [
                _block(vectoriser, float(weights.get(name, 1.0)))
                for name, vectoriser in step.transformer_list
                if vectoriser not in ("drop", None)
            ]
        )
    return FeatureSpace([_block(step, 1.0)])


def export_head(calibrated: Any) -> CalibratedHead:
    """A fitted :class:`~sklearn.calibration.CalibratedClassifierCV` as a
    :class:`CalibratedHead`."""
    if not isinstance(calibrated, CalibratedClassifierCV):
        raise TypeError("unsupported classifier step")
    classes = calibrated.classes_
    members = []
    for member in calibrated.calibrated_classifiers_:
        estimator = member.estimator
        if not isinstance(estimator, LinearClassifierMixin):
            raise TypeError("unsupported calibrated classifier")
        method = member.method
        if method == "temperature":
            # scikit-learn fits the estimator on encoded labels here and applies the
            # calibrator to the whole decision matrix (no per-class re-indexing).
            if len(estimator.classes_) != classes.shape[0]:
                raise TypeError("unsupported class layout")
            positions = np.arange(len(estimator.classes_))
            params: dict[str, Any] = {"beta": float(member.calibrators[0].beta_)}
        elif method in ("sigmoid", "isotonic"):
            index = {label: i for i, label in enumerate(classes.tolist())}
            positions = np.array([index[label] for label in estimator.classes_.tolist()])
            if method == "sigmoid":
                params = {
                    "a": np.array([c.a_ for c in member.calibrators], dtype=np.float64),
                    "b": np.array([c.b_ for c in member.calibrators], dtype=np.float64),
                }
            else:
                if any(c.out_of_bounds != "clip" for c in member.calibrators):
                    raise TypeError("unsupported isotonic calibrator")
                params = {
                    "x": [np.asarray(c.X_thresholds_, np.float64) for c in member.calibrators],
                    "y": [np.asarray(c.y_thresholds_, np.float64) for c in member.calibrators],
                    "x_min": np.array([c.X_min_ for c in member.calibrators], np.float64),
                    "x_max": np.array([c.X_max_ for c in member.calibrators], np.float64),
                }
        else:
            raise TypeError(f"unsupported calibration {method!r}")
        members.append(
            Member(
                coef=np.ascontiguousarray(estimator.coef_, dtype=np.float64),
                intercept=np.asarray(estimator.intercept_, dtype=np.float64).reshape(-1),
                method=method,
                positions=positions.astype(np.int64),
                params=params,
            )
        )
    return CalibratedHead([str(label) for label in classes.tolist()], members)


def export_pipeline(pipeline: Pipeline) -> tuple[FeatureSpace, CalibratedHead]:
    """A fitted ``features -> CalibratedClassifierCV`` pipeline as arrays.

    Raises
    ------
    TypeError
        When the pipeline has another shape (see the module notes).
    """
    if not isinstance(pipeline, Pipeline) or len(pipeline) != 2:
        raise TypeError("unsupported pipeline: expected features and a classifier")
    return export_features(pipeline[0]), export_head(pipeline[-1])


def _centroids(novelty: CentroidSimilarity | None) -> Centroids | None:
    if novelty is None:
        return None
    transposed = novelty.centroids_.T.tocsr()
    return Centroids(
        transposed.indptr, transposed.indices, transposed.data, novelty.centroids_.shape[0]
    )


def export_model(model: TriageModel) -> CompactTriage:
    """The whole fitted model (category, team and priority heads, centroids, policy).

    Raises
    ------
    TypeError
        When one of its pipelines cannot be exported.
    """
    features, head = export_pipeline(model.pipeline)
    team: tuple[FeatureSpace | None, CalibratedHead] | None = None
    priority: tuple[FeatureSpace, CalibratedHead] | None = None
    if model.team_pipeline is not None:
        if model.team_pipeline[0] is model.pipeline[0]:
            team = (None, export_head(model.team_pipeline[-1]))
        else:
            team_features, team_head = export_pipeline(model.team_pipeline)
            team = (team_features, team_head)
    if model.priority_pipeline is not None:
        priority = export_pipeline(model.priority_pipeline)
    policy = Policy(
        head.classes,
        threshold=model.threshold,
        similarity_threshold=model.similarity_threshold,
        oos_label=model.oos_label,
        team_map=model.team_map,
        team_classes=None if team is None else team[1].classes,
        priority_classes=None if priority is None else priority[1].classes,
    )
    return CompactTriage(
        features,
        head,
        policy,
        centroids=_centroids(model.novelty),
        team=team,
        priority=priority,
        info=model.info,
    )
