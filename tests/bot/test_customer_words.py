"""Customers read customer words: their own status, their own language, and a stray command is
answered instead of landing in their ticket."""

from __future__ import annotations

from models import TicketStatus
from tests.support.desk import Desk, open_ticket


async def test_a_stray_command_is_answered_and_kept_out_of_the_ticket(desk: Desk) -> None:
    ann, ticket = await open_ticket(desk)
    thread = ticket.agent_thread_id
    desk.emulator.user_sends_text(
        desk.admin, "We will check", chat_id=desk.group_id, thread_id=thread
    )
    await desk.step()
    assert (await desk.ticket(ticket.number)).status is TicketStatus.WAITING
    desk.emulator.user_sends_text(ann, "/queue")
    await desk.step()
    assert desk.texts_to(ann)[-1] == (
        "I do not know this command. /help lists what you can do here."
    )
    assert (await desk.ticket(ticket.number)).status is TicketStatus.WAITING
    async with desk.uow_factory() as uow:
        texts = [m.text for m in await uow.messages.for_ticket(ticket.id)]
    assert "/queue" not in texts


async def test_my_tickets_says_whose_turn_it_is_in_customer_words(desk: Desk) -> None:
    ann, ticket = await open_ticket(desk)
    thread = ticket.agent_thread_id
    desk.emulator.user_sends_text(
        desk.admin, "We will check", chat_id=desk.group_id, thread_id=thread
    )
    desk.emulator.user_sends_text(ann, "/mytickets")
    await desk.step()
    listing = desk.texts_to(ann)[-1]
    assert "Waiting for your reply" in listing
    assert "Waiting for customer" not in listing


async def test_an_expired_button_is_explained_in_the_pressers_language(desk: Desk) -> None:
    olga = desk.emulator.add_user("Ольга", language_code="ru")
    desk.emulator.user_sends_text(olga, "/start")
    await desk.step()
    hello = desk.to_user(olga)[-1]
    query = desk.emulator.user_presses(
        olga, olga["id"], hello["message_id"], "old:button", check_button=False
    )
    await desk.step()
    answer = desk.emulator.callback_answer(query["id"])
    assert answer is not None
    assert answer["text"] == "Эта кнопка больше не работает."
