"""The ticket conversation through the real Dispatcher, inbox, outbox and Sender (in-process)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from models import MessageDirection, TicketStatus
from tests.conftest import FixedClock
from tests.support.desk import (
    Desk,
    card_of,
    card_quote,
    make_desk,
    open_ticket,
    press,
    register,
)


class TestCustomerOpensTicket:
    async def test_first_message_becomes_ticket_with_topic_and_a_card_quoting_it(
        self, desk: Desk
    ) -> None:
        ann, ticket = await open_ticket(desk)
        assert ticket.number == 1
        assert ticket.status is TicketStatus.NEW
        [topic] = desk.emulator.topics(desk.group_id)
        assert topic["name"].startswith("#1 · ")
        assert "charged twice" in topic["name"]
        in_topic = desk.topic_messages(ticket.agent_thread_id)
        card = card_of(desk, ticket)
        assert "#1" in card["text"]
        assert "Ann" in card["text"]
        assert card["message_id"] in desk.emulator.pinned(desk.group_id)
        # The card carries the plain first message: no copy of its own, one call less.
        assert card_quote(card) == "My card was charged twice"
        assert [m for m in in_topic if m.get("text") == "My card was charged twice"] == []
        group_calls = [
            c.method
            for c in desk.emulator.calls
            if c.params.get("chat_id") == desk.group_id and not c.method.startswith("getChat")
        ]
        assert group_calls == ["createForumTopic", "sendMessage", "pinChatMessage"]
        async with desk.uow_factory() as uow:
            [first] = await uow.messages.for_ticket(ticket.id)
        assert first.on_card
        assert first.agent_message_id == card["message_id"]  # replies to the card route to it
        assert "ticket #1" in desk.texts_to(ann)[-1]

    async def test_a_first_message_the_card_cannot_quote_is_copied(self, desk: Desk) -> None:
        """Formatting a quote would lose, media, or a text too long for the card: a copy."""
        long_text = "The terminal said the card was declined. " * 80  # > 2,500 UTF-16 units
        bold = [{"type": "bold", "offset": 0, "length": 4}]
        ann = desk.emulator.add_user("Ann")
        desk.emulator.user_sends_text(ann, "Help: my card was charged twice", entities=bold)
        ben = desk.emulator.add_user("Ben")
        desk.emulator.user_sends_media(ben, "photo", caption="the statement")
        cid = desk.emulator.add_user("Cid")
        desk.emulator.user_sends_text(cid, long_text.strip())
        await desk.step()
        for number in (1, 2, 3):
            ticket = await desk.ticket(number)
            assert card_quote(card_of(desk, ticket)) is None
            async with desk.uow_factory() as uow:
                [first] = await uow.messages.for_ticket(ticket.id)
            assert not first.on_card
            assert first.agent_message_id not in (None, ticket.card_message_id)
        assert len(desk.emulator.calls_of("copyMessage")) == 3

    async def test_an_edit_of_the_quoted_first_message_shows_on_the_card(self, desk: Desk) -> None:
        ann, ticket = await open_ticket(desk)
        [first] = desk.emulator.messages_in(ann["id"], from_bot=False)
        desk.emulator.user_edits(
            ann, ann["id"], first["message_id"], "My card was charged three times"
        )
        await desk.step()
        card = card_of(desk, ticket)
        assert card_quote(card) == "My card was charged three times"
        notices = [m for m in desk.topic_messages(ticket.agent_thread_id) if "edited" in str(m)]
        assert notices
        assert notices[-1]["reply_to_message"]["message_id"] == card["message_id"]

    async def test_later_messages_join_the_open_ticket(self, desk: Desk) -> None:
        ann, ticket = await open_ticket(desk)
        desk.emulator.user_sends_text(ann, "It happened yesterday")
        desk.emulator.user_sends_media(ann, "photo", caption="the statement")
        await desk.step()
        assert len(desk.emulator.topics(desk.group_id)) == 1
        texts = [
            m.get("text") or m.get("caption") for m in desk.topic_messages(ticket.agent_thread_id)
        ]
        assert "It happened yesterday" in texts
        assert "the statement" in texts
        async with desk.uow_factory() as uow:
            messages = await uow.messages.for_ticket(ticket.id)
        assert [m.direction for m in messages] == [MessageDirection.CUSTOMER] * 3
        assert all(m.agent_message_id is not None for m in messages)

    async def test_album_is_copied_as_one_album(self, desk: Desk) -> None:
        ann = desk.emulator.add_user("Ann")
        desk.emulator.user_sends_album(ann, [("photo", "screens"), "photo", "photo"])
        await desk.step()
        ticket = await desk.ticket(1)
        copies = desk.emulator.calls_of("copyMessages")
        assert len(copies) == 1
        photos = [m for m in desk.topic_messages(ticket.agent_thread_id) if m.get("photo")]
        assert len(photos) == 3
        assert len({m.get("media_group_id") for m in photos}) == 1
        assert len(desk.emulator.topics(desk.group_id)) == 1

    async def test_every_media_kind_is_accepted_and_copied(self, desk: Desk) -> None:
        ann, ticket = await open_ticket(desk)
        kinds = [
            "photo",
            "video",
            "document",
            "audio",
            "voice",
            "video_note",
            "sticker",
            "animation",
        ]
        for kind in kinds:
            desk.emulator.user_sends_media(ann, kind)
        desk.emulator.user_sends_location(ann, latitude=55.75, longitude=37.61)
        desk.emulator.user_sends_contact(ann, phone_number="+100000", first_name="Bob")
        await desk.step()
        async with desk.uow_factory() as uow:
            stored = await uow.messages.for_ticket(ticket.id)
        assert [str(m.media_kind) for m in stored[1:]] == [*kinds, "location", "contact"]
        assert all(m.agent_message_id is not None for m in stored)

    async def test_html_in_names_and_text_breaks_nothing(self, desk: Desk) -> None:
        _customer, ticket = await open_ticket(desk, name="<b>", text="a < b & c > d")
        card = card_of(desk, ticket)
        assert "<b>" in card["text"]  # shown literally, not as markup
        assert "a < b & c > d" in card["text"]


class TestAgentAnswers:
    async def test_agent_text_reaches_the_customer_and_waits_for_them(self, desk: Desk) -> None:
        ann, ticket = await open_ticket(desk)
        desk.emulator.user_sends_text(
            desk.admin, "We are on it", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        assert desk.texts_to(ann)[-1] == "We are on it"
        after = await desk.ticket(1)
        assert after.status is TicketStatus.WAITING
        assert after.first_response_at is not None
        assert "Alice" in card_of(desk, after)["text"]  # first reply assigns the ticket

    async def test_agent_photo_and_document_reach_the_customer(self, desk: Desk) -> None:
        ann, ticket = await open_ticket(desk)
        desk.emulator.user_sends_media(
            desk.admin,
            "photo",
            caption="see here",
            chat_id=desk.group_id,
            thread_id=ticket.agent_thread_id,
        )
        desk.emulator.user_sends_media(
            desk.admin, "document", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        got = desk.to_user(ann)
        assert got[-2].get("photo")
        assert got[-2]["caption"] == "see here"
        assert got[-1].get("document")

    async def test_notes_stay_inside(self, desk: Desk) -> None:
        ann, ticket = await open_ticket(desk)
        before = len(desk.to_user(ann))
        thread = ticket.agent_thread_id
        desk.emulator.user_sends_text(
            desk.admin, "// she called twice already", chat_id=desk.group_id, thread_id=thread
        )
        desk.emulator.user_sends_text(
            desk.admin, "/note check the refund log", chat_id=desk.group_id, thread_id=thread
        )
        await desk.step()
        assert len(desk.to_user(ann)) == before
        async with desk.uow_factory() as uow:
            notes = [
                m
                for m in await uow.messages.for_ticket(ticket.id)
                if m.direction is MessageDirection.NOTE
            ]
        assert [n.text for n in notes] == ["// she called twice already", "check the refund log"]
        assert (await desk.ticket(1)).status is TicketStatus.NEW

    async def test_reply_to_a_customer_message_is_a_reply_on_their_side(self, desk: Desk) -> None:
        ann, ticket = await open_ticket(desk)
        original = desk.emulator.messages_in(ann["id"])[0]
        async with desk.uow_factory() as uow:
            [first] = await uow.messages.for_ticket(ticket.id)
        desk.emulator.user_sends_text(
            desk.admin,
            "About this one",
            chat_id=desk.group_id,
            thread_id=ticket.agent_thread_id,
            reply_to=first.agent_message_id,
        )
        await desk.step()
        answer = desk.to_user(ann)[-1]
        assert answer["text"] == "About this one"
        assert answer["reply_to_message"]["message_id"] == original["message_id"]

    async def test_edits_are_mirrored_both_ways(self, desk: Desk) -> None:
        ann, ticket = await open_ticket(desk)
        thread = ticket.agent_thread_id
        sent = desk.emulator.user_sends_text(
            desk.admin, "Refund in 3 days", chat_id=desk.group_id, thread_id=thread
        )
        await desk.step()
        desk.emulator.user_edits(desk.admin, desk.group_id, sent["message_id"], "Refund in 2 days")
        customer_msg = desk.emulator.messages_in(ann["id"])[0]
        desk.emulator.user_edits(
            ann, ann["id"], customer_msg["message_id"], "My card was charged THREE times"
        )
        await desk.step()
        assert desk.to_user(ann)[-1]["text"] == "Refund in 2 days"
        notices = [m for m in desk.topic_messages(thread) if "edited" in (m.get("text") or "")]
        assert len(notices) == 1
        assert "THREE times" in notices[0]["text"]

    async def test_two_customers_never_see_each_others_replies(self, desk: Desk) -> None:
        ann, t1 = await open_ticket(desk, "Ann", "ann's problem")
        bob, t2 = await open_ticket(desk, "Bob", "bob's problem")
        desk.emulator.user_sends_text(ann, "ann again")
        desk.emulator.user_sends_text(bob, "bob again")
        desk.emulator.user_sends_text(
            desk.admin, "for ann", chat_id=desk.group_id, thread_id=t1.agent_thread_id
        )
        desk.emulator.user_sends_text(
            desk.admin, "for bob", chat_id=desk.group_id, thread_id=t2.agent_thread_id
        )
        await desk.step()
        assert "for ann" in desk.texts_to(ann)
        assert "for bob" not in desk.texts_to(ann)
        assert "for bob" in desk.texts_to(bob)
        assert "for ann" not in desk.texts_to(bob)
        t1_texts = [m.get("text") for m in desk.topic_messages(t1.agent_thread_id)]
        assert "bob again" not in t1_texts


class TestStatuses:
    async def test_resolve_button_notifies_customer_and_edits_card(self, desk: Desk) -> None:
        ann, ticket = await open_ticket(desk)
        await press(desk, desk.admin, card_of(desk, ticket), "Resolve")
        after = await desk.ticket(1)
        assert after.status is TicketStatus.RESOLVED
        notice = desk.to_user(ann)[-1]
        assert "resolved" in notice["text"]
        assert "Reopen" in str(notice["reply_markup"])
        assert "Resolved" in card_of(desk, after)["text"]

    async def test_status_menu_offers_statuses_and_sets_one(self, desk: Desk) -> None:
        _ann, ticket = await open_ticket(desk)
        await press(desk, desk.admin, card_of(desk, ticket), "Status")
        card = card_of(desk, ticket)
        assert "On hold" in str(card["reply_markup"])
        await press(desk, desk.admin, card, "On hold")
        after = await desk.ticket(1)
        assert after.status is TicketStatus.ON_HOLD
        assert "Claim" in str(card_of(desk, after)["reply_markup"])  # back to the main buttons

    async def test_close_closes_the_topic_and_reopen_reopens_it(self, desk: Desk) -> None:
        ann, ticket = await open_ticket(desk)
        await press(desk, desk.admin, card_of(desk, ticket), "Close")
        assert desk.emulator.topic(desk.group_id, ticket.agent_thread_id)["is_closed"]
        assert "closed" in desk.texts_to(ann)[-1]
        desk.emulator.user_sends_text(
            desk.admin, "/reopen", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        assert not desk.emulator.topic(desk.group_id, ticket.agent_thread_id)["is_closed"]
        assert (await desk.ticket(1)).status is TicketStatus.OPEN
        assert "open again" in desk.texts_to(ann)[-1]

    async def test_priority_and_claim_buttons(self, desk: Desk) -> None:
        _ann, ticket = await open_ticket(desk)
        await press(desk, desk.admin, card_of(desk, ticket), "Claim")
        await press(desk, desk.admin, card_of(desk, ticket), "Priority")
        await press(desk, desk.admin, card_of(desk, ticket), "Urgent")
        after = await desk.ticket(1)
        assert after.assignee_id is not None
        assert after.status is TicketStatus.OPEN
        assert str(after.priority) == "urgent"

    @pytest.mark.parametrize(
        ("command", "expected"),
        [
            ("/status on hold", TicketStatus.ON_HOLD),
            ("/resolve", TicketStatus.RESOLVED),
            ("/close", TicketStatus.CLOSED),
        ],
    )
    async def test_status_commands(self, desk: Desk, command: str, expected: TicketStatus) -> None:
        _ann, ticket = await open_ticket(desk)
        desk.emulator.user_sends_text(
            desk.admin, command, chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        assert (await desk.ticket(1)).status is expected

    async def test_history_tells_who_did_what_in_sentences(self, desk: Desk) -> None:
        _ann, ticket = await open_ticket(desk)
        bob = await register(desk, "Bob")
        desk.emulator.user_sends_text(
            bob, "Hi all", chat_id=desk.group_id
        )  # the desk learns his name
        place = {"chat_id": desk.group_id, "thread_id": ticket.agent_thread_id}
        desk.emulator.user_sends_text(desk.admin, "/priority high", **place)
        desk.emulator.user_sends_text(desk.admin, f"/assign {bob['id']}", **place)
        desk.emulator.user_sends_text(desk.admin, "/status on hold", **place)
        desk.emulator.user_sends_text(desk.admin, "/history", **place)
        await desk.step()
        history = desk.topic_messages(ticket.agent_thread_id)[-1]["text"]
        assert "History of ticket #1" in history
        assert "Ann opened the ticket." in history
        assert "Alice changed the priority from “Normal” to “High”." in history
        assert "Alice assigned the ticket to Bob." in history
        assert "Alice changed the status from “Open” to “On hold”." in history
        assert "_changed" not in history
        assert re.search(r"^\d\d\.\d\d \d\d:\d\d · Ann opened", history, re.MULTILINE)

    async def test_history_is_in_the_readers_language(self, desk: Desk) -> None:
        _ann, ticket = await open_ticket(desk)
        ivan = await register(desk, "Иван", language_code="ru")
        place = {"chat_id": desk.group_id, "thread_id": ticket.agent_thread_id}
        desk.emulator.user_sends_text(ivan, "/assign me", **place)
        desk.emulator.user_sends_text(ivan, "/history", **place)
        await desk.step()
        history = desk.topic_messages(ticket.agent_thread_id)[-1]["text"]
        assert "История заявки #1" in history
        assert "Иван взял(а) заявку." in history


class TestAcknowledgement:
    """A command or note that changes a ticket gets one reaction where the agent typed it."""

    async def _in_topic(self, desk: Desk, ticket: Any, text: str) -> dict[str, Any]:
        sent = desk.emulator.user_sends_text(
            desk.admin, text, chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        return sent

    async def test_a_change_gets_a_reaction_and_no_message(self, desk: Desk) -> None:
        _ann, ticket = await open_ticket(desk)
        before = len(desk.topic_messages(ticket.agent_thread_id))
        command = await self._in_topic(desk, ticket, "/priority high")
        reaction = desk.emulator.reactions[(desk.group_id, command["message_id"])]
        assert reaction == [{"type": "emoji", "emoji": "👌"}]
        assert len(desk.topic_messages(ticket.agent_thread_id)) == before + 1  # the command

    async def test_a_note_gets_a_writing_hand(self, desk: Desk) -> None:
        _ann, ticket = await open_ticket(desk)
        note = await self._in_topic(desk, ticket, "// called the bank")
        typed = await self._in_topic(desk, ticket, "/note refund is on its way")
        for message in (note, typed):
            reaction = desk.emulator.reactions[(desk.group_id, message["message_id"])]
            assert reaction == [{"type": "emoji", "emoji": "✍"}]

    async def test_nothing_changed_nothing_acknowledged(self, desk: Desk) -> None:
        _ann, ticket = await open_ticket(desk)
        command = await self._in_topic(desk, ticket, "/priority normal")
        reply = await self._in_topic(desk, ticket, "Hello, we are on it")
        assert (desk.group_id, command["message_id"]) not in desk.emulator.reactions
        assert (desk.group_id, reply["message_id"]) not in desk.emulator.reactions
        assert not desk.emulator.calls_of("setMessageReaction")


class TestCustomerSelfService:
    async def test_mytickets_close_and_reopen(self, desk: Desk) -> None:
        ann, ticket = await open_ticket(desk)
        desk.emulator.user_sends_text(ann, "/mytickets")
        await desk.step()
        listing = desk.to_user(ann)[-1]
        assert "#1" in listing["text"]
        await press(desk, ann, listing, "Close")
        assert (await desk.ticket(1)).status is TicketStatus.CLOSED
        assert any(
            "customer closed" in (m.get("text") or "")
            for m in desk.topic_messages(ticket.agent_thread_id)
        )
        desk.emulator.user_sends_text(ann, "/mytickets")
        await desk.step()
        await press(desk, ann, desk.to_user(ann)[-1], "Reopen")
        assert (await desk.ticket(1)).status is TicketStatus.OPEN

    async def test_view_shows_the_conversation(self, desk: Desk) -> None:
        ann, ticket = await open_ticket(desk)
        desk.emulator.user_sends_text(
            desk.admin, "Which card?", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        desk.emulator.user_sends_text(ann, "/mytickets")
        await desk.step()
        await press(desk, ann, desk.to_user(ann)[-1], "view")
        view = desk.to_user(ann)[-1]["text"]
        assert "My card was charged twice" in view
        assert "Which card?" in view

    async def test_new_always_starts_a_new_ticket(self, desk: Desk) -> None:
        ann, _ticket = await open_ticket(desk)
        desk.emulator.user_sends_text(ann, "/new another problem")
        await desk.step()
        desk.emulator.user_sends_text(ann, "/new")
        desk.emulator.user_sends_text(ann, "third problem")
        await desk.step()
        assert (await desk.ticket(2)).subject == "another problem"
        assert (await desk.ticket(3)).subject == "third problem"

    async def test_language_switch(self, desk: Desk) -> None:
        ann = desk.emulator.add_user("Ann", language_code="en")
        desk.emulator.user_sends_text(ann, "/language")
        await desk.step()
        await press(desk, ann, desk.to_user(ann)[-1], "Русский")
        desk.emulator.user_sends_text(ann, "/help")
        await desk.step()
        assert "Как это работает" in desk.texts_to(ann)[-1]

    async def test_russian_customer_is_answered_in_russian(self, desk: Desk) -> None:
        ivan = desk.emulator.add_user("Иван", language_code="ru")
        desk.emulator.user_sends_text(ivan, "/start")
        desk.emulator.user_sends_text(ivan, "Не могу войти")
        await desk.step()
        texts = desk.texts_to(ivan)
        assert texts[0].startswith("Здравствуйте, Иван")
        assert "заявк" in texts[-1]


async def test_reopen_window(tmp_path: Path) -> None:
    clock = FixedClock()
    desk = await make_desk(tmp_path, clock=clock, reopen_window_hours=72)
    try:
        ann, ticket = await open_ticket(desk)
        desk.emulator.user_sends_text(
            desk.admin, "/resolve", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        clock.advance(hours=71)
        desk.emulator.user_sends_text(ann, "still broken")
        await desk.step()
        assert (await desk.ticket(1)).status is TicketStatus.OPEN
        assert await desk.ticket(2) is None
        desk.emulator.user_sends_text(
            desk.admin, "/resolve", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        clock.advance(hours=73)
        desk.emulator.user_sends_text(ann, "a different thing")
        await desk.step()
        assert (await desk.ticket(1)).status is TicketStatus.RESOLVED
        assert (await desk.ticket(2)).subject == "a different thing"
        assert len(desk.emulator.topics(desk.group_id)) == 2
    finally:
        await desk.close()


class TestPlainGroup:
    async def test_card_without_topics_and_reply_to_card_reaches_customer(
        self, plain_desk: Desk
    ) -> None:
        desk = plain_desk
        ann, ticket = await open_ticket(desk)
        assert desk.emulator.topics(desk.group_id) == []
        assert ticket.agent_thread_id is None
        card = card_of(desk, ticket)
        assert card_quote(card) == "My card was charged twice"
        desk.emulator.user_sends_text(ann, "It happened at the airport")
        await desk.step()
        copy = desk.emulator.messages_in(desk.group_id)[-1]
        assert copy["text"] == "It happened at the airport"
        assert copy["reply_to_message"]["message_id"] == card["message_id"]
        desk.emulator.user_sends_text(
            desk.admin, "Hello from agents", chat_id=desk.group_id, reply_to=card["message_id"]
        )
        desk.emulator.user_sends_text(
            desk.admin, "And again", chat_id=desk.group_id, reply_to=copy["message_id"]
        )
        await desk.step()
        assert desk.texts_to(ann)[-2:] == ["Hello from agents", "And again"]
        await press(desk, desk.admin, card_of(desk, ticket), "Resolve")
        assert (await desk.ticket(1)).status is TicketStatus.RESOLVED

    async def test_chatter_outside_tickets_is_ignored(self, plain_desk: Desk) -> None:
        desk = plain_desk
        ann, _ticket = await open_ticket(desk)
        before = len(desk.to_user(ann))
        desk.emulator.user_sends_text(desk.admin, "lunch?", chat_id=desk.group_id)
        await desk.step()
        assert len(desk.to_user(ann)) == before


class TestDeliveryProblems:
    async def test_blocked_customer_is_reported_in_the_topic(self, desk: Desk) -> None:
        ann, ticket = await open_ticket(desk)
        desk.emulator.block_bot(ann)
        desk.emulator.user_sends_text(
            desk.admin, "Any news?", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        texts = [m.get("text") or "" for m in desk.topic_messages(ticket.agent_thread_id)]
        assert any("Not delivered" in t and "blocked" in t for t in texts)
        assert "blocked the bot" in card_of(desk, await desk.ticket(1))["text"]


async def test_signed_replies_carry_the_agents_first_name(tmp_path: Path) -> None:
    desk = await make_desk(tmp_path, sign_replies=True)
    try:
        ann, ticket = await open_ticket(desk)
        thread = ticket.agent_thread_id
        desk.emulator.user_sends_text(
            desk.admin, "Fixed <now>", chat_id=desk.group_id, thread_id=thread
        )
        desk.emulator.user_sends_media(
            desk.admin, "photo", caption="proof", chat_id=desk.group_id, thread_id=thread
        )
        desk.emulator.user_sends_media(
            desk.admin, "document", caption="x" * 1020, chat_id=desk.group_id, thread_id=thread
        )
        await desk.step()
        *_, text, photo, document = desk.to_user(ann)
        assert text["text"] == "Fixed <now>\n\n— Alice"
        assert photo["caption"] == "proof\n\n— Alice"
        assert document["caption"] == "x" * 1020  # no room for the signature: sent as written
    finally:
        await desk.close()
