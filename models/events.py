"""The history of a ticket: who changed what, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.enums import ActorKind, EventKind


@dataclass(frozen=True)
class Actor:
    """Who did something: a customer, an agent (by internal id) or the system itself."""

    kind: ActorKind
    id: int | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM)

    @classmethod
    def agent(cls, agent_id: int | None) -> Actor:
        return cls(ActorKind.AGENT, agent_id)

    @classmethod
    def api(cls, api_key_id: int | None) -> Actor:
        return cls(ActorKind.API, api_key_id)

    @classmethod
    def customer(cls, customer_id: int | None) -> Actor:
        return cls(ActorKind.CUSTOMER, customer_id)


@dataclass(frozen=True)
class TicketEvent:
    kind: EventKind
    actor: Actor
    at: datetime
    old: str | None = None
    new: str | None = None
    ticket_id: int | None = None
    id: int | None = None
