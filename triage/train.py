"""Training: split first, validate, choose the abstain threshold, refit on everything."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

import numpy as np

from triage.data import load_seed, load_seed_team_map
from triage.fitting import (
    MIN_EXAMPLES_PER_LABEL,
    OOS_LABEL,
    Fitted,
    TrainingData,
    checked_data,
    fit_parts,
)
from triage.metrics import Metrics
from triage.model import TriageModel
from triage.validation import (
    choose_thresholds,
    extra_oos,
    fit_thresholds,
    held_out_predictions,
    validation_metrics,
    validation_splits,
)

__all__ = [
    "MIN_EXAMPLES_PER_LABEL",
    "OOS_LABEL",
    "data_sha256",
    "default_model",
    "fit_thresholds",
    "train",
    "train_default",
]


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
    data = checked_data(texts, labels, team_map, teams, priorities, oos_label)
    validation, splits = validation_splits(data.labels, test_size, random_state)
    fit = partial(
        fit_parts,
        data,
        params=pipeline_params,
        random_state=random_state,
        calibration_cv=calibration_cv,
    )
    extra_texts, extra_source = extra_oos(data.oos_label, oos_validation)
    held = held_out_predictions(data, splits, fit, extra_texts)
    choice = choose_thresholds(
        data, held, extra_source, target_accuracy, min_coverage, max_in_scope_loss
    )
    final = fit(np.arange(len(data.texts)))
    metrics = validation_metrics(data, held, choice, validation, splits, target_accuracy, final)
    info = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_sha256": data_sha256(data.texts, data.labels, data.teams, data.priorities),
        "n_examples": len(data.texts),
        "random_state": random_state,
        "pipeline_params": {key: _jsonable(value) for key, value in pipeline_params.items()},
        "oos_label": data.oos_label,
        "threshold_selection": {
            **choice.selection,
            "validation": validation,
            "n_validation": int(held.validated.sum()),
            "coverage": metrics.coverage,
            "accuracy_when_confident": metrics.accuracy_when_confident,
        },
        "priority": "rules + model" if final.priority is not None else "rules",
        "team_source": _team_source(data, final),
        "metrics": metrics.to_dict(),
    }
    return final.model(choice.threshold, choice.similarity_threshold, info), metrics


def _team_source(data: TrainingData, final: Fitted) -> str:
    if data.team_map is not None:
        return "map + team head" if final.team is not None else "map"
    return "model" if data.teams else "category"


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
