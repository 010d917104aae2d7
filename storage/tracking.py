"""The base of the repositories: records loaded, domain objects handed out, changes written
back when the unit of work commits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    TicketStatus,
)
from storage import mappers
from storage.orm import (
    Base,
)

D = TypeVar("D")
DONE_STATUSES = [str(TicketStatus.RESOLVED), str(TicketStatus.CLOSED)]
R = TypeVar("R", bound=Base)


class TrackingRepository(Generic[D, R]):
    """Common bookkeeping: load records, hand out domain objects, write them back on sync."""

    record_cls: type[R]
    to_domain: Callable[[R], D]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._seen: dict[int, tuple[D, R]] = {}
        #: Objects added since the last :meth:`take_added` (the unit of work reads them at commit).
        self.added: list[D] = []

    def _track(self, record: R) -> D:
        obj = type(self).to_domain(record)
        self._seen[id(obj)] = (obj, record)
        return obj

    async def _one(self, stmt: Select[Any]) -> D | None:
        record = (await self.session.execute(stmt)).scalar_one_or_none()
        return None if record is None else self._track(record)

    async def _many(self, stmt: Select[Any]) -> list[D]:
        return [self._track(r) for r in (await self.session.execute(stmt)).scalars()]

    async def get(self, obj_id: int) -> D | None:
        record = await self.session.get(self.record_cls, obj_id)
        return None if record is None else self._track(record)

    async def add(self, obj: D) -> D:
        record = mappers.new_record(self.record_cls, obj)
        self.session.add(record)
        await self.session.flush()
        obj.id = record.id  # type: ignore[attr-defined]
        self._seen[id(obj)] = (obj, record)
        self.added.append(obj)
        return obj

    def take_added(self) -> list[D]:
        added, self.added = self.added, []
        return added

    async def sync(self) -> None:
        for obj, record in self._seen.values():
            mappers.update_record(record, obj)
