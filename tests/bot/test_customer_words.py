"""Customers read customer words: their own status, their own language, and a stray command is
answered instead of landing in their ticket."""

from __future__ import annotations

from typing import Any

import pytest

from bot.texts import utf16_len
from models import TicketStatus
from tests.support.desk import Desk, card_of, open_ticket


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


async def test_the_ticket_view_says_how_many_earlier_entries_it_leaves_out(desk: Desk) -> None:
    ann, ticket = await open_ticket(desk, text="first")
    for i in range(11):
        desk.emulator.user_sends_text(ann, f"more {i}")
    await desk.step()
    desk.emulator.user_sends_text(ann, "/mytickets")
    await desk.step()
    listing = desk.to_user(ann)[-1]
    query = desk.emulator.user_presses(
        ann, ann["id"], listing["message_id"], f"c1:v:{ticket.id}", check_button=False
    )
    await desk.step()
    assert desk.emulator.callback_answer(query["id"]) is not None
    view = desk.texts_to(ann)[-1]
    assert "… 2 earlier entries are not shown." in view
    assert "more 10" in view
    assert "first" not in view.split("\n", 3)[3]


async def test_russian_texts_number_tickets_one_way(desk: Desk) -> None:
    olga = desk.emulator.add_user("Ольга", language_code="ru")
    desk.emulator.user_sends_text(olga, "Помогите")
    await desk.step()
    text = desk.texts_to(olga)[-1]
    assert "#1" in text
    assert "№" not in text


@pytest.mark.parametrize(("window", "promised"), [("0", False), ("72h", True)])
async def test_the_resolved_notice_promises_reopening_by_message_only_when_it_works(
    desk: Desk, window: str, promised: bool
) -> None:
    ann, ticket = await open_ticket(desk)
    desk.emulator.user_sends_text(
        desk.admin, f"/set reopen_window {window}", chat_id=desk.group_id
    )
    desk.emulator.user_sends_text(
        desk.admin, "/resolve", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
    )
    await desk.step()
    notice = desk.texts_to(ann)[-1]
    assert notice.startswith("Ticket #1 is resolved.")
    assert ("just write here" in notice) is promised


@pytest.mark.parametrize(
    ("code", "shown"),
    [("de", "Hans · de (texts: en)"), ("en-GB", "Hans · en-GB"), (None, "Hans · en")],
)
async def test_the_card_shows_the_customers_own_language(
    desk: Desk, code: str | None, shown: str
) -> None:
    hans = desk.emulator.add_user("Hans", language_code=code)
    desk.emulator.user_sends_text(hans, "Meine Karte wurde doppelt belastet")
    await desk.step()
    card = card_of(desk, await desk.ticket(1))
    assert f"👤 {shown}\n" in card["text"]


class TestNewWithText:
    """``/new <text>``: the agents see the text without the command, formatted as written."""

    @staticmethod
    def _copy_in_topic(desk: Desk, thread: int) -> dict[str, Any]:
        [copy] = [
            m
            for m in desk.topic_messages(thread)
            if "broken" in (m.get("text") or m.get("caption") or "")
            and not m.get("text", "").startswith("🎫")
        ]
        return copy

    async def test_text_reaches_the_agents_without_the_command(self, desk: Desk) -> None:
        ann = desk.emulator.add_user("Ann")
        text = "/new 🙈 my card is broken <again>"
        bold = {"type": "bold", "offset": utf16_len("/new 🙈 my card is "), "length": 6}
        command = {"type": "bot_command", "offset": 0, "length": 4}
        desk.emulator.user_sends_text(ann, text, entities=[command, bold])
        await desk.step()
        ticket = await desk.ticket(1)
        copy = self._copy_in_topic(desk, ticket.agent_thread_id)
        assert copy["text"] == "🙈 my card is broken <again>"
        assert copy["entities"] == [{"type": "bold", "offset": 14, "length": 6}]
        async with desk.uow_factory() as uow:
            [stored] = await uow.messages.for_ticket(ticket.id)
        assert stored.agent_message_id == copy["message_id"]  # replies to it route back

    async def test_a_photos_caption_reaches_the_agents_without_the_command(
        self, desk: Desk
    ) -> None:
        ann = desk.emulator.add_user("Ann")
        desk.emulator.user_sends_media(ann, "photo", caption="/new the screen is broken <again>")
        await desk.step()
        ticket = await desk.ticket(1)
        copy = self._copy_in_topic(desk, ticket.agent_thread_id)
        assert copy["photo"]
        assert copy["caption"] == "the screen is broken <again>"
        assert "caption_entities" not in copy

    async def test_an_edit_shows_the_text_without_the_command(self, desk: Desk) -> None:
        ann = desk.emulator.add_user("Ann")
        sent = desk.emulator.user_sends_text(ann, "/new the app is broken")
        await desk.step()
        desk.emulator.user_edits(
            ann, ann["id"], sent["message_id"], "/new the app is broken again"
        )
        await desk.step()
        ticket = await desk.ticket(1)
        notice = desk.topic_messages(ticket.agent_thread_id)[-1]["text"]
        assert notice.endswith("\n\nthe app is broken again")
        async with desk.uow_factory() as uow:
            [stored] = await uow.messages.for_ticket(ticket.id)
        assert stored.text == "the app is broken again"
