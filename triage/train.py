"""Training: split first, validate, choose the abstain threshold, refit on everything."""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

from triage.data import load_seed, load_seed_team_map
from triage.errors import DataError
from triage.estimators import CentroidSimilarity
from triage.metrics import Metrics, choose_oos_thresholds, choose_threshold, macro_f1
from triage.model import TriageModel, TriageResult
from triage.pipeline import build_pipeline
from triage.priority import PRIORITY_LEVELS

__all__ = [
    "MIN_EXAMPLES_PER_LABEL",
    "OOS_LABEL",
    "data_sha256",
    "default_model",
    "fit_thresholds",
    "train",
    "train_default",
]

#: Default label of out-of-scope ("none of these") rows.
OOS_LABEL = "oos"

#: Fewest examples a category (or team, for a team model) needs: one to validate on and
#: two for the calibration folds.
MIN_EXAMPLES_PER_LABEL = 3
_MAX_VALIDATION_FOLDS = 5


def data_sha256(
    texts: Sequence[str],
    labels: Sequence[str],
    teams: Sequence[str] | None = None,
    priorities: Sequence[str | None] | None = None,
) -> str:
    """SHA-256 of a training snapshot.

    The snapshot is serialised as one compact JSON array ``[text, label, team, priority]``
    per line (``null`` for absent values), in the given order, UTF-8 encoded.
    """
    digest = hashlib.sha256()
    for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
        row = [
            text,
            label,
            None if teams is None else teams[i],
            None if priorities is None else priorities[i],
        ]
        digest.update(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _calibration_folds(labels: Sequence[str], requested: int | None) -> int:
    """Calibration folds: as asked, else 5 below 2,000 rows, 3 below 5,000, then 2.

    Fewer folds on big data keep a 10k-row fit within the 20 s budget on two cores; every
    fold count is capped by the smallest class, because each fold needs each class.
    """
    smallest = min(Counter(labels).values())
    if requested is None:
        n = len(labels)
        requested = 5 if n < 2000 else 3 if n < 5000 else 2
    return max(2, min(requested, smallest))


def _fit(
    texts: list[str],
    labels: list[str],
    params: Mapping[str, Any],
    random_state: int,
    calibration_cv: int | None,
) -> Pipeline:
    cv = _calibration_folds(labels, calibration_cv)
    pipeline = build_pipeline(random_state=random_state, cv=cv, **params)
    return pipeline.fit(texts, labels)


def _fit_team_head(
    pipeline: Pipeline,
    texts: list[str],
    labels: list[str],
    team_map: Mapping[str, str],
    params: Mapping[str, Any],
    random_state: int,
    calibration_cv: int | None,
) -> Pipeline | None:
    """A team classifier on the category pipeline's fitted features (None: < 2 teams).

    It shares the feature step, so a message is vectorised once for both; rows without a
    team (out of scope) are left out.
    """
    rows = [i for i, label in enumerate(labels) if label in team_map]
    teams = [team_map[labels[i]] for i in rows]
    if len(set(teams)) < 2:
        return None
    cv = _calibration_folds(teams, calibration_cv)
    head = build_pipeline(random_state=random_state, cv=cv, **params)[-1]
    features = pipeline[0]
    head.fit(features.transform([texts[i] for i in rows]), teams)
    return Pipeline([("features", features), ("classifier", head)])


def _fit_novelty(
    pipeline: Pipeline, texts: list[str], labels: list[str], oos_label: str | None
) -> CentroidSimilarity:
    return CentroidSimilarity(exclude=oos_label).fit(pipeline[:-1].transform(texts), labels)


def _check_labels(labels: Sequence[str], what: str) -> None:
    counts = Counter(labels)
    if len(counts) < 2:
        raise DataError(f"need at least 2 different {what}s, got {len(counts)}")
    rare = sorted(label for label, count in counts.items() if count < MIN_EXAMPLES_PER_LABEL)
    if rare:
        shown = ", ".join(f"{label!r} ({counts[label]})" for label in rare[:10])
        raise DataError(
            f"every {what} needs at least {MIN_EXAMPLES_PER_LABEL} examples; too few: {shown}"
        )


def _validation_splits(
    labels: list[str], test_size: float, random_state: int
) -> tuple[str, list[tuple[np.ndarray, np.ndarray]]]:
    """One stratified hold-out split when every class can spare examples, else k-fold."""
    n, counts = len(labels), Counter(labels)
    n_test = math.ceil(test_size * n)
    indices = np.arange(n)
    if min(counts.values()) >= 5 and n_test >= len(counts) and n - n_test >= 2 * len(counts):
        train_idx, test_idx = train_test_split(
            indices, test_size=test_size, stratify=labels, random_state=random_state
        )
        return "holdout", [(np.sort(train_idx), np.sort(test_idx))]
    folds = StratifiedKFold(
        n_splits=min(_MAX_VALIDATION_FOLDS, min(counts.values())),
        shuffle=True,
        random_state=random_state,
    )
    return "cv", list(folds.split(indices, labels))


def _priority_rows(priorities: Sequence[str | None] | None) -> list[int] | None:
    """Rows usable for a priority model, or None when a model cannot be trained."""
    if priorities is None:
        return None
    rows = [i for i, level in enumerate(priorities) if level]
    counts = Counter(priorities[i] for i in rows)
    if len(counts) < 2 or min(counts.values()) < MIN_EXAMPLES_PER_LABEL:
        return None
    return rows


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    team_map: Mapping[str, str] | None = None,
    *,
    teams: Sequence[str] | None = None,
    priorities: Sequence[str | None] | None = None,
    random_state: int = 0,
    test_size: float = 0.2,
    target_accuracy: float = 0.95,
    min_coverage: float = 0.5,
    calibration_cv: int | None = None,
    oos_label: str | None = OOS_LABEL,
    oos_validation: Sequence[str] | None = None,
    max_in_scope_loss: float = 0.05,
    **pipeline_params: Any,
) -> tuple[TriageModel, Metrics]:
    """Train a :class:`TriageModel` without leakage and report held-out metrics.

    Steps:

    1. **Split first.** A stratified ``test_size`` hold-out split when every category has
       at least 5 examples (and the split can hold every category), otherwise stratified
       k-fold (k = min(5, smallest category)) out-of-fold predictions.
    2. Fit the pipeline(s) on the training part and predict the validation part; compute
       accuracy, macro-F1, team accuracy and priority accuracy.
    3. **Out-of-scope thresholds** from the validation predictions. Rows labelled
       ``oos_label`` are "none of these" examples: they train an explicit out-of-scope
       class and, in the validation part, are the out-of-scope rows. When the data has
       none, ``oos_validation`` texts (default: the seed off-topic examples, see
       :func:`triage.load_seed`) are the out-of-scope validation rows; they are never
       trained on. The confidence and similarity thresholds come from
       :func:`triage.metrics.choose_oos_thresholds`. Only when there are no out-of-scope
       validation rows at all (``oos_validation=[]``) does the confidence threshold come
       from :func:`triage.metrics.choose_threshold` (smallest threshold with
       accuracy-when-confident >= ``target_accuracy``). The thresholds and the rule are
       kept in ``model.info["threshold_selection"]`` (``meta.json``).
    4. **Refit on all the data**; the returned model uses the chosen thresholds.

    Parameters
    ----------
    texts, labels : sequence of str
        Messages and their categories.
    team_map : mapping of str to str, optional
        Category -> team; must cover every category.
    teams : sequence of str, optional
        Per-message team, used to train a separate team model when there is no
        ``team_map``. Without either, team = category.
    priorities : sequence of str or None, optional
        Per-message priority (``low/normal/high/urgent``; ``None``/empty = unknown). When
        at least two levels have 3+ examples, a priority model is trained and combined with
        the cue rules (see :class:`TriageModel`); otherwise the rules alone decide.
    random_state : int, default=0
        Seed of the split, the folds and the linear models.
    test_size : float, default=0.2
        Hold-out share.
    target_accuracy : float, default=0.95
        Accuracy wanted on the messages answered without a human.
    min_coverage : float, default=0.5
        Coverage floor of the threshold fallback.
    calibration_cv : int, optional
        Calibration folds of the pipeline (default: 5 below 2,000 rows, 3 below 5,000,
        else 2; capped by the smallest class).
    oos_label : str or None, default="oos"
        Label of out-of-scope rows; ``None``: no row is out of scope.
    oos_validation : sequence of str, optional
        Out-of-scope texts used only to choose the thresholds, when the data has no
        ``oos_label`` rows (default: the seed off-topic examples).
    max_in_scope_loss : float, default=0.05
        See :func:`triage.metrics.choose_oos_thresholds`.
    **pipeline_params
        Passed to :func:`triage.build_pipeline` (``C``, ``classifier``, ``calibration``,
        ...).

    Returns
    -------
    model : TriageModel
        Fitted on all the data.
    metrics : Metrics
        Validation metrics.

    Raises
    ------
    DataError
        On inconsistent lengths, fewer than 2 categories, a category with fewer than
        :data:`MIN_EXAMPLES_PER_LABEL` examples, a team map missing categories, or unknown
        priority levels.
    """
    texts = [str(text) for text in texts]
    labels = [str(label) for label in labels]
    if len(texts) != len(labels):
        raise DataError(f"{len(texts)} texts but {len(labels)} labels")
    if not texts:
        raise DataError("no training data")
    _check_labels(labels, "category")
    if oos_label is not None and oos_label not in labels:
        oos_label = None
    if oos_label is not None and len(set(labels) - {oos_label}) < 1:
        raise DataError("need at least 1 category besides the out-of-scope label")
    if team_map is not None:
        team_map = {str(k): str(v) for k, v in team_map.items() if k != oos_label}
        missing = sorted(set(labels) - set(team_map) - {oos_label})
        if missing:
            raise DataError(f"team map has no team for categories: {', '.join(missing)}")
        teams = None
    if teams is not None:
        teams = [str(team) for team in teams]
        if len(teams) != len(texts):
            raise DataError(f"{len(texts)} texts but {len(teams)} teams")
        if any(not team for team in teams):
            teams = None  # an incomplete team column is ignored: team = category
        else:
            _check_labels(teams, "team")
    if priorities is not None:
        priorities = [str(level).lower() if level else None for level in priorities]
        if len(priorities) != len(texts):
            raise DataError(f"{len(texts)} texts but {len(priorities)} priorities")
        unknown = sorted({p for p in priorities if p is not None} - set(PRIORITY_LEVELS))
        if unknown:
            raise DataError(f"unknown priority levels: {', '.join(unknown)}")
    priority_rows = _priority_rows(priorities)

    snapshot = data_sha256(texts, labels, teams, priorities)
    validation, splits = _validation_splits(labels, test_size, random_state)

    # -- validation predictions ----------------------------------------------------------
    n = len(texts)
    labels_array = np.asarray(labels, dtype=object)
    predicted = np.empty(n, dtype=object)
    confidence = np.full(n, np.nan)
    team_pred = np.empty(n, dtype=object)
    priority_pred = np.empty(n, dtype=object)
    validated = np.zeros(n, dtype=bool)
    similarity = np.ones(n)
    forced = np.zeros(n, dtype=bool)
    extra_source = "out-of-scope texts given for validation"
    if oos_label is not None:
        extra_oos: list[str] = []
    elif oos_validation is not None:
        extra_oos = [str(text) for text in oos_validation]
    else:
        extra_oos = load_seed("off_topic").texts
        extra_source = "seed off-topic examples (triage/seed/off_topic.csv)"
    extra_results: list[TriageResult] | None = None if extra_oos else []
    for train_idx, test_idx in splits:
        fold_texts = [texts[i] for i in train_idx]
        fold_labels = [labels[i] for i in train_idx]
        held_texts = [texts[i] for i in test_idx]
        fold_team = None
        if teams is not None:
            fold_team = _fit(
                fold_texts,
                [teams[i] for i in train_idx],
                pipeline_params,
                random_state,
                calibration_cv,
            )
        fold_priority = None
        if priority_rows is not None and priorities is not None:
            fold_priority_rows = sorted(set(priority_rows).intersection(train_idx.tolist()))
            counts = Counter(priorities[i] for i in fold_priority_rows)
            if len(counts) >= 2 and min(counts.values()) >= 2:
                fold_priority = _fit(
                    [texts[i] for i in fold_priority_rows],
                    [str(priorities[i]) for i in fold_priority_rows],
                    pipeline_params,
                    random_state,
                    calibration_cv,
                )
        fold_pipeline = _fit(
            fold_texts, fold_labels, pipeline_params, random_state, calibration_cv
        )
        if team_map is not None:
            fold_team = _fit_team_head(
                fold_pipeline,
                fold_texts,
                fold_labels,
                team_map,
                pipeline_params,
                random_state,
                calibration_cv,
            )
        fold_model = TriageModel(
            fold_pipeline,
            threshold=0.0,
            novelty=_fit_novelty(fold_pipeline, fold_texts, fold_labels, oos_label),
            oos_label=oos_label,
            team_map=team_map,
            team_pipeline=fold_team,
            priority_pipeline=fold_priority,
        )
        for i, result in zip(test_idx, fold_model.predict_many(held_texts), strict=True):
            predicted[i] = result.category
            confidence[i] = result.confidence
            similarity[i] = result.similarity
            forced[i] = result.out_of_scope
            team_pred[i] = result.team
            priority_pred[i] = result.priority
            validated[i] = True
        if extra_results is None:
            extra_results = fold_model.predict_many(extra_oos)

    is_oos = labels_array == oos_label if oos_label is not None else np.zeros(n, bool)
    in_val = validated & ~is_oos
    truth = labels_array[in_val]
    pred = predicted[in_val]
    correct = pred == truth
    extra_results = extra_results or []
    val_oos = validated & is_oos
    oos_rows = int(val_oos.sum()) + len(extra_results)
    if oos_rows:
        rows = np.r_[np.flatnonzero(in_val), np.flatnonzero(val_oos)]
        oos_choice = choose_oos_thresholds(
            np.r_[confidence[rows], [r.confidence for r in extra_results]],
            np.r_[similarity[rows], [r.similarity for r in extra_results]],
            np.r_[predicted[rows] == labels_array[rows], np.zeros(len(extra_results), bool)],
            np.r_[is_oos[rows], np.ones(len(extra_results), bool)],
            np.r_[forced[rows], [r.out_of_scope for r in extra_results]],
            max_in_scope_loss=max_in_scope_loss,
        )
        threshold, similarity_threshold = oos_choice.threshold, oos_choice.similarity_threshold
        selection: dict[str, Any] = {
            "threshold": threshold,
            "similarity_threshold": similarity_threshold,
            "method": oos_choice.method,
            "out_of_scope_rows": (
                f"{int(val_oos.sum())} validation rows labelled {oos_label!r}"
                if val_oos.any()
                else f"{len(extra_results)} {extra_source}, never trained on"
            ),
            "max_in_scope_loss": max_in_scope_loss,
            "in_scope_accuracy": oos_choice.in_scope_accuracy,
            "in_scope_accuracy_floor": oos_choice.in_scope_accuracy_floor,
            "oos_recall": oos_choice.oos_recall,
            "n_in_scope": oos_choice.n_in_scope,
            "n_out_of_scope": oos_choice.n_out_of_scope,
        }
        method = oos_choice.method
        in_scope_accuracy: float | None = oos_choice.in_scope_accuracy
        oos_recall: float | None = oos_choice.oos_recall
    else:
        choice = choose_threshold(
            confidence[in_val],
            correct,
            target_accuracy=target_accuracy,
            min_coverage=min_coverage,
        )
        threshold, similarity_threshold, method = choice.threshold, 0.0, choice.method
        in_scope_accuracy = oos_recall = None
        selection = {
            "threshold": threshold,
            "similarity_threshold": 0.0,
            "method": method,
            "target_accuracy": target_accuracy,
            "target_reached": choice.target_reached,
            "min_coverage": min_coverage,
        }
    abstained = forced[in_val] | (confidence[in_val] < threshold)
    abstained |= similarity[in_val] < similarity_threshold
    confident = ~abstained
    if team_map is not None:
        true_teams = np.asarray([team_map[label] for label in truth], dtype=object)
        team_accuracy: float | None = float(np.mean(team_pred[in_val] == true_teams))
    elif teams is not None:
        true_teams = np.asarray(teams, dtype=object)[in_val]
        team_accuracy = float(np.mean(team_pred[in_val] == true_teams))
    else:
        team_accuracy = None
    priority_accuracy = None
    if priorities is not None:
        known = [i for i in np.flatnonzero(in_val) if priorities[i]]
        if known:
            priority_accuracy = float(np.mean([priority_pred[i] == priorities[i] for i in known]))

    # -- final fit on everything ---------------------------------------------------------
    started = time.perf_counter()
    pipeline = _fit(texts, labels, pipeline_params, random_state, calibration_cv)
    fit_seconds = time.perf_counter() - started
    novelty = _fit_novelty(pipeline, texts, labels, oos_label)
    team_pipeline = (
        _fit(texts, teams, pipeline_params, random_state, calibration_cv)
        if teams is not None
        else None
    )
    if team_map is not None:
        team_pipeline = _fit_team_head(
            pipeline, texts, labels, team_map, pipeline_params, random_state, calibration_cv
        )
    priority_pipeline = None
    if priority_rows is not None and priorities is not None:
        priority_pipeline = _fit(
            [texts[i] for i in priority_rows],
            [str(priorities[i]) for i in priority_rows],
            pipeline_params,
            random_state,
            calibration_cv,
        )

    metrics = Metrics(
        n_train=len(splits[0][0]) if validation == "holdout" else n,
        n_validation=int(in_val.sum()),
        validation=validation,
        n_labels=len(set(labels) - {oos_label}),
        accuracy=float(np.mean(correct)),
        macro_f1=macro_f1(list(truth), list(pred)),
        team_accuracy=team_accuracy,
        priority_accuracy=priority_accuracy,
        threshold=threshold,
        threshold_method=method,
        target_accuracy=target_accuracy,
        abstain_rate=float(1.0 - confident.mean()),
        coverage=float(confident.mean()),
        accuracy_when_confident=float(correct[confident].mean()) if confident.any() else 0.0,
        fit_seconds=round(fit_seconds, 3),
        similarity_threshold=similarity_threshold,
        n_out_of_scope=oos_rows,
        in_scope_accuracy=in_scope_accuracy,
        oos_recall=oos_recall,
    )
    info = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_sha256": snapshot,
        "n_examples": n,
        "random_state": random_state,
        "pipeline_params": {key: _jsonable(value) for key, value in pipeline_params.items()},
        "oos_label": oos_label,
        "threshold_selection": {
            **selection,
            "validation": validation,
            "n_validation": int(validated.sum()),
            "coverage": float(confident.mean()),
            "accuracy_when_confident": float(correct[confident].mean())
            if confident.any()
            else 0.0,
        },
        "priority": "rules + model" if priority_pipeline is not None else "rules",
        "team_source": (
            "map + team head"
            if team_map is not None and team_pipeline is not None
            else "map"
            if team_map is not None
            else "model"
            if teams
            else "category"
        ),
        "metrics": metrics.to_dict(),
    }
    model = TriageModel(
        pipeline,
        threshold=threshold,
        similarity_threshold=similarity_threshold,
        novelty=novelty,
        oos_label=oos_label,
        team_map=team_map,
        team_pipeline=team_pipeline,
        priority_pipeline=priority_pipeline,
        info=info,
    )
    return model, metrics


