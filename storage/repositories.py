"""Repositories: explicit queries that return plain domain objects.

Objects handed out are remembered together with their records; the unit of work writes their
changes back (and stores the ticket events they recorded) on commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Agent,
    CannedAnswer,
    Category,
    Customer,
    Team,
)
from models.ticket import Rating
from models.training import LabelledExample
from storage import mappers
from storage.orm import (
    AgentRecord,
    AgentTeamRecord,
    CannedAnswerRecord,
    CategoryRecord,
    CustomerRecord,
    DeskSettingRecord,
    LabelledExampleRecord,
    RatingRecord,
    SlaNoticeRecord,
    TeamRecord,
    TicketRecord,
)
from storage.tracking import TrackingRepository


class CustomerRepository(TrackingRepository[Customer, CustomerRecord]):
    record_cls = CustomerRecord
    to_domain = staticmethod(mappers.customer_from)

    async def by_telegram_id(self, telegram_id: int) -> Customer | None:
        return await self._one(
            select(CustomerRecord).where(CustomerRecord.telegram_id == telegram_id)
        )

    async def by_email(self, address: str) -> Customer | None:
        return await self._one(
            select(CustomerRecord).where(CustomerRecord.email == address.strip().lower())
        )

    async def by_username(self, username: str) -> Customer | None:
        """Case-insensitive, as Telegram treats usernames (``@`` optional)."""
        name = username.lstrip("@").lower()
        return await self._one(
            select(CustomerRecord)
            .where(func.lower(CustomerRecord.username) == name)
            .order_by(CustomerRecord.id.desc())
            .limit(1)
        )

    async def linked_to(self, customer_id: int) -> list[Customer]:
        """The email customers linked to a Telegram customer (``/link``), oldest first."""
        return await self._many(
            select(CustomerRecord)
            .where(CustomerRecord.linked_to_id == customer_id)
            .order_by(CustomerRecord.id)
        )

    async def by_ids(self, ids: Sequence[int]) -> dict[int, Customer]:
        if not ids:
            return {}
        found = await self._many(select(CustomerRecord).where(CustomerRecord.id.in_(set(ids))))
        return {c.id: c for c in found if c.id is not None}


class TeamRepository(TrackingRepository[Team, TeamRecord]):
    record_cls = TeamRecord
    to_domain = staticmethod(mappers.team_from)

    async def by_name(self, name: str) -> Team | None:
        return await self._one(
            select(TeamRecord).where(func.lower(TeamRecord.name) == name.strip().lower())
        )

    async def list(self) -> list[Team]:
        return await self._many(select(TeamRecord).order_by(TeamRecord.name))

    async def group_of(self, team_id: int) -> int | None:
        """The chat id of the team's own agents' group (None: it has none)."""
        result = await self.session.execute(
            select(TeamRecord.group_chat_id).where(TeamRecord.id == team_id)
        )
        return result.scalar_one_or_none()

    async def is_group(self, chat_id: int) -> bool:
        """Whether ``chat_id`` is some team's agents' group."""
        result = await self.session.execute(
            select(TeamRecord.id).where(TeamRecord.group_chat_id == chat_id).limit(1)
        )
        return result.first() is not None

    async def remove(self, team: Team) -> None:
        """Delete a team; its tickets and categories keep no team, members leave it."""
        self._seen.pop(id(team), None)
        await self.session.execute(
            delete(AgentTeamRecord).where(AgentTeamRecord.team_id == team.id)
        )
        for record_cls in (TicketRecord, CategoryRecord):
            await self.session.execute(
                update(record_cls).where(record_cls.team_id == team.id).values(team_id=None)
            )
        await self.session.execute(delete(TeamRecord).where(TeamRecord.id == team.id))


class CategoryRepository(TrackingRepository[Category, CategoryRecord]):
    record_cls = CategoryRecord
    to_domain = staticmethod(mappers.category_from)

    async def by_key(self, key: str) -> Category | None:
        return await self._one(
            select(CategoryRecord).where(CategoryRecord.key == key.strip().lower())
        )

    async def list(self) -> list[Category]:
        return await self._many(select(CategoryRecord).order_by(CategoryRecord.key))

    async def remove(self, category: Category) -> None:
        """Delete a category; tickets keep its key as their category."""
        self._seen.pop(id(category), None)
        await self.session.execute(delete(CategoryRecord).where(CategoryRecord.id == category.id))


class AgentRepository(TrackingRepository[Agent, AgentRecord]):
    record_cls = AgentRecord
    to_domain = staticmethod(mappers.agent_from)

    async def _with_teams(self, agents: list[Agent]) -> list[Agent]:
        ids = [a.id for a in agents if a.id is not None]
        if not ids:
            return agents
        rows = await self.session.execute(
            select(AgentTeamRecord.agent_id, AgentTeamRecord.team_id).where(
                AgentTeamRecord.agent_id.in_(ids)
            )
        )
        by_agent: dict[int, list[int]] = {}
        for agent_id, team_id in rows:
            by_agent.setdefault(agent_id, []).append(team_id)
        for agent in agents:
            agent.team_ids = sorted(by_agent.get(agent.id or 0, []))
        return agents

    async def get(self, obj_id: int) -> Agent | None:
        agent = await super().get(obj_id)
        return None if agent is None else (await self._with_teams([agent]))[0]

    async def by_telegram_id(self, telegram_id: int) -> Agent | None:
        agent = await self._one(select(AgentRecord).where(AgentRecord.telegram_id == telegram_id))
        return None if agent is None else (await self._with_teams([agent]))[0]

    async def by_username(self, username: str) -> Agent | None:
        name = username.strip().lstrip("@").lower()
        agent = await self._one(
            select(AgentRecord).where(func.lower(AgentRecord.username) == name)
        )
        return None if agent is None else (await self._with_teams([agent]))[0]

    async def list(self, *, active_only: bool = True) -> list[Agent]:
        stmt = select(AgentRecord).order_by(AgentRecord.id)
        if active_only:
            stmt = stmt.where(AgentRecord.active.is_(True))
        return await self._with_teams(await self._many(stmt))

    async def sync(self) -> None:
        await super().sync()
        if not self._seen:
            return
        teams = set((await self.session.execute(select(TeamRecord.id))).scalars())
        for agent, record in self._seen.values():
            current = set(
                (
                    await self.session.execute(
                        select(AgentTeamRecord.team_id).where(
                            AgentTeamRecord.agent_id == record.id
                        )
                    )
                ).scalars()
            )
            wanted = set(agent.team_ids) & teams  # a team removed meanwhile is left out
            if current == wanted:
                continue
            await self.session.execute(
                delete(AgentTeamRecord).where(AgentTeamRecord.agent_id == record.id)
            )
            self.session.add_all(
                AgentTeamRecord(agent_id=record.id, team_id=t) for t in sorted(wanted)
            )


class LabelRepository(TrackingRepository[LabelledExample, LabelledExampleRecord]):
    record_cls = LabelledExampleRecord
    to_domain = staticmethod(mappers.example_from)

    async def all(self) -> list[LabelledExample]:
        """Every label, the newest per ticket only (a later correction overrides an earlier)."""
        rows = await self._many(select(LabelledExampleRecord).order_by(LabelledExampleRecord.id))
        latest: dict[object, LabelledExample] = {}
        for example in rows:
            latest[example.ticket_id if example.ticket_id is not None else ("row", example.id)] = (
                example
            )
        return list(latest.values())

    async def count(self) -> int:
        return int(
            (
                await self.session.execute(select(func.count()).select_from(LabelledExampleRecord))
            ).scalar_one()
        )


_SETTINGS: Table = DeskSettingRecord.__table__  # type: ignore[assignment]
_ALL_SETTINGS = select(_SETTINGS.c.key, _SETTINGS.c.value)


class DeskSettings:
    """Key-value settings stored in the database.

    The table holds a handful of rows and one update reads several of them: the first read in
    a unit of work loads them all, later reads and writes in it use that copy.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._values: dict[str, str] | None = None

    async def _all(self) -> dict[str, str]:
        if self._values is None:
            rows = await self.session.execute(_ALL_SETTINGS)
            self._values = {row.key: row.value for row in rows}
        return self._values

    async def get(self, key: str) -> str | None:
        return (await self._all()).get(key)

    async def delete(self, key: str) -> None:
        await self.session.execute(delete(DeskSettingRecord).where(DeskSettingRecord.key == key))
        (await self._all()).pop(key, None)

    async def set(self, key: str, value: str) -> None:
        record = await self.session.get(DeskSettingRecord, key)
        if record is None:
            self.session.add(DeskSettingRecord(key=key, value=value))
        else:
            record.value = value
        (await self._all())[key] = value


