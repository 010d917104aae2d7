"""Agents' tools through the real dispatcher: assignment, collisions, canned answers, queues,
tags, merges, bans and flood control."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.services.triage_port import TriageVerdict
from models import Category, MessageDirection, Priority, TicketStatus
from tests.support.desk import Desk, card_of, customer_texts, make_desk, press, register
from tests.support.desk import open_ticket as customer_writes


class KeywordTriage:
    """Billing words → billing (confident); anything else → general, no team."""

    async def classify(self, text: str) -> TriageVerdict:
        if any(w in text.lower() for w in ("refund", "charged", "invoice", "money")):
            return TriageVerdict("billing", "Billing", Priority.NORMAL, 0.97, False)
        return TriageVerdict("general", None, Priority.NORMAL, 0.6, False)

    async def acknowledges(self, text: str | None, *, sticker: bool = False) -> bool:
        return False


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    d = await make_desk(tmp_path, triage=KeywordTriage())
    await admin_says(d, "/teams add Billing")
    async with d.uow_factory() as uow:
        team = await uow.teams.by_name("Billing")
        await uow.categories.add(Category(key="billing", title="Billing", team_id=team.id))
        await uow.commit()
    yield d
    await d.close()


async def admin_says(desk: Desk, text: str, thread: int | None = None) -> str:
    desk.emulator.user_sends_text(desk.admin, text, chat_id=desk.group_id, thread_id=thread)
    await desk.step()
    return desk.emulator.messages_in(desk.group_id, thread, from_bot=True)[-1]["text"]


async def add_agent(desk: Desk, name: str, *, team: str | None = "Billing") -> dict[str, Any]:
    user = desk.emulator.add_user(name, username=name.lower())
    desk.emulator.add_member(desk.group_id, user)
    await admin_says(desk, f"/agent add {user['id']}")
    if team:
        await admin_says(desk, f"/teams join {team} {user['id']}")
    return user


async def says_in_topic(desk: Desk, user: dict, ticket: Any, text: str) -> None:
    desk.emulator.user_sends_text(
        user, text, chat_id=desk.group_id, thread_id=ticket.agent_thread_id
    )
    await desk.step()


class TestAssignment:
    async def test_round_robin_takes_turns_and_tells_the_assignee(self, desk: Desk) -> None:
        bob, carol = await add_agent(desk, "Bob"), await add_agent(desk, "Carol")
        await admin_says(desk, "/teams strategy Billing round_robin")
        owners = []
        for i in range(4):
            _c, ticket = await customer_writes(desk, f"C{i}", "I want a refund")
            owners.append(ticket.assignee_id)
        async with desk.uow_factory() as uow:
            ids = {(await uow.agents.by_telegram_id(u["id"])).id: u for u in (bob, carol)}
        assert owners[0] != owners[1]
        assert owners[0] == owners[2]
        assert owners[1] == owners[3]
        assert set(owners) == set(ids)
        dm = desk.texts_to(bob)[-1]
        assert "was assigned to you" in dm
        button = desk.to_user(bob)[-1]["reply_markup"]["inline_keyboard"][0][0]
        assert button["url"].startswith("https://t.me/c/")
        assert "Assignee: —" not in card_of(desk, await desk.ticket(1))["text"]

    async def test_away_agents_and_full_agents_get_nothing(self, desk: Desk) -> None:
        bob, carol = await add_agent(desk, "Bob"), await add_agent(desk, "Carol")
        await admin_says(desk, "/teams strategy Billing least_open")
        desk.emulator.user_sends_text(carol, "/away", chat_id=desk.group_id)
        await desk.step()
        assert (
            "is away" in desk.emulator.messages_in(desk.group_id, None, from_bot=True)[-1]["text"]
        )
        async with desk.uow_factory() as uow:
            bob_agent = await uow.agents.by_telegram_id(bob["id"])
            bob_agent.capacity = 2
            await uow.commit()
        owners = []
        for i in range(3):
            _c, ticket = await customer_writes(desk, f"C{i}", "invoice is wrong")
            owners.append(ticket.assignee_id)
        assert owners == [bob_agent.id, bob_agent.id, None]  # Carol away, Bob full after two
        desk.emulator.user_sends_text(carol, "/back", chat_id=desk.group_id)
        await desk.step()
        _c, ticket = await customer_writes(desk, "C9", "charged twice")
        async with desk.uow_factory() as uow:
            assert ticket.assignee_id == (await uow.agents.by_telegram_id(carol["id"])).id

    async def test_manual_team_leaves_tickets_to_claim(self, desk: Desk) -> None:
        bob = await add_agent(desk, "Bob")
        _c, ticket = await customer_writes(desk, "Ann", "refund please")
        assert ticket.assignee_id is None
        await press(desk, bob, card_of(desk, ticket), "Claim")
        assert "Assignee: Bob" in card_of(desk, await desk.ticket(1))["text"]

    async def test_a_second_claim_is_refused_and_told(self, desk: Desk) -> None:
        bob, carol = await add_agent(desk, "Bob"), await add_agent(desk, "Carol")
        _c, ticket = await customer_writes(desk, "Ann", "refund please")
        await press(desk, bob, card_of(desk, ticket), "Claim")
        query = await press(desk, carol, card_of(desk, ticket), "Claim")
        assert "Already taken by Bob" in desk.emulator.callback_answer(query["id"])["text"]
        async with desk.uow_factory() as uow:
            bob_agent = await uow.agents.by_telegram_id(bob["id"])
        assert (await desk.ticket(1)).assignee_id == bob_agent.id

    async def test_assigning_someone_else_sends_them_a_message(self, desk: Desk) -> None:
        bob = await add_agent(desk, "Bob")
        _c, ticket = await customer_writes(desk, "Ann", "hello")
        await admin_says(desk, f"/assign {bob['id']}", ticket.agent_thread_id)
        assert "Alice assigned ticket #1 to you" in desk.texts_to(bob)[-1]


class TestCollisions:
    async def test_answering_someone_elses_ticket_warns(self, desk: Desk) -> None:
        bob, carol = await add_agent(desk, "Bob"), await add_agent(desk, "Carol")
        ann, ticket = await customer_writes(desk, "Ann", "refund please")
        await press(desk, bob, card_of(desk, ticket), "Claim")
        await says_in_topic(desk, carol, ticket, "I can help too")
        assert desk.texts_to(ann)[-1] == "I can help too"
        topic = [m.get("text", "") for m in desk.topic_messages(ticket.agent_thread_id)]
        assert any("Carol, ticket #1 is assigned to Bob" in t for t in topic)

    async def test_block_mode_keeps_the_answer_as_a_note(self, desk: Desk) -> None:
        bob, carol = await add_agent(desk, "Bob"), await add_agent(desk, "Carol")
        await admin_says(desk, "/set collision block")
        ann, ticket = await customer_writes(desk, "Ann", "refund please")
        await press(desk, bob, card_of(desk, ticket), "Claim")
        before = len(desk.texts_to(ann))
        await says_in_topic(desk, carol, ticket, "Let me answer")
        assert len(desk.texts_to(ann)) == before  # not sent
        topic = [m.get("text", "") for m in desk.topic_messages(ticket.agent_thread_id)]
        assert any("Not sent: ticket #1 is assigned to Bob" in t for t in topic)
        async with desk.uow_factory() as uow:
            kept = [
                m for m in await uow.messages.for_ticket(ticket.id) if m.text == "Let me answer"
            ]
        assert [m.direction for m in kept] == [MessageDirection.NOTE]

    async def test_two_agents_answering_at_once_are_flagged(self, desk: Desk) -> None:
        bob, carol = await add_agent(desk, "Bob"), await add_agent(desk, "Carol")
        await admin_says(desk, "/set collision warn")
        _ann, ticket = await customer_writes(desk, "Ann", "hello")
        await says_in_topic(desk, bob, ticket, "Hi from Bob")
        await says_in_topic(desk, carol, ticket, "Hi from Carol")
        topic = [m.get("text", "") for m in desk.topic_messages(ticket.agent_thread_id)]
        assert any("Two agents answered" in t and "Bob" in t and "Carol" in t for t in topic)

    async def test_bad_setting_values_are_refused(self, desk: Desk) -> None:
        assert "expected warn or block" in await admin_says(desk, "/set collision maybe")
        assert "known settings" in await admin_says(desk, "/set colour blue")
        assert "collision = warn" in await admin_says(desk, "/settings")


class TestCanned:
    async def test_placeholders_in_the_customers_language(self, desk: Desk) -> None:
        bob = await add_agent(desk, "Bob")
        await admin_says(desk, "/canned add hello en\nHello {name}, this is {agent} on {ticket}.")
        await admin_says(
            desk, "/canned add hello ru\nЗдравствуйте, {name}! {agent}, заявка {ticket}."
        )
        ivan, t1 = await customer_writes(desk, "Иван", "привет", language_code="ru")
        ann, t2 = await customer_writes(desk, "Ann", "hi there", language_code="en")
        await says_in_topic(desk, bob, t1, "/c hello")
        await says_in_topic(desk, bob, t2, "/c hello")
        assert desk.texts_to(ivan)[-1] == "Здравствуйте, Иван! Bob, заявка #1."
        assert desk.texts_to(ann)[-1] == "Hello Ann, this is Bob on #2."
        topic = [m.get("text", "") for m in desk.topic_messages(t2.agent_thread_id)]
        assert any("sent the canned answer “hello”" in t and "Hello Ann" in t for t in topic)
        after = await desk.ticket(2)
        assert after.first_response_at is not None
        assert after.status is TicketStatus.WAITING

    async def test_bad_templates_and_keys_are_explained(self, desk: Desk) -> None:
        assert "unknown; use {name}" in await admin_says(desk, "/canned add x en\nHi {nam}")
        assert "unbalanced braces" in await admin_says(desk, "/canned add x en\nHi {name")
        assert "the answer is empty" in await admin_says(desk, "/canned add x en")
        assert "a key is one word" in await admin_says(desk, "/canned add Hi! en\ntext")
        _ann, ticket = await customer_writes(desk, "Ann", "hi")
        assert "no such canned answer" in await admin_says(desk, "/c nope", ticket.agent_thread_id)
        assert "No canned answers yet" in await admin_says(desk, "/canned list")

    async def test_only_admins_change_canned_answers(self, desk: Desk) -> None:
        bob = await add_agent(desk, "Bob")
        desk.emulator.user_sends_text(bob, "/canned add x en\nHi", chat_id=desk.group_id)
        await desk.step()
        last = desk.emulator.messages_in(desk.group_id, None, from_bot=True)[-1]["text"]
        assert "This needs the admin role" in last
        async with desk.uow_factory() as uow:
            assert await uow.canned.list() == []

    async def test_card_suggests_answers_and_one_tap_sends(self, desk: Desk) -> None:
        bob = await add_agent(desk, "Bob")
        await admin_says(
            desk, "/canned add refund en billing\nYour refund for {ticket} is on its way."
        )
        await admin_says(desk, "/canned add password en\nTo reset your password, open Settings.")
        ann, ticket = await customer_writes(desk, "Ann", "I want a refund for my order")
        card = card_of(desk, ticket)
        assert "💬 refund" in str(card["reply_markup"])
        await press(desk, bob, card, "💬 refund")
        assert desk.texts_to(ann)[-1] == "Your refund for #1 is on its way."
        after = await desk.ticket(1)
        assert after.first_response_at is not None
        assert "💬" not in str(card_of(desk, after)["reply_markup"])  # suggestions go away

    async def test_auto_answer_when_confident(self, desk: Desk) -> None:
        await admin_says(desk, "/canned add refund en\nWe got your refund request, {name}.")
        assert "answers new tickets" in await admin_says(desk, "/autoanswer billing refund 0.9")
        ann, ticket = await customer_writes(desk, "Ann", "refund please")
        assert desk.texts_to(ann)[-1] == "We got your refund request, Ann."
        assert "Answered automatically with “refund”" in card_of(desk, ticket)["text"]
        assert ticket.first_response_at is None  # a person still owes the first response
        _bea, other = await customer_writes(desk, "Bea", "where is my parcel")
        assert other.auto_answer is None
        assert "0.5 to 1.0" in await admin_says(desk, "/autoanswer billing refund 2")


class TestQueuesAndTickets:
    async def test_queues_filter_and_page(self, desk: Desk) -> None:
        bob = await add_agent(desk, "Bob")
        for i in range(12):
            await customer_writes(desk, f"C{i}", "refund" if i % 2 else "hello")
        first = await desk.ticket(1)
        await press(desk, bob, card_of(desk, first), "Claim")
        text = await admin_says(desk, "/queue")
        assert "12 active tickets" in text
        assert "page 1 of 2" in text
        listing = desk.emulator.messages_in(desk.group_id, None, from_bot=True)[-1]
        await press(desk, desk.admin, listing, "2 »")
        edited = desk.emulator.message(desk.group_id, listing["message_id"])
        assert "page 2 of 2" in edited["text"]
        assert "11 active tickets" in await admin_says(desk, "/queue unassigned")
        desk.emulator.user_sends_text(bob, "/queue mine", chat_id=desk.group_id)
        await desk.step()
        mine = desk.emulator.messages_in(desk.group_id, None, from_bot=True)[-1]["text"]
        assert "1 active ticket\n" in mine
        assert "#1" in mine
        assert "6 active tickets" in await admin_says(desk, "/queue team Billing")
        assert "unknown team" in await admin_says(desk, "/queue team Nope")
        assert "usage: /queue" in await admin_says(desk, "/queue everything")

    async def test_ticket_links_to_its_topic(self, desk: Desk) -> None:
        _ann, ticket = await customer_writes(desk, "Ann", "hello")
        assert "#1" in await admin_says(desk, "/ticket 1")
        answer = desk.emulator.messages_in(desk.group_id, None, from_bot=True)[-1]
        urls = [e.get("url", "") for e in answer.get("entities", [])]
        assert any(u.endswith(f"/{ticket.agent_thread_id}") for u in urls), urls
        assert "—" in await admin_says(desk, "/ticket 1")  # nobody has it yet
        await admin_says(desk, "/assign me", thread=ticket.agent_thread_id)
        shown = await admin_says(desk, "/ticket 1")
        assert "Alice" in shown
        assert "—" not in shown
        assert "does not exist" in await admin_says(desk, "/ticket 99")
        assert "give a ticket number" in await admin_says(desk, "/ticket abc")

    async def test_tags_show_on_the_card_and_filter_the_queue(self, desk: Desk) -> None:
        _ann, ticket = await customer_writes(desk, "Ann", "hello")
        await customer_writes(desk, "Bea", "hello")
        await admin_says(desk, "/tag vip #Urgent-Call", ticket.agent_thread_id)
        assert "#vip #urgent-call" in card_of(desk, await desk.ticket(1))["text"]
        assert "1 active ticket\n" in await admin_says(desk, "/queue tag vip")
        await admin_says(desk, "/untag vip", ticket.agent_thread_id)
        assert "#vip" not in card_of(desk, await desk.ticket(1))["text"]
        assert "tags are words" in await admin_says(desk, "/tag no!way", ticket.agent_thread_id)


class TestMerge:
    async def test_merge_moves_messages_and_tells_everyone(self, desk: Desk) -> None:
        ann = desk.emulator.add_user("Ann")
        desk.emulator.user_sends_text(ann, "first problem")
        await desk.step()
        await admin_says(desk, "/resolve", (await desk.ticket(1)).agent_thread_id)
        await admin_says(desk, "/close", (await desk.ticket(1)).agent_thread_id)
        desk.emulator.user_sends_text(ann, "second problem")
        desk.emulator.user_sends_text(ann, "more details")
        await desk.step()
        old, target = await desk.ticket(2), await desk.ticket(1)
        assert old.customer_id == target.customer_id
        await admin_says(desk, "/merge 1", old.agent_thread_id)
        merged, target = await desk.ticket(2), await desk.ticket(1)
        assert merged.status is TicketStatus.CLOSED
        assert merged.merged_into_id == target.id
        assert target.is_active  # the target takes over the conversation
        async with desk.uow_factory() as uow:
            texts = [m.text for m in await uow.messages.for_ticket(target.id)]
            assert await uow.messages.for_ticket(merged.id) == []
        assert texts[:3] == ["first problem", "second problem", "more details"]
        assert "now part of ticket #1" in desk.texts_to(ann)[-1]
        assert desk.emulator.topic(desk.group_id, merged.agent_thread_id)["is_closed"]
        new_topic = [m.get("text", "") for m in desk.topic_messages(target.agent_thread_id)]
        assert any("#2 was merged into this one (2 messages" in t for t in new_topic)
        # Writing in the old topic reaches the customer through the target ticket.
        await admin_says(desk, "Answer after the merge", merged.agent_thread_id)
        assert desk.texts_to(ann)[-1] == "Answer after the merge"

    async def test_merging_other_customers_tickets_is_refused(self, desk: Desk) -> None:
        _a, _first = await customer_writes(desk, "Ann", "hello")
        _b, second = await customer_writes(desk, "Bea", "hello")
        text = await admin_says(desk, "/merge 1", second.agent_thread_id)
        assert "another customer" in text
        assert (await desk.ticket(2)).merged_into_id is None
        assert "merged into itself" in await admin_says(desk, "/merge 2", second.agent_thread_id)


class TestBansAndFlood:
    async def test_ban_stops_new_tickets_and_is_explained(self, desk: Desk) -> None:
        ann, ticket = await customer_writes(desk, "Ann", "spam spam")
        assert "say why" in await admin_says(desk, "/ban", ticket.agent_thread_id)
        text = await admin_says(desk, "/ban abusive language", ticket.agent_thread_id)
        assert "is banned by Alice: abusive language" in text
        desk.emulator.user_sends_text(ann, "more spam")
        desk.emulator.user_sends_text(ann, "and more")
        await desk.step()
        notices = [t for t in desk.texts_to(ann) if "does not accept messages" in t]
        assert len(notices) == 1  # told once, not once per message
        async with desk.uow_factory() as uow:
            assert len(await uow.messages.for_ticket(ticket.id)) == 1
        await admin_says(desk, f"/unban {ann['id']}")
        desk.emulator.user_sends_text(ann, "sorry")
        await desk.step()
        async with desk.uow_factory() as uow:
            assert len(await uow.messages.for_ticket(ticket.id)) == 2

    async def test_agents_cannot_ban(self, desk: Desk) -> None:
        bob = await add_agent(desk, "Bob")
        ann, ticket = await customer_writes(desk, "Ann", "hello")
        await says_in_topic(desk, bob, ticket, "/ban rude")
        async with desk.uow_factory() as uow:
            assert not (await uow.customers.by_telegram_id(ann["id"])).banned

    async def test_a_flood_is_recorded_whole_and_the_customer_asked_to_slow_down(
        self, desk: Desk
    ) -> None:
        await admin_says(desk, "/set flood_per_minute 5")
        ann = desk.emulator.add_user("Ann")
        for i in range(12):
            desk.emulator.user_sends_text(ann, f"message {i}")
        await desk.step()
        ticket = await desk.ticket(1)
        async with desk.uow_factory() as uow:
            stored = [m.text for m in await uow.messages.for_ticket(ticket.id)]
        assert stored == [f"message {i}" for i in range(12)]  # nothing dropped, in order
        in_topic = desk.topic_messages(ticket.agent_thread_id)
        copies = [t for m in in_topic for t in customer_texts(m)]  # the card quotes the first
        assert [c for c in copies if c and c.startswith("message ")] == stored
        slow = [t for t in desk.texts_to(ann) if "many messages at once" in t]
        assert len(slow) == 1


class TestSearch:
    async def test_search_ranks_links_and_explains_bad_syntax(self, desk: Desk) -> None:
        _a, first = await customer_writes(desk, "Ann", "My invoice total looks wrong")
        _b, second = await customer_writes(desk, "Bea", "hello there")
        await says_in_topic(desk, desk.admin, second, "Please send the invoice number")
        text = await admin_says(desk, "/search invoice")
        assert text.index("#1") < text.index("#2")  # the subject match ranks first
        answer = desk.emulator.messages_in(desk.group_id, None, from_bot=True)[-1]
        bold = [e for e in answer["entities"] if e["type"] == "bold"]
        assert bold, answer["entities"]
        urls = [e.get("url", "") for e in answer["entities"]]
        assert any(u.endswith(f"/{first.agent_thread_id}") for u in urls)
        assert "Nothing found" in await admin_says(desk, "/search parcel")
        assert "Not accepted" in await admin_says(desk, '/search "unbalanced')
        assert "Not accepted" in await admin_says(desk, "/search -only")
        await admin_says(desk, "/tag vip", second.agent_thread_id)
        tagged = await admin_says(desk, "/search invoice #vip")
        assert "#2" in tagged
        assert "#1 ·" not in tagged
        assert "#2 ·" in tagged


async def test_an_agent_added_by_id_gets_their_name_from_their_first_message(desk: Desk) -> None:
    bob = await add_agent(desk, "Bob", team=None)
    async with desk.uow_factory() as uow:
        assert (await uow.agents.by_telegram_id(bob["id"])).name == str(bob["id"])
    desk.emulator.user_sends_text(bob, "hello team", chat_id=desk.group_id)
    await desk.step()
    async with desk.uow_factory() as uow:
        agent = await uow.agents.by_telegram_id(bob["id"])
    assert agent.name == "Bob"
    assert agent.username == "bob"


class TestAgentsOwnLanguage:
    """Texts for one agent alone use that agent's language; the group's texts the desk's."""

    async def test_assigned_to_you_is_in_the_assignees_language(self, desk: Desk) -> None:
        _ann, ticket = await customer_writes(desk, "Ann", "refund please")
        ivan = await register(desk, "Иван", language_code="ru")
        bob = await register(desk, "Bob", language_code="en")
        for person in (ivan, bob):  # the desk learns their language when they act
            desk.emulator.user_sends_text(person, "Hi all", chat_id=desk.group_id)
        await desk.step()
        await admin_says(desk, f"/assign {ivan['id']}", thread=ticket.agent_thread_id)
        assert desk.texts_to(ivan)[-1].startswith("🎫 Alice назначил(а) вам заявку #1")
        await admin_says(desk, f"/assign {bob['id']}", thread=ticket.agent_thread_id)
        assert desk.texts_to(bob)[-1].startswith("🎫 Alice assigned ticket #1 to you")

    async def test_the_group_keeps_the_desk_language(self, desk: Desk) -> None:
        _ann, ticket = await customer_writes(desk, "Ann", "refund please")
        ivan = await register(desk, "Иван", language_code="ru")
        desk.emulator.user_sends_text(
            ivan, "/priority high", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        assert "Priority: High" in card_of(desk, ticket)["text"]
