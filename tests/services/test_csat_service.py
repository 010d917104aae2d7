"""Ratings by a link in the "resolved" mail (bot.services.csat): one per resolved ticket."""

from __future__ import annotations

from bot.adapters.presenter import Presenter
from bot.services import csat
from bot.services.csat import LinkRating, Outcome
from models import TicketStatus
from models.ticket import Rating
from tests.support.fake_uow import FakeDatabase
from tests.support.services import AGENTS_CHAT, T0, customer_and_ticket, sent, store

RESOLVED = {"status": TicketStatus.RESOLVED, "resolved_at": T0, "card_message_id": 9}


async def rate(db: FakeDatabase, presenter: Presenter, ticket_id: int, score: int) -> LinkRating:
    async with db.uow() as uow:
        return await csat.rate_by_link(uow, presenter, ticket_id, score, T0)


async def test_a_resolved_ticket_is_rated_once(db: FakeDatabase, presenter: Presenter) -> None:
    _, ticket = await customer_and_ticket(db, **RESOLVED)
    async with db.uow() as uow:
        assert await csat.look(uow, ticket.id) == LinkRating(Outcome.ASK, 1, None, "en")
    assert await rate(db, presenter, ticket.id, 4) == LinkRating(Outcome.RECORDED, 1, 4, "en")
    (rating,) = db.rows("ratings")
    assert (rating.ticket_id, rating.score, rating.rated_at) == (ticket.id, 4, T0)
    assert sent(db) == [(AGENTS_CHAT, "editMessageText")]  # the card shows it
    # Another click, even with another score, records nothing.
    assert await rate(db, presenter, ticket.id, 1) == LinkRating(Outcome.ALREADY, 1, 4, "en")
    assert [r.score for r in db.rows("ratings")] == [4]
    assert len(db.outbox) == 1


async def test_a_rating_given_by_the_buttons_counts(
    db: FakeDatabase, presenter: Presenter
) -> None:
    _, ticket = await customer_and_ticket(db, **RESOLVED)
    await store(db, Rating(ticket_id=ticket.id, score=5, rated_at=T0))
    assert await rate(db, presenter, ticket.id, 2) == LinkRating(Outcome.ALREADY, 1, 5, "en")
    assert db.outbox == []


async def test_an_open_ticket_is_not_rated_yet(db: FakeDatabase, presenter: Presenter) -> None:
    _, ticket = await customer_and_ticket(db, status=TicketStatus.OPEN)
    assert await rate(db, presenter, ticket.id, 5) == LinkRating(Outcome.NOT_YET, 1, None, "en")
    assert db.rows("ratings") == []
    assert db.outbox == []


async def test_a_ticket_that_is_gone(db: FakeDatabase, presenter: Presenter) -> None:
    assert await rate(db, presenter, 404, 5) == LinkRating(Outcome.UNKNOWN)
    assert db.rows("ratings") == []
