"""The Triage port on top of the local model's compact form (numpy only), swappable after
retraining."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bot.services.triage_port import TriageVerdict
from models import Priority
from triage.acknowledgement import is_acknowledgement
from triage.compact import CompactTriage


class ModelTriage:
    """Predicts in a worker thread, so a prediction never blocks the event loop."""

    def __init__(
        self,
        model: CompactTriage,
        version: str | None = None,
        *,
        observe: Callable[[float], None] = lambda seconds: None,
    ) -> None:
        self.model = model
        self.version = version
        self.observe = observe  # reports each prediction's duration (metrics)

    def swap(self, model: CompactTriage, version: str | None) -> None:
        """Start using a newly promoted model (one attribute assignment: atomic for asyncio)."""
        self.model, self.version = model, version

    async def classify(self, text: str) -> TriageVerdict:
        model = self.model
        started = time.perf_counter()
        result = await asyncio.to_thread(model.predict, text)
        self.observe(time.perf_counter() - started)
        return TriageVerdict(
            category=result.category,
            team=result.team,
            priority=Priority(result.priority),
            confidence=result.confidence,
            needs_human=result.needs_human,
        )

    async def acknowledges(self, text: str | None, *, sticker: bool = False) -> bool:
        """Stickers and the acknowledgement decision of :mod:`triage.acknowledgement`
        (the shipped detector, read once per process on first use, in a worker thread)."""
        if sticker:
            return True
        if not text:
            return False
        return await asyncio.to_thread(is_acknowledgement, text)
