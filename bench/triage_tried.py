"""What was tried against issue 20's missed triage goals and not kept; prints ONE JSON object.

Usage::

    .venv/bin/python bench/triage_tried.py [--data-dir ../shared/data]
        [--only team_weight,oos_allowance,russian_classifiers]

Each section reproduces a figure quoted in README's Benchmarks section ("What was measured
against the goals still missed"):

* ``team_weight`` (Banking77): the team accuracy on ``test.csv`` for every weight of the team
  head against the summed category probabilities (0 = summed categories alone, 1 = the head
  alone; the shipped model uses 0.5), and the weight a validation rule picks on the
  validation split of ``train()`` (the highest team accuracy, ties nearest 0.5). The test
  curve is reported to show the ceiling of the mix; nothing is chosen on it.
* ``oos_allowance`` (Banking77-OOS): the threshold rule's in-scope allowance
  (``max_in_scope_loss``) at 0.05 (shipped) and below, thresholds chosen on the valid files
  as in ``bench/triage.py``; train-only and with ``id_oos_train.csv`` as "none of these".
* ``russian_classifiers`` (ru-autointent, the 5-fold CV of ``bench/triage.py``): other
  linear classifiers on the same features, alone and soft-voting with the calibrated SVM.

Data sets are read from the shared data directory and never copied; missing ones are
reported as skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.triage import _autointent, _oos_figures  # noqa: E402
from triage import (  # noqa: E402
    OOS_LABEL,
    build_pipeline,
    fit_thresholds,
    read_dataset,
    read_team_map,
    train,
)
from triage.estimators import BalancedLinearSVC  # noqa: E402
from triage.features import build_features  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data"
WEIGHTS = [round(w, 2) for w in np.linspace(0.0, 1.0, 21)]


def _team_views(model: Any, texts: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Summed category probabilities per team and the team head's, columns in team order."""
    features = model.pipeline[0].transform(texts)
    proba = model.pipeline[-1].predict_proba(features)
    head = model.team_pipeline[-1].predict_proba(features)
    teams = sorted(str(team) for team in model.team_pipeline.classes_)
    column = {team: i for i, team in enumerate(teams)}
    summed = np.zeros((len(texts), len(teams)))
    for j, label in enumerate(model.pipeline.classes_):
        summed[:, column[model.team_map[str(label)]]] += proba[:, j]
    order = [list(map(str, model.team_pipeline.classes_)).index(team) for team in teams]
    return summed, head[:, order], teams


def _accuracy_by_weight(summed: np.ndarray, head: np.ndarray, truth: np.ndarray) -> list[float]:
    return [
        round(float(np.mean(np.argmax((1 - w) * summed + w * head, axis=1) == truth)), 4)
        for w in WEIGHTS
    ]


def team_weight(data: Path) -> dict[str, Any]:
    train_set = read_dataset(data / "banking77" / "train.csv")
    test_set = read_dataset(data / "banking77" / "test.csv")
    team_map = read_team_map(data / "banking77_team_map.json")
    # The validation split of train(): stratified 20 %, random_state 0.
    rows = np.arange(len(train_set))
    fit_rows, valid_rows = train_test_split(
        rows, test_size=0.2, stratify=train_set.labels, random_state=0
    )
    fold, _ = train(
        [train_set.texts[i] for i in fit_rows], [train_set.labels[i] for i in fit_rows], team_map
    )
    summed, head, teams = _team_views(fold, [train_set.texts[i] for i in valid_rows])
    valid_truth = np.array([teams.index(team_map[train_set.labels[i]]) for i in valid_rows])
    valid_curve = _accuracy_by_weight(summed, head, valid_truth)
    chosen = max(
        range(len(WEIGHTS)), key=lambda i: (valid_curve[i], -abs(WEIGHTS[i] - 0.5), -WEIGHTS[i])
    )
    model, _ = train(train_set.texts, train_set.labels, team_map)
    summed, head, teams = _team_views(model, test_set.texts)
    test_truth = np.array([teams.index(team_map[label]) for label in test_set.labels])
    test_curve = _accuracy_by_weight(summed, head, test_truth)
    return {
        "weights": WEIGHTS,
        "validation_team_accuracy": valid_curve,
        "validation_choice": WEIGHTS[chosen],
        "test_team_accuracy": test_curve,
        "test_team_accuracy_at_validation_choice": test_curve[chosen],
        "test_team_accuracy_shipped_0_5": test_curve[WEIGHTS.index(0.5)],
    }