def fit_thresholds(
    model: TriageModel,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    oos_label: str = OOS_LABEL,
    max_in_scope_loss: float = 0.05,
) -> TriageModel:
    """Choose a fitted model's thresholds again, on other labelled validation data.

    For data sets that ship their own validation files with out-of-scope rows (for
    example Banking77-OOS): the rule is :func:`triage.metrics.choose_oos_thresholds`, as in
    :func:`train`.

    Parameters
    ----------
    model : TriageModel
        A fitted model; it is not changed.
    texts, labels : sequence of str
        Validation messages; rows labelled ``oos_label`` are out of scope.
    oos_label : str, default="oos"
        Label of out-of-scope rows.
    max_in_scope_loss : float, default=0.05
        See :func:`triage.metrics.choose_oos_thresholds`.

    Returns
    -------
    TriageModel
        The same estimators with the new thresholds, recorded in
        ``info["threshold_selection"]``.
    """
    truth = np.asarray([str(label) for label in labels], dtype=object)
    results = model.with_thresholds(0.0, 0.0).predict_many(texts)
    choice = choose_oos_thresholds(
        [r.confidence for r in results],
        [r.similarity for r in results],
        np.asarray([r.category for r in results], dtype=object) == truth,
        truth == oos_label,
        [r.out_of_scope for r in results],
        max_in_scope_loss=max_in_scope_loss,
    )
    selection = {
        "threshold": choice.threshold,
        "similarity_threshold": choice.similarity_threshold,
        "method": choice.method,
        "out_of_scope_rows": f"{choice.n_out_of_scope} rows labelled {oos_label!r} given",
        "max_in_scope_loss": max_in_scope_loss,
        "in_scope_accuracy": choice.in_scope_accuracy,
        "in_scope_accuracy_floor": choice.in_scope_accuracy_floor,
        "oos_recall": choice.oos_recall,
        "n_in_scope": choice.n_in_scope,
        "n_out_of_scope": choice.n_out_of_scope,
        "validation": "given",
    }
    return model.with_thresholds(
        choice.threshold, choice.similarity_threshold, threshold_selection=selection
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)


