"""A similar solved ticket's reply, used for this ticket: as a draft in the topic, or sent as is.

Telegram gives a bot no way to fill an agent's input field with a long text (see README,
"Similar solved tickets"), so a draft is a message in the ticket's topic: the reply in a block
that Telegram copies with one tap, and a "Send as is" button.
"""

from __future__ import annotations

from datetime import datetime

from bot.services.agent_messages import desk_reply
from bot.services.customers import queue
from bot.services.ports import Presenter
from bot.services.ticket_changes import load_ticket
from models import Agent, Customer, InvalidInput, Ticket, TicketMessage
from models.delivery import OutboundCall
from models.solutions import Solution
from storage import AbstractUnitOfWork


async def draft_from(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    ticket_id: int,
    source_id: int,
    now: datetime,
) -> None:
    """One tap on a listed ticket: its reply is posted in the topic as a draft, with a button
    to send it as is (or the agent copies, edits and sends their own version)."""
    ticket = await _changeable(uow, ticket_id)
    source, solution = await _solution(uow, source_id)
    await queue(uow, presenter.solution_draft(ticket, source, solution, agent), now)
    await uow.commit()


async def send_solution(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    agent: Agent,
    ticket_id: int,
    source_id: int,
    now: datetime,
) -> TicketMessage | None:
    """ "Send as is" under a draft: the solved ticket's reply goes to this ticket's customer as
    the agent's reply (None when the collision rule kept it back). A second tap on the same
    draft sends nothing: the ticket's last reply is that text already."""
    ticket = await _changeable(uow, ticket_id)
    source, solution = await _solution(uow, source_id)
    last = await uow.messages.last_agent_reply(ticket_id)
    if last is not None and (last.text or "").strip() == solution.reply:
        raise InvalidInput("reply", f"#{source.number}", "this reply was sent already")

    def render(customer: Customer, message: TicketMessage) -> list[OutboundCall]:
        return presenter.solution_to_customer(ticket, customer, message, agent, source)

    return await desk_reply(uow, presenter, agent, ticket, solution.reply, now, render=render)


async def _changeable(uow: AbstractUnitOfWork, ticket_id: int) -> Ticket:
    ticket = await load_ticket(uow, ticket_id)
    ticket.ensure_changeable()
    return ticket


async def _solution(uow: AbstractUnitOfWork, source_id: int) -> tuple[Ticket, Solution]:
    source = await uow.tickets.get(source_id)
    solution = await uow.solutions.for_ticket(source_id)
    if source is None or solution is None:
        raise InvalidInput("ticket", source_id, "its solution is no longer stored")
    return source, solution
