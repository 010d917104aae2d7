"""Ratings given through a link in the "resolved" mail (:mod:`models.csat`), recorded as the
Telegram star buttons record them: one rating per resolved or closed ticket, shown on its card
and sent to the webhooks.

The link is checked before these run (its token names the ticket); what the page then says is
:class:`LinkRating`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.services.customers import queue
from bot.services.ports import Presenter
from models import Rating
from storage import AbstractUnitOfWork


class Outcome(StrEnum):
    ASK = "ask"  # not rated yet: the page offers the scores
    RECORDED = "recorded"  # this request recorded the rating
    ALREADY = "already"  # rated before (by a link or a button): nothing changes
    NOT_YET = "not_yet"  # the ticket is open again: rate it when it is resolved
    UNKNOWN = "unknown"  # the ticket is gone


@dataclass(frozen=True)
class LinkRating:
    outcome: Outcome
    number: int | None = None
    score: int | None = None  # the recorded one (RECORDED, ALREADY)
    language: str | None = None  # the customer's, for the page


async def look(uow: AbstractUnitOfWork, ticket_id: int) -> LinkRating:
    """What the link's page shows before anything is recorded."""
    ticket = await uow.tickets.get(ticket_id)
    if ticket is None:
        return LinkRating(Outcome.UNKNOWN)
    customer = await uow.customers.get(ticket.customer_id)
    language = customer.language if customer is not None else None
    rating = await uow.ratings.for_ticket(ticket_id)
    if rating is not None:
        return LinkRating(Outcome.ALREADY, ticket.number, rating.score, language)
    if ticket.is_active:
        return LinkRating(Outcome.NOT_YET, ticket.number, None, language)
    return LinkRating(Outcome.ASK, ticket.number, None, language)


async def rate_by_link(
    uow: AbstractUnitOfWork, presenter: Presenter, ticket_id: int, score: int, now: datetime
) -> LinkRating:
    """Record ``score`` for the ticket unless it has a rating (then it is shown, unchanged:
    a click repeated, or another score clicked later, records nothing)."""
    seen = await look(uow, ticket_id)
    if seen.outcome is not Outcome.ASK:
        return seen
    ticket = await uow.tickets.get(ticket_id)
    assert ticket is not None
    await uow.ratings.add(Rating(ticket_id=ticket_id, score=score, rated_at=now))
    await queue(uow, presenter.card_changed(ticket), now)
    await uow.commit()
    return LinkRating(Outcome.RECORDED, ticket.number, score, seen.language)
