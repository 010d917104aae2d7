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
from triage.metrics import Metrics, choose_threshold, macro_f1
from triage.model import TriageModel
from triage.pipeline import build_pipeline
from triage.priority import PRIORITY_LEVELS

__all__ = ["MIN_EXAMPLES_PER_LABEL", "data_sha256", "default_model", "train", "train_default"]

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
    **pipeline_params: Any,
) -> tuple[TriageModel, Metrics]:
    """Train a :class:`TriageModel` without leakage and report held-out metrics.

    Steps:

    1. **Split first.** A stratified ``test_size`` hold-out split when every category has
       at least 5 examples (and the split can hold every category), otherwise stratified
       k-fold (k = min(5, smallest category)) out-of-fold predictions.
    2. Fit the pipeline(s) on the training part and predict the validation part; compute
       accuracy, macro-F1, team accuracy and priority accuracy.
    3. **Abstain threshold** from the validation predictions with
       :func:`triage.metrics.choose_threshold`: the smallest threshold whose
       accuracy-when-confident reaches ``target_accuracy`` (fallback: best
       accuracy-when-confident at coverage >= ``min_coverage``). The threshold and the
       rule are kept in ``model.info["threshold_selection"]``.
    4. **Refit on all the data**; the returned model uses the chosen threshold.

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
    if team_map is not None:
        team_map = {str(k): str(v) for k, v in team_map.items()}
        missing = sorted(set(labels) - set(team_map))
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
        fold_model = TriageModel(
            _fit(fold_texts, fold_labels, pipeline_params, random_state, calibration_cv),
            threshold=0.0,
            team_map=team_map,
            team_pipeline=fold_team,
            priority_pipeline=fold_priority,
        )
        for i, result in zip(test_idx, fold_model.predict_many(held_texts), strict=True):
            predicted[i] = result.category
            confidence[i] = result.confidence
            team_pred[i] = result.team
            priority_pred[i] = result.priority
            validated[i] = True

    truth = labels_array[validated]
    pred = predicted[validated]
    correct = pred == truth
    choice = choose_threshold(
        confidence[validated],
        correct,
        target_accuracy=target_accuracy,
        min_coverage=min_coverage,
    )
    confident = confidence[validated] >= choice.threshold
    if team_map is not None:
        true_teams = np.asarray([team_map[label] for label in truth], dtype=object)
        team_accuracy: float | None = float(np.mean(team_pred[validated] == true_teams))
    elif teams is not None:
        true_teams = np.asarray(teams, dtype=object)[validated]
        team_accuracy = float(np.mean(team_pred[validated] == true_teams))
    else:
        team_accuracy = None
    priority_accuracy = None
    if priorities is not None:
        known = [i for i in np.flatnonzero(validated) if priorities[i]]
        if known:
            priority_accuracy = float(np.mean([priority_pred[i] == priorities[i] for i in known]))

    # -- final fit on everything ---------------------------------------------------------
    started = time.perf_counter()
    pipeline = _fit(texts, labels, pipeline_params, random_state, calibration_cv)
    fit_seconds = time.perf_counter() - started
    team_pipeline = (
        _fit(texts, teams, pipeline_params, random_state, calibration_cv)
        if teams is not None
        else None
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
        n_validation=int(validated.sum()),
        validation=validation,
        n_labels=len(set(labels)),
        accuracy=float(np.mean(correct)),
        macro_f1=macro_f1(list(truth), list(pred)),
        team_accuracy=team_accuracy,
        priority_accuracy=priority_accuracy,
        threshold=choice.threshold,
        threshold_method=choice.method,
        target_accuracy=target_accuracy,
        abstain_rate=float(1.0 - confident.mean()),
        coverage=float(confident.mean()),
        accuracy_when_confident=float(correct[confident].mean()) if confident.any() else 0.0,
        fit_seconds=round(fit_seconds, 3),
    )
    info = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_sha256": snapshot,
        "n_examples": n,
        "random_state": random_state,
        "pipeline_params": {key: _jsonable(value) for key, value in pipeline_params.items()},
        "threshold_selection": {
            "threshold": choice.threshold,
            "method": choice.method,
            "validation": validation,
            "n_validation": int(validated.sum()),
            "target_accuracy": target_accuracy,
            "target_reached": choice.target_reached,
            "min_coverage": min_coverage,
            "coverage": choice.coverage,
            "accuracy_when_confident": choice.accuracy_when_confident,
        },
        "priority": "rules + model" if priority_pipeline is not None else "rules",
        "team_source": "map" if team_map is not None else "model" if teams else "category",
        "metrics": metrics.to_dict(),
    }
    model = TriageModel(
        pipeline,
        threshold=choice.threshold,
        team_map=team_map,
        team_pipeline=team_pipeline,
        priority_pipeline=priority_pipeline,
        info=info,
    )
    return model, metrics


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)


def train_default(*, random_state: int = 0, **kwargs: Any) -> tuple[TriageModel, Metrics]:
    """Train the default model from the seed examples shipped in ``triage/seed``.

    Uses ``examples.csv`` (texts, categories, priorities) and ``team_map.json``; needs no
    download. Measure it on ``holdout.csv`` with :func:`triage.load_seed` and
    :func:`triage.evaluate`.

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
    seed = load_seed("examples")
    return train(
        seed.texts,
        seed.labels,
        load_seed_team_map(),
        priorities=seed.priorities,
        random_state=random_state,
        **kwargs,
    )


def default_model(*, random_state: int = 0) -> TriageModel:
    """Return a freshly trained default model (see :func:`train_default`)."""
    return train_default(random_state=random_state)[0]
