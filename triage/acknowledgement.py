"""A thank-you is not a new problem: recognising a customer's closing acknowledgement.

"thanks!", "спасибо, всё работает", "👍" after an agent's reply or a resolution closes a
conversation; "спасибо, но карта всё ещё не работает" opens one. The decision is built to
be conservative (a real problem must never be swallowed); a message is an acknowledgement
only when every one of these holds:

* it is short (at most :data:`MAX_WORDS` words) and asks nothing (no ``?``);
* it has no contrast or trouble cue (``but``, ``still``, ``not``, ``но``, ``опять``, ``не``
  ...: :data:`TROUBLE_CUES`);
* the "thanks / acknowledgement" class is at least ``threshold`` probable. The class is the
  out-of-scope decision's small "thanks" kind, learned the same way as the "none of these"
  class: a character and word n-gram logistic regression trained on the project's own seed
  examples (``triage/seed/acknowledgements.csv``: acknowledgements and real problems that
  mention thanks, ru and en) against the seed help-desk examples as real problems.

The desk's category model is deliberately not asked: measured on the seed acknowledgements
it is confidently wrong about several ("got the refund thanks" is ``refunds`` at 0.96,
"спасибо, всё работает" ``general`` at 0.59), so its verdict would only cost recall.

An emoji-only message (``👍``, ``🙏🙏``, ``😊``) is an acknowledgement unless one of its
emoji is a complaint (:data:`NEGATIVE_EMOJI`). Stickers are the caller's business (a
sticker has no text).

The threshold is chosen deterministically: the smallest of 0.60, 0.65, ... 0.95 whose
out-of-fold precision (5 stratified folds of the training rows, the cue rules applied) is
at least :data:`TARGET_PRECISION`; it is kept in ``info``. The held-out file
``triage/seed/acknowledgements_holdout.csv`` is never trained on (``bench/triage.py``
measures precision and recall on it).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline

from triage.data import load_seed
from triage.features import normalise_text

__all__ = [
    "ACK_LABEL",
    "MAX_WORDS",
    "NEGATIVE_EMOJI",
    "TARGET_PRECISION",
    "TROUBLE_CUES",
    "AcknowledgementDetector",
    "acknowledgement_detector",
    "is_acknowledgement",
    "is_emoji_only",
    "train_acknowledgements",
]

#: Label of the acknowledgement rows in the seed files (the rest are real problems).
ACK_LABEL = "ack"
#: Longest message (in words) that can be an acknowledgement.
MAX_WORDS = 6
#: Out-of-fold precision the threshold must reach.
TARGET_PRECISION = 0.99
_THRESHOLDS = tuple(round(0.6 + 0.05 * i, 2) for i in range(8))

#: Words that turn a thank-you into a report ("thanks, but ...", "спасибо, но ...").
TROUBLE_CUES = re.compile(
    r"\b(but|however|although|though|still|again|anyway|yet|not|nope|never|fail\w*|"
    r"error\w*|broken|wrong|back|advance|problem is|issue is|"
    r"но|однако|хотя|еще|до сих пор|снова|опять|равно|заранее|вернул\w*|"
    r"не|ни|ошибк\w*|проблема не|увы|а где|а как|а теперь|теперь)\b"
)
#: Emoji that complain rather than thank.
NEGATIVE_EMOJI = frozenset("👎😡😠🤬😢😭😞😟😕🙁☹💔❗❓⚠😤😩😫🤔")
_EMOJI_JOINERS = frozenset("\u200d\ufe0e\ufe0f\u20e3")


def is_emoji_only(text: str) -> bool:
    """Whether ``text`` is only emoji (with spaces or punctuation), at least one of them."""
    emoji = False
    for char in text:
        category = unicodedata.category(char)
        if category == "So" or char in _EMOJI_JOINERS or category == "Sk":
            emoji = emoji or category == "So"
        elif not (char.isspace() or category.startswith("P")):
            return False
    return emoji


def _passes_cues(normalised: str, raw: str) -> bool:
    return (
        "?" not in raw
        and len(normalised.split()) <= MAX_WORDS
        and TROUBLE_CUES.search(normalised) is None
    )


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


class AcknowledgementDetector:
    """The "thanks / acknowledgement" class with its cue rules (see the module notes)."""

    def __init__(self, pipeline: Pipeline, threshold: float, info: dict[str, Any]) -> None:
        self.pipeline = pipeline
        self.threshold = float(threshold)
        self.info = info

    def probability(self, text: str) -> float:
        """Probability of the acknowledgement class (cue rules not applied)."""
        proba = self.pipeline.predict_proba([normalise_text(text)])[0]
        return float(proba[list(self.pipeline.classes_).index(ACK_LABEL)])

    def is_acknowledgement(self, text: str) -> bool:
        """Whether ``text`` closes the conversation rather than raising something new."""
        stripped = text.strip()
        if not stripped:
            return False
        if is_emoji_only(stripped):
            return not any(char in NEGATIVE_EMOJI for char in stripped)
        normalised = normalise_text(stripped)
        return _passes_cues(normalised, stripped) and self.probability(stripped) >= self.threshold


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


def train_acknowledgements(*, random_state: int = 0) -> AcknowledgementDetector:
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
    return AcknowledgementDetector(pipeline, threshold, info)


@cache
def acknowledgement_detector() -> AcknowledgementDetector:
    """The default detector, trained once per process on first use."""
    return train_acknowledgements()


def is_acknowledgement(text: str) -> bool:
    """The desk's decision with the default detector (see the module notes)."""
    return acknowledgement_detector().is_acknowledgement(text)
