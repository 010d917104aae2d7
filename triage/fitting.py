"""Fitting the triage estimators: the checked training data and the models fitted on its rows.

:func:`triage.train` fits them once per validation fold and once on everything; both go
through :func:`fit_parts`, so a fold's model is the final model's exact recipe.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from triage.errors import DataError
from triage.estimators import CentroidSimilarity
from triage.model import TriageModel
from triage.pipeline import build_pipeline
from triage.priority import PRIORITY_LEVELS

#: Default label of out-of-scope ("none of these") rows.
OOS_LABEL = "oos"

#: Fewest examples a category (or team, for a team model) needs: one to validate on and
#: two for the calibration folds.
MIN_EXAMPLES_PER_LABEL = 3


def calibration_folds(labels: Sequence[str], requested: int | None) -> int:
    """Calibration folds: as asked, else 5 below 2,000 rows, 3 below 5,000, then 2.

    Fewer folds on big data keep a 10k-row fit within the 20 s budget on two cores; every
    fold count is capped by the smallest class, because each fold needs each class.
    """
    smallest = min(Counter(labels).values())
    if requested is None:
        n = len(labels)
        requested = 5 if n < 2000 else 3 if n < 5000 else 2
    return max(2, min(requested, smallest))


def fit(
    texts: list[str],
    labels: list[str],
    params: Mapping[str, Any],
    random_state: int,
    calibration_cv: int | None,
) -> Pipeline:
    cv = calibration_folds(labels, calibration_cv)
    pipeline = build_pipeline(random_state=random_state, cv=cv, **params)
    return pipeline.fit(texts, labels)


def fit_team_head(
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
    cv = calibration_folds(teams, calibration_cv)
    head = build_pipeline(random_state=random_state, cv=cv, **params)[-1]
    features = pipeline[0]
    head.fit(features.transform([texts[i] for i in rows]), teams)
    return Pipeline([("features", features), ("classifier", head)])


def fit_novelty(
    pipeline: Pipeline, texts: list[str], labels: list[str], oos_label: str | None
) -> CentroidSimilarity:
    return CentroidSimilarity(exclude=oos_label).fit(pipeline[:-1].transform(texts), labels)


def check_labels(labels: Sequence[str], what: str) -> None:
    counts = Counter(labels)
    if len(counts) < 2:
        raise DataError(f"need at least 2 different {what}s, got {len(counts)}")
    rare = sorted(label for label, count in counts.items() if count < MIN_EXAMPLES_PER_LABEL)
    if rare:
        shown = ", ".join(f"{label!r} ({counts[label]})" for label in rare[:10])
        raise DataError(
            f"every {what} needs at least {MIN_EXAMPLES_PER_LABEL} examples; too few: {shown}"
        )


def priority_rows(priorities: Sequence[str | None] | None) -> list[int] | None:
    """Rows usable for a priority model, or None when a model cannot be trained."""
    if priorities is None:
        return None
    rows = [i for i, level in enumerate(priorities) if level]
    counts = Counter(priorities[i] for i in rows)
    if len(counts) < 2 or min(counts.values()) < MIN_EXAMPLES_PER_LABEL:
        return None
    return rows


@dataclass(frozen=True)
class TrainingData:
    """The training data, checked: strings, one team per row or a map, known priorities."""

    texts: list[str]
    labels: list[str]
    team_map: dict[str, str] | None
    teams: list[str] | None
    priorities: list[str | None] | None
    priority_rows: list[int] | None
    oos_label: str | None


def checked_data(
    texts: Sequence[str],
    labels: Sequence[str],
    team_map: Mapping[str, str] | None,
    teams: Sequence[str] | None,
    priorities: Sequence[str | None] | None,
    oos_label: str | None,
) -> TrainingData:
    texts = [str(text) for text in texts]
    labels = [str(label) for label in labels]
    if len(texts) != len(labels):
        raise DataError(f"{len(texts)} texts but {len(labels)} labels")
    if not texts:
        raise DataError("no training data")
    check_labels(labels, "category")
    if oos_label is not None and oos_label not in labels:
        oos_label = None
    if oos_label is not None and len(set(labels) - {oos_label}) < 1:
        raise DataError("need at least 1 category besides the out-of-scope label")
    checked_map = None
    if team_map is not None:
        checked_map = {str(k): str(v) for k, v in team_map.items() if k != oos_label}
        missing = sorted(set(labels) - set(checked_map) - {oos_label})
        if missing:
            raise DataError(f"team map has no team for categories: {', '.join(missing)}")
        teams = None
    checked_teams = None
    if teams is not None:
        checked_teams = [str(team) for team in teams]
        if len(checked_teams) != len(texts):
            raise DataError(f"{len(texts)} texts but {len(checked_teams)} teams")
        if any(not team for team in checked_teams):
            checked_teams = None  # an incomplete team column is ignored: team = category
        else:
            check_labels(checked_teams, "team")
    levels = None
    if priorities is not None:
        levels = [str(level).lower() if level else None for level in priorities]
        if len(levels) != len(texts):
            raise DataError(f"{len(texts)} texts but {len(levels)} priorities")
        unknown = sorted({p for p in levels if p is not None} - set(PRIORITY_LEVELS))
        if unknown:
            raise DataError(f"unknown priority levels: {', '.join(unknown)}")
    return TrainingData(
        texts, labels, checked_map, checked_teams, levels, priority_rows(levels), oos_label
    )


@dataclass(frozen=True)
class Fitted:
    """The estimators fitted on some rows of the data (a fold's, or all of them)."""

    data: TrainingData
    pipeline: Pipeline
    novelty: CentroidSimilarity
    team: Pipeline | None
    priority: Pipeline | None
    fit_seconds: float

    def model(
        self, threshold: float, similarity_threshold: float, info: dict[str, Any] | None = None
    ) -> TriageModel:
        return TriageModel(
            self.pipeline,
            threshold=threshold,
            similarity_threshold=similarity_threshold,
            novelty=self.novelty,
            oos_label=self.data.oos_label,
            team_map=self.data.team_map,
            team_pipeline=self.team,
            priority_pipeline=self.priority,
            info=info,
        )


def fit_parts(
    data: TrainingData,
    rows: np.ndarray,
    *,
    params: Mapping[str, Any],
    random_state: int,
    calibration_cv: int | None,
) -> Fitted:
    """Fit the category pipeline, its novelty signal, the team model or head and the
    priority model on ``rows`` of ``data``."""
    fit_one = partial(fit, params=params, random_state=random_state, calibration_cv=calibration_cv)
    texts = [data.texts[i] for i in rows]
    labels = [data.labels[i] for i in rows]
    started = time.perf_counter()
    pipeline = fit_one(texts, labels)
    fit_seconds = time.perf_counter() - started
    team = None
    if data.teams is not None:
        team = fit_one(texts, [data.teams[i] for i in rows])
    if data.team_map is not None:
        team = fit_team_head(
            pipeline, texts, labels, data.team_map, params, random_state, calibration_cv
        )
    priority = None
    if data.priority_rows is not None and data.priorities is not None:
        usable = sorted(set(data.priority_rows).intersection(rows.tolist()))
        counts = Counter(data.priorities[i] for i in usable)
        if len(counts) >= 2 and min(counts.values()) >= 2:
            priority = fit_one(
                [data.texts[i] for i in usable], [str(data.priorities[i]) for i in usable]
            )
    novelty = fit_novelty(pipeline, texts, labels, data.oos_label)
    return Fitted(data, pipeline, novelty, team, priority, fit_seconds)
