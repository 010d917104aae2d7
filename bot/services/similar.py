"""Similar solved tickets: when a ticket opens (and on the card's button), the agents see how
the most similar resolved tickets were answered, and can use that answer as a draft.

Every worker keeps its own in-memory :class:`~triage.similar.SimilarIndex` of the ``solutions``
table and brings it up to date before each lookup: it reads the rows after the last id it has
seen (ids are never reused, and a re-resolved ticket gets a new row). Once a minute it also
checks the table's row count, sum of ids and highest id in one statement: a count or sum that
differs from the rows the worker holds means rows went away (a rebuild by ``helpdesk triage
reindex``, a deleted ticket) or a row committed late with a lower id (PostgreSQL hands out ids
before commit); the worker then compares row ids and fixes just those entries. Nothing is ever
refitted, so a resolution costs one row here and one vectorisation in each worker.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from bot.services.customers import queue
from bot.services.ports import Presenter
from models import MessageDirection, Ticket, TicketNotFound, TicketStatus
from models.solutions import SimilarSolved, Solution, solution_of, ticket_text
from storage import AbstractUnitOfWork
from triage.similar import Neighbour, SimilarIndex, similarity_vectors

#: At most this many similar tickets are shown.
SHOWN = 3
#: A new ticket's topic gets the list (one message) only when its best match is at least this
#: similar (cosine): on Banking77, 96 % of new tickets reach it and 14 % of out-of-domain
#: messages do (bench/triage.py, similar_tickets). The group's 20 messages a minute are shared.
OPEN_FLOOR = 0.5
#: Matches listed (once the best reaches OPEN_FLOOR, or when an agent asks) reach at least this.
ASK_FLOOR = 0.3
#: Rows read (and vectorised) per step while a worker fills its index.
PAGE = 2000


class SimilarTickets:
    """This worker's index of solved tickets, kept in step with the ``solutions`` table.

    One lookup or refresh at a time (an :class:`asyncio.Lock`); vectorising and searching run
    in a worker thread, so the event loop keeps serving other updates.
    """

    def __init__(self, index: SimilarIndex | None = None, *, check_every: float = 60.0) -> None:
        self.index = index or SimilarIndex()
        #: How often (seconds) the table's count and id sum are compared with what is held: a
        #: full scan (~9 ms at 100,000 rows on SQLite), for what is rare (a rebuild, a deleted
        #: ticket, a late commit); new rows are read by id at every lookup.
        self.check_every = check_every
        #: Ticket id -> the id of the solutions row its entry came from.
        self.rows: dict[int, int] = {}
        #: The highest row id read.
        self.watermark = 0
        self._row_sum = 0
        self._checked_at: float | None = None
        self._lock = asyncio.Lock()

    async def refresh(self, uow: AbstractUnitOfWork) -> int:
        """Read what changed in the table since the last refresh; returns the rows read."""
        async with self._lock:
            return await self._refresh(uow)

    async def lookup(
        self, uow: AbstractUnitOfWork, text: str, *, exclude: int, floor: float, k: int
    ) -> list[Neighbour]:
        """The ``k`` solved tickets most similar to ``text`` (above ``floor``), best first."""
        async with self._lock:
            await self._refresh(uow)
            return await asyncio.to_thread(
                self.index.search, text, k, exclude=(exclude,), min_score=floor
            )

    async def _refresh(self, uow: AbstractUnitOfWork) -> int:
        read = await self._read_new(uow)
        now = time.monotonic()
        if self._checked_at is not None and now - self._checked_at < self.check_every:
            return read
        for _ in range(3):  # rows committed while we read: read again, a few times at most
            count, total, highest = await uow.solutions.stats()
            if highest > self.watermark:
                read += await self._read_new(uow)
                continue
            if count != len(self.rows) or total != self._row_sum:
                read += await self._reconcile(uow)
            break
        self._checked_at = now
        return read

    async def _read_new(self, uow: AbstractUnitOfWork) -> int:
        read = 0
        while rows := await uow.solutions.after(self.watermark, PAGE):
            await self._add(rows)
            read += len(rows)
        return read

    async def _add(self, rows: list[Solution]) -> None:
        vectors = await asyncio.to_thread(similarity_vectors, [r.text for r in rows])
        keys = [r.ticket_id for r in rows]
        await asyncio.to_thread(self.index.add_vectors, keys, vectors)  # may merge: ~0.2 s
        for row in rows:
            assert row.id is not None
            self._row_sum += row.id - self.rows.get(row.ticket_id, 0)
            self.rows[row.ticket_id] = row.id
            self.watermark = max(self.watermark, row.id)

    async def _reconcile(self, uow: AbstractUnitOfWork) -> int:
        """Drop entries whose rows are gone; read rows we never saw (ids below the watermark)."""
        stored = set(await uow.solutions.ids())
        held = {row: ticket for ticket, row in self.rows.items()}
        gone = [held[row] for row in held.keys() - stored]
        self.index.remove(gone)
        for ticket_id in gone:
            self._row_sum -= self.rows.pop(ticket_id)
        missing = sorted(stored - held.keys())
        for start in range(0, len(missing), PAGE):
            await self._add(await uow.solutions.by_ids(missing[start : start + PAGE]))
        return len(missing)


# -- writing solutions -------------------------------------------------------------------------


async def record_solution(uow: AbstractUnitOfWork, ticket: Ticket) -> bool:
    """After a status change: a ticket that was just resolved (or closed from an active status)
    leaves its solution; returns whether one was written.

    Resolved -> closed keeps the row (same resolution time); resolved again after a reopening
    replaces it. A ticket without a text reply keeps whatever an earlier resolution left.
    """
    if ticket.id is None or ticket.is_active or ticket.merged_into_id is not None:
        return False
    existing = await uow.solutions.for_ticket(ticket.id)
    if existing is not None and existing.resolved_at == ticket.resolved_at:
        return False
    solution = solution_of(ticket, await uow.messages.for_ticket(ticket.id))
    if solution is None:
        return False
    await uow.solutions.put(solution)
    return True


async def rebuild_solutions(uow: AbstractUnitOfWork, *, batch: int = 500) -> int:
    """``helpdesk triage reindex``: write the table again from every resolved and closed
    ticket in the history; returns how many solutions it holds. One transaction: workers see
    the old rows or the new ones, never half of them."""
    await uow.solutions.clear()
    written, after = 0, 0
    while tickets := await uow.tickets.with_status(
        TicketStatus.RESOLVED, TicketStatus.CLOSED, after=after, limit=batch
    ):
        for ticket in tickets:
            assert ticket.id is not None
            solution = solution_of(ticket, await uow.messages.for_ticket(ticket.id))
            if solution is not None:
                await uow.solutions.put(solution)
                written += 1
        after = tickets[-1].id or after
    await uow.commit()
    return written


# -- showing them ------------------------------------------------------------------------------


async def query_text(uow: AbstractUnitOfWork, ticket: Ticket) -> str:
    """What the ticket is about so far, built like a solution's text."""
    assert ticket.id is not None
    messages = await uow.messages.for_ticket(ticket.id)
    customer = [m.text for m in messages if m.direction is MessageDirection.CUSTOMER]
    return ticket_text(ticket.subject, customer)


