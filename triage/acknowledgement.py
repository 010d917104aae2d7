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

The bot process never trains it: the fitted classifier ships as plain arrays
(``triage/seed/acknowledgement.npz`` + ``.json``, :mod:`triage.compact`'s TF-IDF blocks and
the logistic regression's weights), written by ``helpdesk triage acknowledgements`` from the
seed files (:mod:`triage.acknowledgement_training`, scikit-learn); a test retrains and checks
that the shipped arrays are what the seed files give. Scoring needs numpy alone.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from triage.analyzers import AnalyzerSpec
from triage.compact import FeatureSpace, TfidfBlock
from triage.text import normalise_text

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
    "load_detector",
    "save_detector",
    "train_acknowledgements",
]

#: Label of the acknowledgement rows in the seed files (the rest are real problems).
ACK_LABEL = "ack"
#: Longest message (in words) that can be an acknowledgement.
MAX_WORDS = 6
#: Out-of-fold precision the threshold must reach.
TARGET_PRECISION = 0.99
_THRESHOLDS = tuple(round(0.6 + 0.05 * i, 2) for i in range(8))
#: The shipped detector's files in ``triage/seed`` (``.npz`` arrays, ``.json`` the rest).
SHIPPED = "acknowledgement"
_FORMAT = "helpdesk-acknowledgement/1"

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


class AcknowledgementDetector:
    """The "thanks / acknowledgement" class with its cue rules (see the module notes).

    Parameters
    ----------
    features : FeatureSpace
        The fitted TF-IDF blocks (character 2-4 and word 1-2 n-grams of the normalised text).
    coef, intercept : ndarray
        The binary logistic regression's weights (``coef`` of shape ``(1, n_features)``).
    classes : sequence of str
        Its two classes, in scikit-learn's order (the positive one second).
    threshold : float
    info : dict
    """

    def __init__(
        self,
        features: FeatureSpace,
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: tuple[str, str] | list[str],
        threshold: float,
        info: dict[str, Any],
    ) -> None:
        if len(classes) != 2 or ACK_LABEL not in classes or np.shape(coef)[0] != 1:
            raise ValueError("expected a binary classifier with the acknowledgement class")
        self.features = features
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64).reshape(-1)
        self.classes = (str(classes[0]), str(classes[1]))
        self.threshold = float(threshold)
        self.info = info

    def probability(self, text: str) -> float:
        """Probability of the acknowledgement class (cue rules not applied)."""
        columns, values = self.features.vector(normalise_text(text))
        decision = float(self.coef[0, columns] @ values + self.intercept[0])
        positive = (
            1.0 / (1.0 + math.exp(-decision))
            if decision >= 0
            else (math.exp(decision) / (1.0 + math.exp(decision)))
        )  # LogisticRegression.predict_proba of a binary problem: expit of the decision
        return positive if self.classes[1] == ACK_LABEL else 1.0 - positive

    def is_acknowledgement(self, text: str) -> bool:
        """Whether ``text`` closes the conversation rather than raising something new."""
        stripped = text.strip()
        if not stripped:
            return False
        if is_emoji_only(stripped):
            return not any(char in NEGATIVE_EMOJI for char in stripped)
        normalised = normalise_text(stripped)
        return _passes_cues(normalised, stripped) and self.probability(stripped) >= self.threshold


def save_detector(detector: AcknowledgementDetector, directory: str | Path) -> None:
    """Write the detector as ``acknowledgement.npz`` + ``acknowledgement.json`` (no pickle)."""
    directory = Path(directory)
    arrays: dict[str, np.ndarray] = {"coef": detector.coef, "intercept": detector.intercept}
    blocks = []
    for i, block in enumerate(detector.features.blocks):
        arrays[f"terms{i}"] = block.terms()
        if block.idf is not None:
            arrays[f"idf{i}"] = block.idf
        blocks.append(
            {
                "analyzer": block.analyzer.to_dict(),
                "idf": block.idf is not None,
                "sublinear_tf": block.sublinear_tf,
                "binary": block.binary,
                "norm": block.norm,
                "weight": block.weight,
            }
        )
    with (directory / f"{SHIPPED}.npz").open("wb") as stream:
        np.savez_compressed(stream, allow_pickle=False, **arrays)
    spec = {
        "format": _FORMAT,
        "classes": list(detector.classes),
        "threshold": detector.threshold,
        "blocks": blocks,
        "info": detector.info,
    }
    (directory / f"{SHIPPED}.json").write_text(
        json.dumps(spec, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )


def load_detector(directory: str | Path | None = None) -> AcknowledgementDetector:
    """Read a detector written by :func:`save_detector` (default: the one shipped in
    ``triage/seed``)."""
    root: Any = resources.files("triage.seed") if directory is None else Path(directory)
    spec = json.loads((root / f"{SHIPPED}.json").read_text(encoding="utf-8"))
    if spec.get("format") != _FORMAT:
        raise ValueError(f"not a {_FORMAT} file")
    with (
        (root / f"{SHIPPED}.npz").open("rb") as stream,
        np.load(stream, allow_pickle=False) as stored,
    ):
        arrays = {key: stored[key] for key in stored.files}
    features = FeatureSpace(
        [
            TfidfBlock(
                AnalyzerSpec.from_dict(block["analyzer"]),
                arrays[f"terms{i}"].tolist(),
                arrays[f"idf{i}"] if block["idf"] else None,
                sublinear_tf=block["sublinear_tf"],
                binary=block["binary"],
                norm=block["norm"],
                weight=block["weight"],
            )
            for i, block in enumerate(spec["blocks"])
        ]
    )
    return AcknowledgementDetector(
        features,
        arrays["coef"],
        arrays["intercept"],
        spec["classes"],
        spec["threshold"],
        spec["info"],
    )


def train_acknowledgements(*, random_state: int = 0) -> AcknowledgementDetector:
    """Train the detector on the seed files (scikit-learn; offline, under a second)."""
    from triage.acknowledgement_training import train  # scikit-learn: never in the bot

    return train(random_state=random_state)


@cache
def acknowledgement_detector() -> AcknowledgementDetector:
    """The default detector: the shipped one, read once per process on first use."""
    return load_detector()


def is_acknowledgement(text: str) -> bool:
    """The desk's decision with the default detector (see the module notes)."""
    return acknowledgement_detector().is_acknowledgement(text)
