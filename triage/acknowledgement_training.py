"""Training the acknowledgement detector (scikit-learn) and writing the shipped arrays.

``helpdesk triage acknowledgements`` (``python -m triage acknowledgements``) retrains it from
the seed files and rewrites ``triage/seed/acknowledgement.npz`` + ``.json``; run it after
changing ``acknowledgements.csv`` or ``examples.csv`` (a test fails until then).
See :mod:`triage.acknowledgement` for what the detector decides.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline

from triage.acknowledgement import (
    _THRESHOLDS,
    ACK_LABEL,
    MAX_WORDS,
    TARGET_PRECISION,
    AcknowledgementDetector,
    _passes_cues,
    save_detector,
)
from triage.data import load_seed
from triage.export import export_features
from triage.text import normalise_text

__all__ = ["train", "write_shipped"]

SEED_DIR = Path(__file__).resolve().parent / "seed"


def _pipeline(random_state: int) -> Pipeline:
    features = FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)),
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
        ]
    )
    model = LogisticRegression(C=4.0, class_weight="balanced", solver="liblinear")
    model.set_params(random_state=random_state)
    return make_pipeline(features, model)


def _training_rows() -> tuple[list[str], list[str]]:
    """The seed acknowledgements and their hard negatives, plus every seed help-desk example
    but the ``feedback`` ones (praise such as "thanks for fixing it so quickly" is not a
    problem, and must not teach the class that thanks mean trouble)."""
    acks, seed = load_seed("acknowledgements"), load_seed("examples")
    problems = [
        text for text, label in zip(seed.texts, seed.labels, strict=True) if label != "feedback"
    ]
    labels = [ACK_LABEL if label == ACK_LABEL else "other" for label in acks.labels]
    return acks.texts + problems, labels + ["other"] * len(problems)


def _choose_threshold(texts: list[str], labels: list[str], random_state: int) -> float:
    proba = np.zeros(len(texts))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=random_state)
    normalised = [normalise_text(text) for text in texts]
    for train_idx, test_idx in folds.split(normalised, labels):
        fold = _pipeline(random_state).fit(
            [normalised[i] for i in train_idx], [labels[i] for i in train_idx]
        )
        column = list(fold.classes_).index(ACK_LABEL)
        proba[test_idx] = fold.predict_proba([normalised[i] for i in test_idx])[:, column]
    gated = np.array([_passes_cues(n, t) for n, t in zip(normalised, texts, strict=True)])
    truth = np.array([label == ACK_LABEL for label in labels])
    for threshold in _THRESHOLDS:
        said = gated & (proba >= threshold)
        if said.any() and (said & truth).sum() / said.sum() >= TARGET_PRECISION:
            return threshold
    return _THRESHOLDS[-1]


def train(*, random_state: int = 0) -> AcknowledgementDetector:
    """Train the detector on the seed files (offline, well under a second on one core)."""
    texts, labels = _training_rows()
    threshold = _choose_threshold(texts, labels, random_state)
    pipeline = _pipeline(random_state).fit([normalise_text(t) for t in texts], labels)
    info = {
        "threshold": threshold,
        "threshold_rule": (
            f"smallest of {_THRESHOLDS[0]}..{_THRESHOLDS[-1]} with out-of-fold precision "
            f">= {TARGET_PRECISION} (5 folds, cue rules applied)"
        ),
        "max_words": MAX_WORDS,
        "training_rows": len(texts),
        "acknowledgements": labels.count(ACK_LABEL),
    }
    model = pipeline[-1]
    return AcknowledgementDetector(
        export_features(pipeline[0]),
        model.coef_,
        model.intercept_,
        [str(label) for label in model.classes_],
        threshold,
        info,
    )


def write_shipped(directory: Path = SEED_DIR, *, random_state: int = 0) -> Path:
    """Retrain and write the shipped arrays; returns the directory."""
    save_detector(train(random_state=random_state), directory)
    return directory
