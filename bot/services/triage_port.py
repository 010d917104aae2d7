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

    async def acknowledges(self, text: str | None, *, sticker: bool = False) -> bool:
        """Whether a message ("thanks!", "👍", a sticker) only closes the conversation."""
        ...
