"""Closed and merged tickets mean what they say, through the real dispatcher: old buttons change
nothing and are answered, a merged ticket is final, hostile payloads are answered and refused,
and only an agent's own message in a topic reaches the customer."""

from __future__ import annotations

from typing import Any

from models import Priority, TicketStatus
from tests.support.desk import Desk, button_data, card_of, open_ticket, press


async def admin_says(desk: Desk, text: str, thread: int | None) -> str:
    desk.emulator.user_sends_text(desk.admin, text, chat_id=desk.group_id, thread_id=thread)
    await desk.step()
    return str(desk.emulator.messages_in(desk.group_id, thread, from_bot=True)[-1]["text"])


async def presses(desk: Desk, message: dict[str, Any], data: str) -> dict[str, Any] | None:
    """The admin presses a button with ``data`` (shown or not: a stale card, a forged payload)
    on ``message``; returns the answer the bot gave."""
    query = desk.emulator.user_presses(
        desk.admin, message["chat"]["id"], message["message_id"], data, check_button=False
    )
    await desk.step()
    return desk.emulator.callback_answer(query["id"])


class TestClosedTicketsOldButtons:
    async def test_every_old_button_is_answered_closed_and_changes_nothing(
        self, desk: Desk
    ) -> None:
        _ann, ticket = await open_ticket(desk, "Ann")
        card = card_of(desk, ticket)  # the card as it was while the ticket was open
        claim = button_data(card, "Claim")
        priority_menu = button_data(card, "Priority")
        await press(desk, desk.admin, card, "Priority")
        urgent = button_data(card_of(desk, ticket), "Urgent")
        await admin_says(desk, "/close", ticket.agent_thread_id)
        before = await desk.ticket(ticket.number)
        assert before.status is TicketStatus.CLOSED
        edits_before = len(desk.emulator.calls_of("editMessageReplyMarkup"))

        for data in (claim, priority_menu, urgent):
            answer = await presses(desk, card, data)
            assert answer is not None
            assert "This ticket is closed" in answer["text"]

        after = await desk.ticket(ticket.number)
        assert (after.assignee_id, after.priority, after.status) == (
            None,
            Priority.NORMAL,
            TicketStatus.CLOSED,
        )
        assert len(desk.emulator.calls_of("editMessageReplyMarkup")) == edits_before

    async def test_reopen_still_works_on_a_closed_ticket(self, desk: Desk) -> None:
        _ann, ticket = await open_ticket(desk, "Ann")
        await admin_says(desk, "/close", ticket.agent_thread_id)
        await press(desk, desk.admin, card_of(desk, ticket), "Reopen")
        assert (await desk.ticket(ticket.number)).status is TicketStatus.OPEN

    async def test_commands_that_change_a_closed_ticket_are_refused(self, desk: Desk) -> None:
        _ann, ticket = await open_ticket(desk, "Ann")
        await admin_says(desk, "/close", ticket.agent_thread_id)
        text = await admin_says(desk, "/priority urgent", ticket.agent_thread_id)
        assert "This ticket is closed" in text
        assert (await desk.ticket(ticket.number)).priority is Priority.NORMAL


