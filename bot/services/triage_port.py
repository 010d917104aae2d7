"""The triage port: how use cases ask for a category, team and priority."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from models import Priority


@dataclass(frozen=True)
class TriageVerdict:
    category: str | None
    team: str | None
    priority: Priority
    confidence: float | None
    needs_human: bool


class Triage(Protocol):
    async def classify(self, text: str) -> TriageVerdict: ...


class DefaultTriage:
    """Until a model is plugged in: everything is a general question with normal priority."""

    async def classify(self, text: str) -> TriageVerdict:
        return TriageVerdict(
            category="general",
            team=None,
            priority=Priority.NORMAL,
            confidence=None,
            needs_human=False,
        )