class CannedRepository(TrackingRepository[CannedAnswer, CannedAnswerRecord]):
    record_cls = CannedAnswerRecord
    to_domain = staticmethod(mappers.canned_from)

    async def versions(self, key: str) -> list[CannedAnswer]:
        """Every language version of one answer."""
        return await self._many(
            select(CannedAnswerRecord)
            .where(CannedAnswerRecord.key == key)
            .order_by(CannedAnswerRecord.language)
        )

    async def list(self) -> list[CannedAnswer]:
        return await self._many(
            select(CannedAnswerRecord).order_by(
                CannedAnswerRecord.key, CannedAnswerRecord.language
            )
        )

    async def remove(self, key: str, language: str | None = None) -> int:
        """Delete an answer (one language, or all of them); returns how many rows went."""
        stmt = delete(CannedAnswerRecord).where(CannedAnswerRecord.key == key)
        if language is not None:
            stmt = stmt.where(CannedAnswerRecord.language == language)
        result = await self.session.execute(stmt)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class SlaNoticeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self, ticket_id: int, kind: str, level: str, clock_start: datetime, now: datetime
    ) -> bool:
        """Remember a notice; False if it was given before (so it is never given twice)."""
        existing = await self.session.scalar(
            select(SlaNoticeRecord.id).where(
                SlaNoticeRecord.ticket_id == ticket_id,
                SlaNoticeRecord.kind == kind,
                SlaNoticeRecord.level == level,
                SlaNoticeRecord.clock_start == clock_start,
            )
        )
        if existing is not None:
            return False
        self.session.add(
            SlaNoticeRecord(
                ticket_id=ticket_id, kind=kind, level=level, clock_start=clock_start, at=now
            )
        )
        return True


class RatingRepository(TrackingRepository[Rating, RatingRecord]):
    record_cls = RatingRecord
    to_domain = staticmethod(mappers.rating_from)

    async def for_ticket(self, ticket_id: int) -> Rating | None:
        return await self._one(select(RatingRecord).where(RatingRecord.ticket_id == ticket_id))

    async def for_tickets(self, ticket_ids: Sequence[int]) -> dict[int, Rating]:
        if not ticket_ids:
            return {}
        found = await self._many(
            select(RatingRecord).where(RatingRecord.ticket_id.in_(list(ticket_ids)))
        )
        return {r.ticket_id: r for r in found}

    async def by_prompt(self, prompt_message_id: int) -> Rating | None:
        return await self._one(
            select(RatingRecord).where(RatingRecord.prompt_message_id == prompt_message_id)
        )
