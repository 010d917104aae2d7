"""Changes agents make to a ticket: status, assignee, priority, team, category, out of scope;
each refreshes the card, and a person's correction becomes a training label."""

from __future__ import annotations

from datetime import datetime

from bot.services import assignment, desk_settings, groups, similar, surge
from bot.services.customers import queue, writing_to
from bot.services.ports import Presenter
from bot.services.training import record_correction
from models import (
    Agent,
    Category,
    Customer,
    Priority,
    Team,
    Ticket,
    TicketNotFound,
    TicketStatus,
)
from models.training import OUT_OF_SCOPE
from storage import AbstractUnitOfWork


async def load_ticket(uow: AbstractUnitOfWork, ticket_id: int) -> Ticket:
    ticket = await uow.tickets.get(ticket_id)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    return ticket


async def change_status(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    ticket: Ticket,
    status: TicketStatus,
    now: datetime,
) -> bool:
    """Set a ticket's status; the customer hears about resolution, closing and reopening."""
    actor = agent.actor
    if status is TicketStatus.OPEN and not ticket.is_active:
        changed = ticket.reopen(actor, now)
    else:
        changed = ticket.change_status(status, actor, now)
    if not changed:
        return False
    customer = await writing_to(uow, ticket)
    await status_follows(uow, presenter, ticket, customer, now, by_customer=False)
    await uow.commit()
    return True


async def status_follows(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    ticket: Ticket,
    customer: Customer,
    now: datetime,
    *,
    by_customer: bool,
) -> None:
    """After a status change: tell the customer (and the topic) what it means, edit the card.
    The caller commits (an incident resolves all its tickets in one transaction)."""
    window = await desk_settings.get(uow, "reopen_window", None)
    calls = []
    if ticket.is_active and surge.topicless(ticket):  # reopened after its incident was over
        calls += await surge.follow_up(uow, presenter, ticket, now)
    calls += presenter.status_changed(
        ticket, customer, by_customer=by_customer, reopen_window=window
    )
    await queue(uow, calls + presenter.card_changed(ticket), now)
    await similar.record_solution(uow, ticket)  # resolved: its reply may help the next one


async def assign(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    actor: Agent,
    ticket: Ticket,
    assignee: Agent | None,
    now: datetime,
) -> bool:
    """``/assign``: the new assignee hears about it unless they assigned themselves."""
    changed = ticket.assign(assignee.id if assignee else None, actor.actor, now)
    if changed and assignee is not None and assignee.id != actor.id:
        await queue(uow, presenter.assigned_to_you(ticket, assignee, actor), now)
    return await _card_follows(uow, presenter, ticket, changed, now)


async def set_priority(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    ticket: Ticket,
    priority: Priority,
    now: datetime,
) -> bool:
    changed = ticket.set_priority(priority, agent.actor, now)
    return await _card_follows(uow, presenter, ticket, changed, now, corrected_by=agent)


async def set_team(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    ticket: Ticket,
    team: Team | None,
    now: datetime,
) -> bool:
    changed = ticket.set_team(team.id if team else None, agent.actor, now)
    if changed:
        await groups.follow_team(uow, presenter, ticket, now)
        await assignment.auto_assign(uow, presenter, ticket, now)
    return await _card_follows(uow, presenter, ticket, changed, now, corrected_by=agent)


async def set_category(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    ticket: Ticket,
    category: Category,
    now: datetime,
) -> bool:
    unsure = ticket.needs_human
    changed = ticket.set_category(category.key, agent.actor, now)
    if changed:
        await queue(uow, presenter.topic_renamed(ticket), now)
        await _settle_not_sure(uow, presenter, ticket, agent, unsure, now)
    if changed and category.team_id is not None:
        # The team follows the category; an agent can still move the ticket afterwards.
        if ticket.set_team(category.team_id, agent.actor, now):
            await groups.follow_team(uow, presenter, ticket, now)
        await assignment.auto_assign(uow, presenter, ticket, now)
    return await _card_follows(uow, presenter, ticket, changed, now, corrected_by=agent)


async def mark_out_of_scope(
    uow: AbstractUnitOfWork, presenter: Presenter, agent: Agent, ticket: Ticket, now: datetime
) -> bool:
    """ "Other / not a category": no category fits the ticket. Stored like any category
    correction, its label is an out-of-scope example for the next retraining; the team stays."""
    unsure = ticket.needs_human
    changed = ticket.set_category(OUT_OF_SCOPE, agent.actor, now)
    if changed:
        await _settle_not_sure(uow, presenter, ticket, agent, unsure, now)
    return await _card_follows(uow, presenter, ticket, changed, now, corrected_by=agent)


async def _settle_not_sure(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    ticket: Ticket,
    agent: Agent,
    unsure: bool,
    now: datetime,
) -> None:
    """A person chose the category of a ticket the classifier was unsure about: its post in
    the triage queue says so (it no longer asks for help)."""
    if unsure:
        await queue(uow, presenter.not_sure_settled(ticket, agent), now)


async def _card_follows(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    ticket: Ticket,
    changed: bool,
    now: datetime,
    *,
    corrected_by: Agent | None = None,
) -> bool:
    """After a change only agents care about: refresh the card and commit.

    A person's change of category, team or priority is a correction of the classifier: it is
    stored as a labelled example for the next retraining.
    """
    if changed:
        if corrected_by is not None:
            await record_correction(uow, ticket, corrected_by, now)
        await queue(uow, presenter.card_changed(ticket), now)
        await uow.commit()
    return changed