class TestMergedTicketsAreFinal:
    async def merged(self, desk: Desk) -> tuple[dict[str, Any], Any, Any]:
        ann, first = await open_ticket(desk, "Ann", "first problem")
        await admin_says(desk, "/close", first.agent_thread_id)
        desk.emulator.user_sends_text(ann, "second problem")
        await desk.step()
        second = await desk.ticket(2)
        card = card_of(desk, second)  # taken before the merge: its buttons stay in Telegram
        await admin_says(desk, "/merge 1", second.agent_thread_id)
        return ann, await desk.ticket(2), card

    async def test_buttons_and_forged_reopens_answer_where_it_went(self, desk: Desk) -> None:
        ann, merged, old_card = await self.merged(desk)
        assert merged.merged_into_id is not None
        reopen = f"t1:st:{merged.id}:open"
        for data in (reopen, button_data(old_card, "Claim")):
            answer = await presses(desk, old_card, data)
            assert answer is not None
            assert "#2 was merged into #1" in answer["text"]
        # The customer's side: no Reopen offered, and a forged one refused.
        desk.emulator.user_sends_text(ann, "/mytickets")
        await desk.step()
        listing = desk.to_user(ann)[-1]
        labels = [b["text"] for row in listing["reply_markup"]["inline_keyboard"] for b in row]
        assert labels.count("Reopen") == 0
        query = desk.emulator.user_presses(
            ann, ann["id"], listing["message_id"], f"c1:r:{merged.id}", check_button=False
        )
        await desk.step()
        answer = desk.emulator.callback_answer(query["id"])
        assert answer is not None
        assert "merged into #1" in answer["text"]
        after = await desk.ticket(2)
        assert after.status is TicketStatus.CLOSED
        assert after.assignee_id is None

    async def test_commands_in_its_topic_answer_merged_into_with_a_link(self, desk: Desk) -> None:
        _ann, merged, _card = await self.merged(desk)
        target = await desk.ticket(1)
        text = await admin_says(desk, "/close", merged.agent_thread_id)
        assert "#2 was merged into #1" in text
        assert f"/{target.agent_thread_id}" in text  # the t.me link to the target's topic
        assert (await desk.ticket(1)).is_active

    async def test_the_customers_messages_go_to_the_target(self, desk: Desk) -> None:
        ann, merged, _card = await self.merged(desk)
        desk.emulator.user_sends_text(ann, "one more thing")
        await desk.step()
        async with desk.uow_factory() as uow:
            assert await uow.tickets.by_number(3) is None  # no new ticket
            texts = [m.text for m in await uow.messages.for_ticket(merged.merged_into_id)]
        assert texts[-1] == "one more thing"


class TestHostilePayloads:
    async def test_an_id_too_large_for_the_database_is_answered_and_refused(
        self, desk: Desk
    ) -> None:
        ann, ticket = await open_ticket(desk, "Ann")
        card = card_of(desk, ticket)
        answer = await presses(desk, card, "t1:cl:" + "9" * 57 + ":")
        assert answer is not None
        assert "no longer works" in answer["text"]
        query = desk.emulator.user_presses(
            ann,
            ann["id"],
            desk.to_user(ann)[-1]["message_id"],
            "c1:r:" + "9" * 58,
            check_button=False,
        )
        await desk.step()
        assert desk.emulator.callback_answer(query["id"]) is not None
        async with desk.uow_factory() as uow:
            assert await uow.inbox.pending() == []
        assert (await desk.ticket(ticket.number)).assignee_id is None


class TestOnlyAnAgentsOwnMessageIsAReply:
    async def test_service_messages_and_posts_in_a_chats_name_stay_in_the_group(
        self, desk: Desk
    ) -> None:
        ann, ticket = await open_ticket(desk, "Ann")
        thread = ticket.agent_thread_id
        sent_before = len(desk.to_user(ann))
        emu = desk.emulator
        emu.user_service_message(
            desk.admin,
            desk.group_id,
            emu.pin_content(desk.group_id, ticket.card_message_id),
            thread,
        )
        emu.user_service_message(desk.admin, desk.group_id, {"forum_topic_closed": {}}, thread)
        emu.user_service_message(
            desk.admin, desk.group_id, {"forum_topic_edited": {"name": "renamed"}}, thread
        )
        emu.post_as_chat(desk.group_id, "posted anonymously", thread_id=thread)
        channel = {"id": -1002000000001, "type": "channel", "title": "News"}
        emu.post_as_chat(desk.group_id, "from the channel", thread_id=thread, channel=channel)
        await desk.step()
        assert len(desk.to_user(ann)) == sent_before
        assert [c for c in emu.calls_of("copyMessage") if c.params["chat_id"] == ann["id"]] == []
        after = await desk.ticket(ticket.number)
        assert after.status is ticket.status
        async with desk.uow_factory() as uow:
            assert await uow.inbox.pending() == []
        # An agent's own message still goes through.
        await admin_says(desk, "a real answer", thread)
        assert desk.texts_to(ann)[-1] == "a real answer"
