"""The rules around the classifiers, and what they decide for one message.

:class:`Policy` turns the calibrated probabilities of the category, team and priority heads
and the novelty signal into a :class:`TriageResult`: out of scope, confidence threshold,
team, priority. It is shared by :class:`~triage.model.TriageModel` (scikit-learn) and
:class:`~triage.compact.CompactTriage` (numpy), so both decide alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from triage.priority import PRIORITY_LEVELS, assess_priority, priority_rank

__all__ = ["Policy", "TriageResult"]

_N_ALTERNATIVES = 3


@dataclass(frozen=True, slots=True)
class TriageResult:
    """Prediction for one message.

    Attributes
    ----------
    category : str
        Most probable category.
    team : str
        Team that handles the message. With a team map, the team whose categories have the
        largest summed probability, averaged with the team head's probability when the model
        has one (it may differ from the team of ``category``).
    priority : str
        One of ``low``, ``normal``, ``high``, ``urgent``.
    confidence : float
        Calibrated probability of ``category``.
    team_confidence : float
        Probability of ``team`` (with a team map: the summed probability of its categories,
        averaged with the team head's).
    priority_confidence : float
        Confidence of ``priority`` (rule confidence or priority-model probability).
    needs_human : bool
        True when the message is out of scope (see ``out_of_scope``) or ``confidence`` is
        below the model's confidence threshold.
    alternatives : tuple of (str, float)
        The top three categories with their probabilities, best first.
    priority_cues : tuple of str
        Names of the urgency cues found in the text.
    similarity : float
        Cosine similarity to the nearest category centroid in the feature space (1.0 for a
        model without centroids): the novelty signal.
    out_of_scope : bool
        True when the message looks like none of the categories: the explicit "none of
        these" class is more probable than ``category``, ``similarity`` is below the
        model's similarity threshold, or the text has no feature seen in training.
    """

    category: str
    team: str
    priority: str
    confidence: float
    team_confidence: float
    priority_confidence: float
    needs_human: bool
    alternatives: tuple[tuple[str, float], ...]
    priority_cues: tuple[str, ...] = ()
    similarity: float = 1.0
    out_of_scope: bool = False


class Policy:
    """The rules around the classifiers: out of scope, confidence threshold, team, priority.

    Shared by :class:`~triage.model.TriageModel` (scikit-learn) and :class:`CompactTriage`
    (numpy), so both decide alike from the same probabilities.
    """

    def __init__(
        self,
        classes: Sequence[str],
        *,
        threshold: float,
        similarity_threshold: float,
        oos_label: str | None,
        team_map: Mapping[str, str] | None,
        team_classes: Sequence[str] | None,
        priority_classes: Sequence[str] | None,
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within [0, 1], got {threshold}")
        if not 0.0 <= similarity_threshold <= 1.0:
            raise ValueError(
                f"similarity_threshold must be within [0, 1], got {similarity_threshold}"
            )
        self.threshold = float(threshold)
        self.similarity_threshold = float(similarity_threshold)
        self.oos_label = oos_label
        self.classes = tuple(str(label) for label in classes)
        in_scope = [i for i, label in enumerate(self.classes) if label != oos_label]
        if not in_scope:
            raise ValueError("the pipeline has no category besides the out-of-scope label")
        self.in_scope = np.asarray(in_scope, dtype=np.intp)
        self.oos_index = self.classes.index(oos_label) if oos_label in self.classes else None
        self.labels = tuple(self.classes[i] for i in in_scope)
        self.team_map: dict[str, str] | None = dict(team_map) if team_map is not None else None
        self.team_classes = None if team_classes is None else tuple(map(str, team_classes))
        self.priority_classes = (
            None if priority_classes is None else tuple(map(str, priority_classes))
        )
        if self.team_map is not None:
            missing = sorted(set(self.labels) - set(self.team_map))
            if missing:
                raise ValueError(f"team map has no team for: {', '.join(missing)}")
            self.teams: tuple[str, ...] = tuple(sorted({self.team_map[x] for x in self.labels}))
            self.team_index = np.array([self.teams.index(self.team_map[x]) for x in self.labels])
            if self.team_classes is not None:
                if sorted(self.team_classes) != list(self.teams):
                    raise ValueError("the team pipeline's classes are not the team map's teams")
                self.team_columns = np.array([self.team_classes.index(t) for t in self.teams])
        elif self.team_classes is not None:
            self.teams = self.team_classes
        else:
            self.teams = self.labels

    def decide(
        self,
        text: str,
        all_proba: np.ndarray,
        known: bool,
        similarity: float,
        team_proba: np.ndarray | None,
        priority_proba: np.ndarray | None,
    ) -> TriageResult:
        """The result for one text from its probabilities and novelty signals."""
        proba = all_proba[self.in_scope]
        order = np.argsort(-proba, kind="stable")[:_N_ALTERNATIVES]
        best = int(order[0])
        category = self.labels[best]
        confidence = float(proba[best])
        oos_proba = float(all_proba[self.oos_index]) if self.oos_index is not None else 0.0
        out_of_scope = (
            (not known) or oos_proba > confidence or similarity < self.similarity_threshold
        )
        if self.team_map is not None:
            # The team is decided on its own: the summed probability of its categories. A
            # message split between two categories of one team belongs to that team even
            # when a category of another team is the single most probable one.
            summed = np.bincount(self.team_index, weights=proba, minlength=len(self.teams))
            # With a team head, its own view of the team counts as much as the categories'.
            team_proba = (
                summed if team_proba is None else (summed + team_proba[self.team_columns]) / 2
            )
            team_best = int(np.argmax(team_proba))
            team, team_confidence = self.teams[team_best], float(team_proba[team_best])
        elif team_proba is not None:
            team_best = int(np.argmax(team_proba))
            team = self.teams[team_best]
            team_confidence = float(team_proba[team_best])
        else:
            team, team_confidence = category, confidence
        priority, priority_confidence, cues = self._priority(text, priority_proba)
        return TriageResult(
            category=category,
            team=team,
            priority=priority,
            confidence=confidence,
            team_confidence=min(1.0, team_confidence),
            priority_confidence=priority_confidence,
            needs_human=out_of_scope or confidence < self.threshold,
            alternatives=tuple((self.labels[int(i)], float(proba[int(i)])) for i in order),
            priority_cues=cues,
            similarity=similarity,
            out_of_scope=out_of_scope,
        )

    def _priority(
        self, text: str, priority_proba: np.ndarray | None
    ) -> tuple[str, float, tuple[str, ...]]:
        rules = assess_priority(text)
        if priority_proba is None or self.priority_classes is None:
            return rules.level, rules.confidence, rules.cues
        best = int(np.argmax(priority_proba))
        model_level = self.priority_classes[best]
        model_confidence = float(priority_proba[best])
        if model_level not in PRIORITY_LEVELS:  # pragma: no cover - train() validates levels
            return rules.level, rules.confidence, rules.cues
        if rules.level in ("high", "urgent"):
            if priority_rank(rules.level) > priority_rank(model_level):
                return rules.level, rules.confidence, rules.cues
            if rules.level == model_level:
                return model_level, max(rules.confidence, model_confidence), rules.cues
            return model_level, model_confidence, rules.cues
        if rules.level == "low" and model_level == "normal":
            return "low", rules.confidence, rules.cues
        return model_level, model_confidence, rules.cues
