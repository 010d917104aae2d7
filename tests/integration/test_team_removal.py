"""Removing a team on both databases: its categories, tickets and members keep working."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bot.services import teams
from bot.services.ports import TelegramUser
from models import Agent, Category, Customer, Role, Team, Ticket
from storage import AbstractUnitOfWork

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADA = TelegramUser(id=30, first_name="Ada")


async def test_a_team_routed_to_by_a_category_is_removed(
    uow_factory: Callable[[], AbstractUnitOfWork],
) -> None:
    """The command reads the categories (to name those that lose their team) before removing
    the team: written back at commit, they must not point at the deleted team."""
    async with uow_factory() as uow:
        team = await uow.teams.add(Team(name="Cards"))
        await uow.agents.add(
            Agent(
                telegram_id=ADA.id, name="Ada", role=Role.ADMIN, team_ids=[team.id], created_at=T0
            )
        )
        await uow.categories.add(Category(key="cards", title="Cards", team_id=team.id))
        customer = await uow.customers.add(Customer(telegram_id=1, first_name="A", created_at=T0))
        ticket = await uow.tickets.add(
            Ticket.open(customer_id=customer.id, subject="x", now=T0, team_id=team.id)
        )
        await uow.commit()
    async with uow_factory() as uow:
        in_use, views = await teams.remove_team(uow, ADA, "Cards")
    assert (in_use, views) == (["cards"], [])
    async with uow_factory() as uow:
        assert await uow.teams.list() == []
        assert [c.team_id for c in await uow.categories.list()] == [None]
        assert (await uow.tickets.get(ticket.id)).team_id is None
        assert (await uow.agents.by_telegram_id(ADA.id)).team_ids == []
