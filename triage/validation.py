"""Validation of a training run: held-out predictions, the abstain thresholds chosen on them,
and the figures reported (see :func:`triage.train`)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from triage.data import load_seed
from triage.fitting import OOS_LABEL, Fitted, TrainingData
from triage.metrics import (
    Metrics,
    OutOfScopeChoice,
    choose_oos_thresholds,
    choose_threshold,
    macro_f1,
)
from triage.model import TriageModel, TriageResult

MAX_VALIDATION_FOLDS = 5


def validation_splits(
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
        n_splits=min(MAX_VALIDATION_FOLDS, min(counts.values())),
        shuffle=True,
        random_state=random_state,
    )
    return "cv", list(folds.split(indices, labels))


def extra_oos(
    oos_label: str | None, oos_validation: Sequence[str] | None
) -> tuple[list[str], str]:
    """Out-of-scope texts to validate the thresholds on when the data has no such rows."""
    if oos_label is not None:
        return [], ""
    if oos_validation is not None:
        return [str(text) for text in oos_validation], "out-of-scope texts given for validation"
    return load_seed("off_topic").texts, "seed off-topic examples (triage/seed/off_topic.csv)"


@dataclass(frozen=True)
class HeldOut:
    """What the fold models said about the rows they did not see (and the extra texts)."""

    predicted: np.ndarray
    confidence: np.ndarray
    similarity: np.ndarray
    forced: np.ndarray
    team: np.ndarray
    priority: np.ndarray
    validated: np.ndarray
    extra: list[TriageResult]
    is_oos: np.ndarray

    @property
    def in_scope(self) -> np.ndarray:
        return self.validated & ~self.is_oos

    @property
    def out_of_scope(self) -> np.ndarray:
        return self.validated & self.is_oos


def held_out_predictions(
    data: TrainingData,
    splits: list[tuple[np.ndarray, np.ndarray]],
    fit: Callable[[np.ndarray], Fitted],
    extra_oos: list[str],
) -> HeldOut:
    n = len(data.texts)
    labels = np.asarray(data.labels, dtype=object)
    predicted, team, priority = (np.empty(n, dtype=object) for _ in range(3))
    confidence = np.full(n, np.nan)
    similarity = np.ones(n)
    forced = np.zeros(n, dtype=bool)
    validated = np.zeros(n, dtype=bool)
    extra: list[TriageResult] | None = None if extra_oos else []
    for train_idx, test_idx in splits:
        fold_model = fit(train_idx).model(0.0, 0.0)
        held = fold_model.predict_many([data.texts[i] for i in test_idx])
        for i, result in zip(test_idx, held, strict=True):
            predicted[i] = result.category
            confidence[i] = result.confidence
            similarity[i] = result.similarity
            forced[i] = result.out_of_scope
            team[i] = result.team
            priority[i] = result.priority
            validated[i] = True
        if extra is None:
            extra = fold_model.predict_many(extra_oos)
    is_oos = labels == data.oos_label if data.oos_label is not None else np.zeros(n, bool)
    return HeldOut(
        predicted, confidence, similarity, forced, team, priority, validated, extra or [], is_oos
    )


@dataclass(frozen=True)
class Thresholds:
    threshold: float
    similarity_threshold: float
    method: str
    selection: dict[str, Any]
    in_scope_accuracy: float | None = None
    oos_recall: float | None = None


def choose_thresholds(
    data: TrainingData,
    held: HeldOut,
    extra_source: str,
    target_accuracy: float,
    min_coverage: float,
    max_in_scope_loss: float,
) -> Thresholds:
    """The out-of-scope rule when there are out-of-scope rows to validate on, else the
    accuracy-when-confident rule (see :func:`train`)."""
    labels = np.asarray(data.labels, dtype=object)
    extra = held.extra
    val_oos = held.out_of_scope
    if not int(val_oos.sum()) + len(extra):
        in_val = held.in_scope
        choice = choose_threshold(
            held.confidence[in_val],
            held.predicted[in_val] == labels[in_val],
            target_accuracy=target_accuracy,
            min_coverage=min_coverage,
        )
        return Thresholds(
            choice.threshold,
            0.0,
            choice.method,
            {
                "threshold": choice.threshold,
                "similarity_threshold": 0.0,
                "method": choice.method,
                "target_accuracy": target_accuracy,
                "target_reached": choice.target_reached,
                "min_coverage": min_coverage,
            },
        )
    rows = np.r_[np.flatnonzero(held.in_scope), np.flatnonzero(val_oos)]
    oos = choose_oos_thresholds(
        np.r_[held.confidence[rows], [r.confidence for r in extra]],
        np.r_[held.similarity[rows], [r.similarity for r in extra]],
        np.r_[held.predicted[rows] == labels[rows], np.zeros(len(extra), bool)],
        np.r_[held.is_oos[rows], np.ones(len(extra), bool)],
        np.r_[held.forced[rows], [r.out_of_scope for r in extra]],
        max_in_scope_loss=max_in_scope_loss,
    )
    source = (
        f"{int(val_oos.sum())} validation rows labelled {data.oos_label!r}"
        if val_oos.any()
        else f"{len(extra)} {extra_source}, never trained on"
    )
    return Thresholds(
        oos.threshold,
        oos.similarity_threshold,
        oos.method,
        oos_selection(oos, source, max_in_scope_loss),
        oos.in_scope_accuracy,
        oos.oos_recall,
    )


def validation_metrics(
    data: TrainingData,
    held: HeldOut,
    choice: Thresholds,
    validation: str,
    splits: list[tuple[np.ndarray, np.ndarray]],
    target_accuracy: float,
    final: Fitted,
) -> Metrics:
    in_val = held.in_scope
    truth = np.asarray(data.labels, dtype=object)[in_val]
    pred = held.predicted[in_val]
    correct = pred == truth
    abstained = held.forced[in_val] | (held.confidence[in_val] < choice.threshold)
    abstained |= held.similarity[in_val] < choice.similarity_threshold
    confident = ~abstained
    team_accuracy = None
    if data.team_map is not None:
        true_teams = np.asarray([data.team_map[label] for label in truth], dtype=object)
        team_accuracy = float(np.mean(held.team[in_val] == true_teams))
    elif data.teams is not None:
        true_teams = np.asarray(data.teams, dtype=object)[in_val]
        team_accuracy = float(np.mean(held.team[in_val] == true_teams))
    priority_accuracy = None
    if data.priorities is not None:
        known = [i for i in np.flatnonzero(in_val) if data.priorities[i]]
        if known:
            priority_accuracy = float(
                np.mean([held.priority[i] == data.priorities[i] for i in known])
            )
    return Metrics(
        n_train=len(splits[0][0]) if validation == "holdout" else len(data.texts),
        n_validation=int(in_val.sum()),
        validation=validation,
        n_labels=len(set(data.labels) - {data.oos_label}),
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
        fit_seconds=round(final.fit_seconds, 3),
        similarity_threshold=choice.similarity_threshold,
        n_out_of_scope=int(held.out_of_scope.sum()) + len(held.extra),
        in_scope_accuracy=choice.in_scope_accuracy,
        oos_recall=choice.oos_recall,
    )


def oos_selection(
    choice: OutOfScopeChoice, source: str, max_in_scope_loss: float
) -> dict[str, Any]:
    """How out-of-scope thresholds were chosen, as ``meta.json`` records it."""
    return {
        "threshold": choice.threshold,
        "similarity_threshold": choice.similarity_threshold,
        "method": choice.method,
        "out_of_scope_rows": source,
        "max_in_scope_loss": max_in_scope_loss,
        "in_scope_accuracy": choice.in_scope_accuracy,
        "in_scope_accuracy_floor": choice.in_scope_accuracy_floor,
        "oos_recall": choice.oos_recall,
        "n_in_scope": choice.n_in_scope,
        "n_out_of_scope": choice.n_out_of_scope,
    }


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
    source = f"{choice.n_out_of_scope} rows labelled {oos_label!r} given"
    selection = {**oos_selection(choice, source, max_in_scope_loss), "validation": "given"}
    return model.with_thresholds(
        choice.threshold, choice.similarity_threshold, threshold_selection=selection
    )