def oos_allowance(data: Path) -> dict[str, Any]:
    folder = data / "banking77-oos"
    names = ("train", "valid", "test", "id_oos_train", "id_oos_valid", "id_oos_test")
    part = {name: read_dataset(folder / f"{name}.csv") for name in (*names, "ood_oos_valid")}
    valid = ("valid", "id_oos_valid", "ood_oos_valid")
    valid_texts = [t for name in valid for t in part[name].texts]
    valid_labels = [label for name in valid for label in part[name].labels]
    out: dict[str, Any] = {}
    for variant, extra in (("train_only", ()), ("with_id_oos_train", ("id_oos_train",))):
        texts = [t for name in ("train", *extra) for t in part[name].texts]
        labels = [label for name in ("train", *extra) for label in part[name].labels]
        trained, _ = train(texts, labels)
        rows = []
        for allowance in (0.05, 0.045, 0.04, 0.035):
            model = fit_thresholds(trained, valid_texts, valid_labels, max_in_scope_loss=allowance)
            test = _oos_figures(
                model,
                part["test"].texts + part["id_oos_test"].texts,
                part["test"].labels + part["id_oos_test"].labels,
            )
            ood = _oos_figures(model, part["ood_oos_valid"].texts, part["ood_oos_valid"].labels)
            rows.append(
                {
                    "max_in_scope_loss": allowance,
                    "in_scope_accuracy": test["in_scope_accuracy"],
                    "in_scope_accuracy_no_abstain": test["in_scope_accuracy_ignoring_abstention"],
                    "id_oos_recall": test["oos_recall"],
                    "ood_oos_valid_recall": ood["oos_recall"],
                }
            )
        forced = [
            r.out_of_scope and r.category == label
            for r, label in zip(
                trained.with_thresholds(0.0, 0.0).predict_many(part["test"].texts),
                part["test"].labels,
                strict=True,
            )
        ]
        out[variant] = {
            "allowances": rows,
            "right_in_scope_test_rows_forced_out_of_scope": int(sum(forced)),
            "n_in_scope_test": len(forced),
        }
    out["oos_label"] = OOS_LABEL
    return out


def _calibrated(estimator: Any) -> CalibratedClassifierCV:
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    return CalibratedClassifierCV(estimator, method="temperature", cv=folds, ensemble=False)


def _svc() -> BalancedLinearSVC:
    return BalancedLinearSVC(C=0.35, balance_power=0.5, random_state=0)


def _others() -> dict[str, Any]:
    return {
        "logreg_C10": LogisticRegression(C=10, max_iter=3000),
        "ridge": RidgeClassifier(alpha=1.0),
        "complement_nb": ComplementNB(alpha=0.3),
    }


def _pipeline(name: str, *, alone: bool) -> Pipeline:
    """The shipped features with another calibrated classifier, alone or soft-voting with
    the shipped calibrated SVM."""
    other = _calibrated(_others()[name])
    classifier = (
        other
        if alone
        else VotingClassifier([("svc", _calibrated(_svc())), (name, other)], voting="soft")
    )
    return Pipeline(
        [
            ("features", build_features(word_weight=0.5, stem_weight=0.5)),
            ("classifier", classifier),
        ]
    )


def _cv(texts: list[str], labels: list[str], make: Any) -> float:
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    predicted = np.empty(len(texts), dtype=object)
    for train_idx, test_idx in folds.split(texts, labels):
        fitted = make().fit([texts[i] for i in train_idx], [labels[i] for i in train_idx])
        predicted[test_idx] = fitted.predict([texts[i] for i in test_idx])
    return round(float(np.mean(predicted == np.asarray(labels, dtype=object))), 4)


def russian_classifiers(data: Path) -> dict[str, Any]:
    folder = data / "ru-autointent"
    sets = {
        "ru_banking77": _autointent(folder / "ru_banking77.json"),
        "ru_minds14": _autointent(folder / "ru_minds14.json"),
        "en_banking77_parallel": _autointent(folder / "en_banking77_fewshot_parallel.json"),
    }
    makers: dict[str, Any] = {"shipped_svc": lambda: build_pipeline(cv=3, random_state=0)}
    for name in _others():
        makers[name] = partial(_pipeline, name, alone=True)
        makers[f"svc_plus_{name}"] = partial(_pipeline, name, alone=False)
    return {
        name: {data_set: _cv(*rows, make) for data_set, rows in sets.items()}
        for name, make in makers.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--only", help="comma-separated sections to run; default all")
    args = parser.parse_args()
    data: Path = args.data_dir
    only = set(args.only.split(",")) if args.only else None
    sections = {
        "team_weight": (data / "banking77" / "train.csv", team_weight),
        "oos_allowance": (data / "banking77-oos" / "train.csv", oos_allowance),
        "russian_classifiers": (data / "ru-autointent", russian_classifiers),
    }
    result: dict[str, Any] = {}
    for name, (required, run) in sections.items():
        if only is not None and name not in only:
            continue
        if not required.exists():
            result[name] = {"skipped": f"{required} not found"}
            continue
        started = time.perf_counter()
        result[name] = run(data)
        result[name]["section_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
