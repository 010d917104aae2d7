"""What service tests on the fake unit of work share: a desk's ids, stored rows, a triage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.services.ports import TelegramUser
from bot.services.triage_port import TriageVerdict
from models import (
    Agent,
    CannedAnswer,
    Category,
    Customer,
    Priority,
    Role,
    Team,
    Ticket,
    TicketMessage,
)
from models.delivery import OutboundCall
from models.ticket import Rating
from models.training import LabelledExample
from tests.support.fake_uow import FakeDatabase

AGENTS_CHAT = -1001000000001
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

_REPOSITORY = {
    Customer: "customers",
    Agent: "agents",
    Team: "teams",
    Category: "categories",
    Ticket: "tickets",
    TicketMessage: "messages",
    Rating: "ratings",
    CannedAnswer: "canned",
    LabelledExample: "labels",
}


async def store(db: FakeDatabase, *objects: Any) -> None:
    """Commit ``objects`` (they get their ids); a ticket's events are stored with it."""
    async with db.uow() as uow:
        for obj in objects:
            await getattr(uow, _REPOSITORY[type(obj)]).add(obj)
        await uow.commit()


async def customer_and_ticket(
    db: FakeDatabase, subject: str = "My card is blocked", **fields: Any
) -> tuple[Customer, Ticket]:
    customer = Customer(telegram_id=501, first_name="Ann", language="en", created_at=T0)
    await store(db, customer)
    assert customer.id is not None
    ticket = Ticket.open(customer_id=customer.id, subject=subject, now=T0)
    for name, value in fields.items():
        setattr(ticket, name, value)
    await store(db, ticket)
    return customer, ticket


def sent(db: FakeDatabase) -> list[tuple[int, str]]:
    """(chat id, method) of every committed outbox call, in order."""
    return [(c.chat_id, c.method) for c in db.outbox]


class FakeTriage:
    """Gives every text the same ``verdict``; a thank-you is any text in ``thanks``."""

    def __init__(
        self, verdict: TriageVerdict | None = None, thanks: frozenset[str] = frozenset()
    ) -> None:
        self.verdict = verdict or TriageVerdict(None, None, Priority.NORMAL, None, True)
        self.thanks = thanks
        self.classified: list[str] = []

    async def classify(self, text: str) -> TriageVerdict:
        self.classified.append(text)
        return self.verdict

    async def acknowledges(self, text: str | None, *, sticker: bool = False) -> bool:
        return sticker or text in self.thanks


def answer(what: str, chat_id: int, **params: object) -> list[OutboundCall]:
    """What a fake replies port renders: one message naming the answer (``is``) and its facts."""
    return [OutboundCall(chat_id=chat_id, method="sendMessage", params={"is": what, **params})]


ADA = TelegramUser(id=30, first_name="Ada")  # an admin, once stored by store_staff
BOB = TelegramUser(id=12, first_name="Bob", username="bob")  # an agent


async def store_staff(db: FakeDatabase) -> None:
    """Ada the admin and Bob the agent."""
    await store(
        db,
        Agent(telegram_id=ADA.id, name="Ada", role=Role.ADMIN, created_at=T0),
        Agent(telegram_id=BOB.id, name="Bob", username="bob", created_at=T0),
    )
