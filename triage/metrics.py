"""Evaluation metrics and the abstain-threshold rule."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

if TYPE_CHECKING:
    from triage.model import TriageModel

__all__ = [
    "Metrics",
    "OutOfScopeChoice",
    "ThresholdChoice",
    "choose_oos_thresholds",
    "choose_threshold",
    "evaluate",
]

_TIMING_SAMPLES = 200
#: Candidate thresholds: these quantiles of the in-scope validation rows' confidence and
#: similarity (plus 0, "off"). A threshold above the median would abstain on half of the
#: in-scope messages by itself.
_CANDIDATE_QUANTILES = np.linspace(0.0, 0.5, 51)


@dataclass(frozen=True, slots=True)
class Metrics:
    """Held-out quality of a freshly trained model (see :func:`triage.train`).

    Attributes
    ----------
    n_train, n_validation : int
        Examples used for fitting and for validation (with ``validation="cv"`` every
        example is validated once, out of fold).
    validation : str
        ``"holdout"`` (stratified split) or ``"cv"`` (out-of-fold predictions).
    n_labels : int
        Number of categories.
    accuracy, macro_f1 : float
        Category accuracy and macro-F1 on the validation predictions, abstentions ignored.
    team_accuracy : float or None
        Share of validation messages routed to the right team (``None`` without teams).
    priority_accuracy : float or None
        Share of validation messages with the right priority, when priorities were given.
    threshold : float
        Abstain threshold chosen on the validation predictions.
    threshold_method : str
        How it was chosen (human-readable rule).
    target_accuracy : float
        Target of the rule.
    abstain_rate, coverage : float
        Share of validation messages below / at or above the threshold.
    accuracy_when_confident : float
        Accuracy on the messages at or above the threshold. It is measured on the same
        predictions that chose the threshold, so it is optimistic; ``evaluate`` on other
        data gives the unbiased figure.
    fit_seconds : float
        Wall time of the final fit on all the data.
    similarity_threshold : float
        Novelty threshold chosen with ``threshold`` (0 when it was not chosen).
    n_out_of_scope : int
        Out-of-scope rows among the validation rows (training rows with the out-of-scope
        label, or the seed off-topic examples when the data has none).
    in_scope_accuracy : float or None
        Share of in-scope validation rows answered (not abstained) and right.
    oos_recall : float or None
        Share of out-of-scope validation rows abstained on.
    """

    n_train: int
    n_validation: int
    validation: str
    n_labels: int
    accuracy: float
    macro_f1: float
    team_accuracy: float | None
    priority_accuracy: float | None
    threshold: float
    threshold_method: str
    target_accuracy: float
    abstain_rate: float
    coverage: float
    accuracy_when_confident: float
    fit_seconds: float
    similarity_threshold: float = 0.0
    n_out_of_scope: int = 0
    in_scope_accuracy: float | None = None
    oos_recall: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the metrics as a JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Metrics:
        """Build metrics from :meth:`to_dict` output (unknown keys are ignored)."""
        names = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


@dataclass(frozen=True, slots=True)
class ThresholdChoice:
    """Outcome of :func:`choose_threshold`."""

    threshold: float
    method: str
    coverage: float
    accuracy_when_confident: float
    target_reached: bool


def choose_threshold(
    confidence: Sequence[float] | np.ndarray,
    correct: Sequence[bool] | np.ndarray,
    *,
    target_accuracy: float = 0.95,
    min_coverage: float = 0.5,
) -> ThresholdChoice:
    """Choose the abstain threshold on validation predictions.

    Rule: the **smallest** threshold ``t`` such that the accuracy on the validation
    messages with top probability ``>= t`` is at least ``target_accuracy``; the smallest
    such ``t`` keeps the most messages automatic. ``t`` is always one of the observed
    confidences. If no threshold reaches the target, fall back to the threshold with the
    highest accuracy-when-confident among those that keep at least ``min_coverage`` of the
    messages (ties: the smaller threshold).

    Parameters
    ----------
    confidence : array-like of shape (n,)
        Top calibrated probability of each validation message.
    correct : array-like of shape (n,)
        Whether the top category was right.
    target_accuracy : float, default=0.95
        Accuracy wanted on the messages the model answers alone.
    min_coverage : float, default=0.5
        Coverage floor of the fallback.

    Returns
    -------
    ThresholdChoice
    """
    conf = np.asarray(confidence, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    if conf.ndim != 1 or conf.shape != ok.shape or conf.size == 0:
        raise ValueError("confidence and correct must be non-empty 1-d arrays of equal length")
    order = np.argsort(-conf, kind="stable")
    conf, ok = conf[order], ok[order]
    # Candidate k = keep the k most confident; only the last position of each tie group is
    # a real threshold, because a threshold keeps all equal confidences or none.
    last_of_group = np.r_[conf[1:] != conf[:-1], True]
    kept = np.arange(1, conf.size + 1)[last_of_group]
    accuracy = (np.cumsum(ok) / np.arange(1, conf.size + 1))[last_of_group]
    thresholds = conf[last_of_group]
    coverage = kept / conf.size
    reached = accuracy >= target_accuracy
    if reached.any():
        best = int(np.flatnonzero(reached)[-1])
        method = (
            f"smallest threshold with accuracy-when-confident >= {target_accuracy:g} "
            f"on {conf.size} validation predictions"
        )
    else:
        allowed = coverage >= min_coverage
        scores = np.where(allowed, accuracy, -1.0)
        best = int(np.flatnonzero(scores == scores.max())[-1])
        method = (
            f"target accuracy {target_accuracy:g} unreachable on {conf.size} validation "
            f"predictions; threshold with the best accuracy-when-confident at coverage >= "
            f"{min_coverage:g}"
        )
    return ThresholdChoice(
        threshold=float(thresholds[best]),
        method=method,
        coverage=float(coverage[best]),
        accuracy_when_confident=float(accuracy[best]),
        target_reached=bool(reached.any()),
    )


@dataclass(frozen=True, slots=True)
class OutOfScopeChoice:
    """Outcome of :func:`choose_oos_thresholds`."""

    threshold: float
    similarity_threshold: float
    method: str
    in_scope_accuracy: float
    in_scope_accuracy_floor: float
    oos_recall: float
    n_in_scope: int
    n_out_of_scope: int


def choose_oos_thresholds(
    confidence: Sequence[float] | np.ndarray,
    similarity: Sequence[float] | np.ndarray,
    correct: Sequence[bool] | np.ndarray,
    out_of_scope: Sequence[bool] | np.ndarray,
    forced: Sequence[bool] | np.ndarray | None = None,
    *,
    max_in_scope_loss: float = 0.05,
) -> OutOfScopeChoice:
    """Choose the confidence and similarity thresholds on validation rows with out-of-scope.

    Rule: among the candidate pairs (each threshold is 0 or one of the 0, 1, ..., 50th
    percentiles of the in-scope rows' values), keep those whose in-scope accuracy (right
    and not abstained, over in-scope rows) is at most ``max_in_scope_loss`` below the
    accuracy of the best category when nothing is abstained on (the ``forced`` abstentions
    count against the allowance); of those, take the pair that abstains on the most
    out-of-scope rows; ties go to the higher in-scope accuracy, then to the smaller
    confidence threshold, then to the smaller similarity threshold. When even the forced
    abstentions exceed the allowance, both thresholds are 0. The result is a pure function
    of the inputs.

    The rule controls novelty, not precision: it does not depend on how accurate the
    in-scope model happens to be, only on how much of that accuracy may be given up to
    catch messages that belong to no category.

    Parameters
    ----------
    confidence : array-like of shape (n,)
        Calibrated probability of the best in-scope category.
    similarity : array-like of shape (n,)
        Similarity to the nearest category centroid.
    correct : array-like of shape (n,)
        Whether the best in-scope category is right (False for out-of-scope rows).
    out_of_scope : array-like of shape (n,)
        Whether the row is out of scope.
    forced : array-like of shape (n,), optional
        Rows abstained on whatever the thresholds (the "none of these" class won, or no
        known feature).
    max_in_scope_loss : float, default=0.05
        In-scope accuracy that may be traded for out-of-scope recall.

    Returns
    -------
    OutOfScopeChoice

    Raises
    ------
    ValueError
        When there are no in-scope or no out-of-scope rows.
    """
    conf = np.asarray(confidence, dtype=float)
    sim = np.asarray(similarity, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    oos = np.asarray(out_of_scope, dtype=bool)
    abstain = np.zeros(conf.size, bool) if forced is None else np.asarray(forced, dtype=bool)
    if not conf.shape == sim.shape == ok.shape == oos.shape == abstain.shape or conf.ndim != 1:
        raise ValueError("all arrays must be 1-d and of equal length")
    n_in, n_oos = int((~oos).sum()), int(oos.sum())
    if not n_in or not n_oos:
        raise ValueError("need in-scope and out-of-scope validation rows")
    right = ok & ~oos
    conf_grid = np.unique(
        np.r_[0.0, np.quantile(conf[~oos], _CANDIDATE_QUANTILES, method="lower")]
    )
    sim_grid = np.unique(np.r_[0.0, np.quantile(sim[~oos], _CANDIDATE_QUANTILES, method="lower")])
    below_sim = sim[:, None] < sim_grid[None, :]
    best: tuple[float, float, int, int] | None = None
    floor = float(right.sum() / n_in) - max_in_scope_loss
    for i, conf_threshold in enumerate(conf_grid):
        abstained = below_sim | (abstain | (conf < conf_threshold))[:, None]
        accuracy = (right[:, None] & ~abstained).sum(axis=0) / n_in
        recall = (abstained & oos[:, None]).sum(axis=0) / n_oos
        for j in np.flatnonzero(accuracy >= floor - 1e-12):
            key = (float(recall[j]), float(accuracy[j]))
            if best is None or key > best[:2]:
                best = (key[0], key[1], int(i), int(j))
    if best is None:  # the forced abstentions alone cost more than the allowance
        at_zero = abstain | below_sim[:, 0]
        best = (
            float((at_zero & oos).sum() / n_oos),
            float((right & ~at_zero).sum() / n_in),
            0,
            0,
        )
    recall_best, accuracy_best, conf_at, sim_at = best
    return OutOfScopeChoice(
        threshold=float(conf_grid[conf_at]),
        similarity_threshold=float(sim_grid[sim_at]),
        method=(
            f"most out-of-scope rows abstained on ({n_oos} out-of-scope, {n_in} in-scope "
            f"validation rows) while in-scope accuracy stays within {max_in_scope_loss:g} of "
            f"the accuracy without any abstention; candidates: 0 and the 0-50th percentiles "
            f"of in-scope confidence and centroid similarity"
        ),
        in_scope_accuracy=accuracy_best,
        in_scope_accuracy_floor=max(0.0, floor),
        oos_recall=recall_best,
        n_in_scope=n_in,
        n_out_of_scope=n_oos,
    )


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    """Macro-F1 over the labels present in ``y_true`` (absent predictions score 0)."""
    labels = sorted(set(y_true))
    return float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0))


def _ratio(numerator: float, denominator: float) -> float | None:
    return float(numerator / denominator) if denominator else None


def evaluate(
    model: TriageModel,
    texts: Sequence[str],
    labels: Sequence[str],
    team_map: Mapping[str, str] | None = None,
    oos_label: str | None = None,
    *,
    timing: bool = True,
) -> dict[str, Any]:
    """Evaluate a model on labelled messages.

    Used by the CLI and to compare a retrained candidate with the current model on the
    same data (see :func:`triage.registry.should_promote`).

    Parameters
    ----------
    model : TriageModel
        The model to evaluate.
    texts, labels : sequence of str
        Messages and their true categories.
    team_map : mapping of str to str, optional
        Category -> team of the evaluation data; adds ``team_accuracy`` (the predicted
        team, as the model routes it, against ``team_map[true category]``).
    oos_label : str, optional
        Label of out-of-scope rows. Those rows are left out of ``accuracy``, ``macro_f1``
        and ``team_accuracy``; the result gains ``in_scope_accuracy`` (correct and not
        abstained, over in-scope rows: an abstention counts as an error) and
        ``oos_recall`` (share of out-of-scope rows abstained on).
    timing : bool, default=True
        Also time single-message :meth:`TriageModel.predict` calls on up to 200 texts
        (``predict_ms_p50``, ``predict_ms_p99``).

    Returns
    -------
    dict
        ``n``, ``accuracy``, ``macro_f1``, ``abstain_rate``, ``coverage``,
        ``accuracy_when_confident``, ``threshold`` and the optional keys above.
    """
    texts = [str(text) for text in texts]
    truth = np.asarray([str(label) for label in labels], dtype=object)
    if len(texts) != truth.size:
        raise ValueError("texts and labels differ in length")
    if not texts:
        raise ValueError("nothing to evaluate")
    results = model.predict_many(texts)
    predicted = np.asarray([result.category for result in results], dtype=object)
    abstained = np.asarray([result.needs_human for result in results], dtype=bool)
    in_scope = truth != oos_label if oos_label is not None else np.ones(truth.size, bool)
    correct = (predicted == truth) & in_scope
    out: dict[str, Any] = {
        "n": int(truth.size),
        "threshold": model.threshold,
        "similarity_threshold": model.similarity_threshold,
        "abstain_rate": float(abstained.mean()),
        "coverage": float(1.0 - abstained.mean()),
    }
    n_in = int(in_scope.sum())
    if n_in:
        out["accuracy"] = float(accuracy_score(truth[in_scope], predicted[in_scope]))
        out["macro_f1"] = macro_f1(list(truth[in_scope]), list(predicted[in_scope]))
        confident = in_scope & ~abstained
        out["accuracy_when_confident"] = _ratio(correct[confident].sum(), confident.sum())
    else:
        out["accuracy"] = out["macro_f1"] = out["accuracy_when_confident"] = None
    if team_map is not None and n_in:
        teams_true = np.asarray([team_map.get(str(label)) for label in truth], dtype=object)
        teams_pred = np.asarray([result.team for result in results], dtype=object)
        out["team_accuracy"] = float((teams_true == teams_pred)[in_scope].mean())
    if oos_label is not None:
        out["n_out_of_scope"] = int(truth.size - n_in)
        out["in_scope_accuracy"] = _ratio((correct & ~abstained).sum(), n_in)
        out["oos_recall"] = _ratio((abstained & ~in_scope).sum(), truth.size - n_in)
    if timing:
        sample = texts[:_TIMING_SAMPLES]
        model.predict(sample[0])  # warm-up
        elapsed = []
        for text in sample:
            start = time.perf_counter()
            model.predict(text)
            elapsed.append((time.perf_counter() - start) * 1000.0)
        out["predict_ms_p50"] = round(float(np.percentile(elapsed, 50)), 4)
        out["predict_ms_p99"] = round(float(np.percentile(elapsed, 99)), 4)
    return out
