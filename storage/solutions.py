"""Solutions: one row per resolved ticket, read by every worker's similar-tickets index.

Rows are only ever inserted or deleted, never updated: a ticket resolved again gets a new row
(with a new, higher id) in place of its old one, so "the rows after id N" is all a worker that
has read up to N needs; deletions and rows committed late (with a lower id) show up in the
count and sum of the ids (see ``bot.services.similar``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.solutions import Solution
from storage.orm import SolutionRecord


def _solution_from(record: SolutionRecord) -> Solution:
    return Solution(
        ticket_id=record.ticket_id,
        text=record.text,
        reply=record.reply,
        resolved_at=record.resolved_at,
        id=record.id,
    )


class SolutionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(self, solution: Solution) -> None:
        """Store a ticket's solution, replacing the one it had (a new row, a new id)."""
        await self.session.execute(
            delete(SolutionRecord).where(SolutionRecord.ticket_id == solution.ticket_id)
        )
        self.session.add(
            SolutionRecord(
                ticket_id=solution.ticket_id,
                text=solution.text,
                reply=solution.reply,
                resolved_at=solution.resolved_at,
            )
        )
        await self.session.flush()

    async def remove(self, ticket_id: int) -> None:
        await self.session.execute(
            delete(SolutionRecord).where(SolutionRecord.ticket_id == ticket_id)
        )

    async def clear(self) -> int:
        """Delete every row (before a rebuild); returns how many there were."""
        result = await self.session.execute(delete(SolutionRecord))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def for_ticket(self, ticket_id: int) -> Solution | None:
        record = await self.session.scalar(
            select(SolutionRecord).where(SolutionRecord.ticket_id == ticket_id)
        )
        return None if record is None else _solution_from(record)

    async def for_tickets(self, ticket_ids: Sequence[int]) -> dict[int, Solution]:
        if not ticket_ids:
            return {}
        records = await self.session.scalars(
            select(SolutionRecord).where(SolutionRecord.ticket_id.in_(list(ticket_ids)))
        )
        return {r.ticket_id: _solution_from(r) for r in records}

    async def after(self, last_id: int, limit: int) -> list[Solution]:
        """Up to ``limit`` rows with an id above ``last_id``, oldest first."""
        records = await self.session.scalars(
            select(SolutionRecord)
            .where(SolutionRecord.id > last_id)
            .order_by(SolutionRecord.id)
            .limit(limit)
        )
        return [_solution_from(r) for r in records]

    async def by_ids(self, ids: Sequence[int]) -> list[Solution]:
        if not ids:
            return []
        records = await self.session.scalars(
            select(SolutionRecord)
            .where(SolutionRecord.id.in_(list(ids)))
            .order_by(SolutionRecord.id)
        )
        return [_solution_from(r) for r in records]

    async def ids(self) -> list[int]:
        """Every row's id (a worker compares them with the ones it holds)."""
        return list(await self.session.scalars(select(SolutionRecord.id)))

    async def stats(self) -> tuple[int, int, int]:
        """How many rows there are, the sum of their ids and the highest id (0s when empty), in
        one statement: a worker compares them with the rows it holds."""
        row = (
            await self.session.execute(
                select(
                    func.count(SolutionRecord.id),
                    func.coalesce(func.sum(SolutionRecord.id), 0),
                    func.coalesce(func.max(SolutionRecord.id), 0),
                )
            )
        ).one()
        return int(row[0]), int(row[1]), int(row[2])