async def similar_solved(
    uow: AbstractUnitOfWork,
    similar: SimilarTickets,
    ticket: Ticket,
    floor: float,
    text: str | None = None,
) -> list[SimilarSolved]:
    """Up to :data:`SHOWN` resolved tickets like ``ticket`` (tickets reopened since, or merged,
    are skipped: their reply did not settle them)."""
    assert ticket.id is not None
    query = text if text is not None else await query_text(uow, ticket)
    if not query.strip():
        return []
    hits = await similar.lookup(uow, query, exclude=ticket.id, floor=floor, k=2 * SHOWN)
    solutions = await uow.solutions.for_tickets([h.key for h in hits])
    found = []
    for hit in hits:
        solved = await uow.tickets.get(hit.key)
        solution = solutions.get(hit.key)
        if solved is None or solution is None or solved.is_active or solved.merged_into_id:
            continue
        found.append(SimilarSolved(solved, solution, hit.score))
        if len(found) == SHOWN:
            break
    return found


async def offer_on_open(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    similar: SimilarTickets,
    ticket: Ticket,
    text: str,
    now: datetime,
) -> int:
    """A new ticket's topic gets one message with its similar solved tickets, when at least
    one is similar enough (:data:`OPEN_FLOOR`; the others shown down to :data:`ASK_FLOOR`);
    returns how many were shown."""
    found = await similar_solved(uow, similar, ticket, ASK_FLOOR, text)
    if found and found[0].score >= OPEN_FLOOR:
        await queue(uow, presenter.similar_solved(ticket, found, now, asked=False), now)
        await uow.commit()
        return len(found)
    return 0


async def show_similar(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    similar: SimilarTickets,
    ticket_id: int,
    now: datetime,
) -> int:
    """The card's "Similar" button: the list in the topic (or that there is none)."""
    ticket = await uow.tickets.get(ticket_id)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    found = await similar_solved(uow, similar, ticket, ASK_FLOOR)
    await queue(uow, presenter.similar_solved(ticket, found, now, asked=True), now)
    await uow.commit()
    return len(found)
