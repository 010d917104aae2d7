"""Incidents: a surge of similar new tickets worked as one.

During an outage hundreds of customers write about the same thing within minutes. Each still
gets a ticket of their own, but the agents see one incident: one topic, one live card, one
reply that reaches everybody, one button that resolves them all.

The rules here are pure: the similarities come in as numbers (cosine similarity of the triage
vectors, computed by the caller), time comes in as ``now``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from models.enums import MediaKind
from models.errors import InvalidInput, NotFound


class IncidentNotFound(NotFound):
    def __init__(self, ref: object) -> None:
        super().__init__(f"incident {ref} not found")
        self.ref = ref


class IncidentStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"  # every linked ticket was resolved with it
    SPLIT = "split"  # a false alarm: its tickets went back to topics of their own


@dataclass(frozen=True)
class SurgeRule:
    """When new tickets form a cluster: at least ``size`` of them within ``window``, each
    at least ``threshold`` similar to the newest one and, on average, to the others."""

    window: timedelta = timedelta(minutes=10)
    size: int = 5
    threshold: float = 0.35

    def __post_init__(self) -> None:
        if self.size < 2:
            raise InvalidInput("incident_size", self.size, "a cluster needs two tickets at least")
        if not 0.0 < self.threshold <= 1.0:
            raise InvalidInput("incident_similarity", self.threshold, "between 0 and 1")
        if self.window <= timedelta(0):
            raise InvalidInput("incident_window", self.window, "must be positive")

    def since(self, now: datetime) -> datetime:
        """The oldest creation time a ticket of the cluster may have."""
        return now - self.window


def surge_cluster(similarity: Sequence[Sequence[float]], rule: SurgeRule) -> list[int] | None:
    """The members of the cluster around ticket 0 (the newest), or None when there is none.

    ``similarity`` is the square matrix of cosine similarities between the candidates (index
    0 is the new ticket, the others are the recent tickets not in an incident). Candidates are
    taken best first by their similarity to the new ticket; one joins when it is at least
    ``threshold`` similar to the new ticket and its mean similarity to those already in is at
    least ``threshold`` too (average linkage: paraphrases of one complaint are not all close
    pairwise, but two different problems that share a few words are far on average).

    Returns the indices of the members, the new ticket first, when there are ``rule.size`` of
    them at least.
    """
    n = len(similarity)
    if any(len(row) != n for row in similarity):
        raise ValueError("the similarity matrix must be square")
    if n < rule.size:
        return None
    order = sorted(range(1, n), key=lambda i: (-similarity[0][i], i))
    members = [0]
    for candidate in order:
        if similarity[0][candidate] < rule.threshold:
            break  # sorted: none of the rest is close enough to the new ticket
        mean = sum(similarity[candidate][m] for m in members) / len(members)
        if mean >= rule.threshold:
            members.append(candidate)
    return members if len(members) >= rule.size else None


def joins(similarities: Sequence[float], threshold: float) -> float | None:
    """Whether a new ticket joins an open incident: its mean similarity to the incident's
    tickets (a sample of them) reaches ``threshold``. Returns that mean, or None."""
    if not similarities:
        return None
    mean = sum(similarities) / len(similarities)
    return mean if mean >= threshold else None


def related(
    incidents: Sequence[Incident], category: str | None, since: datetime
) -> Incident | None:
    """The open incident a new cluster belongs to although its words differ: the same
    category, active within the surge window (its newest ticket joined at ``since`` or later).

    Customers describe one outage in ways that share no words ("I cannot log in" and "app not
    working since this morning", or the same complaint in Russian and in English); each way
    forms a cluster of its own. Two surges of one category within minutes are one outage far
    more often than two, and one reply should reach them all (an agent detaches a ticket that
    is about something else). Of several, the most recently active one. Tickets the triage was
    not sure about (no category) are never linked this way.
    """
    if category is None:
        return None
    found = [
        i
        for i in incidents
        if i.is_open and i.category == category and (i.updated_at or i.created_at) >= since
    ]
    return max(found, key=lambda i: (i.updated_at or i.created_at, i.number), default=None)


def clusterable(subject: str) -> bool:
    """Whether a ticket's subject is words (a message without text has a subject like
    ``[photo]``, which says nothing about the problem)."""
    text = subject.strip()
    if not text:
        return False
    return text not in {f"[{kind}]" for kind in MediaKind}


@dataclass
class Incident:
    """One surge: its topic and card in the agents' group, the tickets linked to it."""

    number: int
    created_at: datetime
    category: str | None = None
    status: IncidentStatus = IncidentStatus.OPEN
    #: The subject of the ticket that was new when the surge was detected.
    subject: str = ""
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    agent_chat_id: int | None = None
    thread_id: int | None = None
    card_message_id: int | None = None
    id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.status is IncidentStatus.OPEN

    def ensure_open(self) -> None:
        if not self.is_open:
            raise InvalidInput("incident", f"#{self.number}", f"is {self.status} already")

    def close(self, status: IncidentStatus, now: datetime) -> None:
        """Resolve or split: the incident takes no more tickets and no more replies."""
        self.ensure_open()
        self.status = status
        self.closed_at = self.updated_at = now


@dataclass
class BulkReply:
    """An agent's message in the incident topic and its delivery to the linked customers
    (``total`` queued; ``sent`` and ``failed`` counted as the calls go out)."""

    incident_id: int
    agent_chat_id: int
    agent_message_id: int
    author_agent_id: int | None
    sent_at: datetime
    text: str | None = None
    note: bool = False
    total: int = 0
    sent: int = 0
    failed: int = 0
    id: int | None = None

    @property
    def done(self) -> bool:
        return self.sent + self.failed >= self.total
