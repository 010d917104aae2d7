"""Labelled examples: what agents' corrections teach the classifier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: Category key of a ticket an agent marked "Other / not a category": none of the desk's
#: categories fits it (a greeting, a thank-you, spam, a question for another company). Its
#: label teaches the classifier what is out of scope.
OUT_OF_SCOPE = "oos"


@dataclass
class LabelledExample:
    """A ticket's text with the category (and team, priority) a person said is right."""

    text: str
    category: str
    created_at: datetime
    team: str | None = None
    priority: str | None = None
    ticket_id: int | None = None
    agent_id: int | None = None
    source: str = "correction"
    id: int | None = None

    @property
    def held_out(self) -> bool:
        """One example in five (by ticket) is kept for evaluation, never for training, so a
        candidate and the current model are compared on data neither was trained on."""
        return (self.ticket_id or self.id or 0) % 5 == 0