def train_default(*, random_state: int = 0, **kwargs: Any) -> tuple[TriageModel, Metrics]:
    """Train the default model from the seed examples shipped in ``triage/seed``.

    Uses ``examples.csv`` (texts, categories, priorities), ``off_topic.csv`` (greetings,
    thanks, adverts, questions for another company: the out-of-scope class) and
    ``team_map.json``; needs no download. Measure it on ``holdout.csv`` and
    ``off_topic_holdout.csv`` with :func:`triage.load_seed` and :func:`triage.evaluate`.

    Parameters
    ----------
    random_state : int, default=0
        Passed to :func:`train`.
    **kwargs
        Other :func:`train` keyword arguments.

    Returns
    -------
    model : TriageModel
    metrics : Metrics
    """
    seed, off_topic = load_seed("examples"), load_seed("off_topic")
    return train(
        seed.texts + off_topic.texts,
        seed.labels + off_topic.labels,
        load_seed_team_map(),
        priorities=list(seed.priorities or [None] * len(seed))
        + list(off_topic.priorities or [None] * len(off_topic)),
        random_state=random_state,
        oos_label=OOS_LABEL,
        **kwargs,
    )


def default_model(*, random_state: int = 0) -> TriageModel:
    """Return a freshly trained default model (see :func:`train_default`)."""
    return train_default(random_state=random_state)[0]
