"""Incidents through the real Dispatcher, inbox, outbox and Sender (in-process): a surge of
similar tickets becomes one incident, a reply in its topic reaches everyone, its card's buttons
resolve, split and detach."""

from __future__ import annotations

from typing import Any

from models import MessageDirection, TicketStatus
from models.incidents import IncidentStatus
from tests.support.desk import Desk, button_data, press, register
from tests.support.outage import OUTAGE


async def surge(desk: Desk, texts: list[str], *, one_step: bool = True) -> list[dict[str, Any]]:
    """A customer per text writes it (all at once, or one round each); returns the people."""
    people = []
    for n, text in enumerate(texts):
        person = desk.emulator.add_user(f"Customer{n}", language_code="en")
        desk.emulator.user_sends_text(person, text)
        people.append(person)
        if not one_step:
            await desk.step()
    await desk.step()
    return people


async def tickets(desk: Desk) -> list[Any]:
    async with desk.uow_factory() as uow:
        found = []
        number = 1
        while (ticket := await uow.tickets.by_number(number)) is not None:
            found.append(ticket)
            number += 1
        return found


async def the_incident(desk: Desk) -> Any:
    async with desk.uow_factory() as uow:
        [incident] = await uow.incidents.open() or [await uow.incidents.by_number(1)]
        return incident


def incident_card(desk: Desk, incident: Any) -> dict[str, Any]:
    return desk.emulator.message(desk.group_id, incident.card_message_id)


class TestSurgeBecomesOneIncident:
    async def test_a_burst_of_similar_messages_opens_one_incident_topic_and_no_ticket_topics(
        self, desk: Desk
    ) -> None:
        people = await surge(desk, OUTAGE)
        incident = await the_incident(desk)
        all_tickets = await tickets(desk)
        assert len(all_tickets) == len(OUTAGE)
        assert {t.incident_id for t in all_tickets} == {incident.id}
        # The topics of the first tickets were still waiting when the incident formed: they
        # are never created; the group gets the incident's topic and card only.
        [topic] = desk.emulator.topics(desk.group_id)
        assert topic["name"].startswith("🚨 Incident 1")
        assert all(t.agent_thread_id is None for t in all_tickets)
        card = incident_card(desk, incident)
        assert f"Tickets: {len(OUTAGE)} ({len(OUTAGE)} active)" in card["text"]
        assert "The app does not open, it shows an error" in card["text"]  # the first
        assert "The app does not open again, error screen" in card["text"]  # the latest
        assert card["message_id"] in desk.emulator.pinned(desk.group_id)
        # Each customer still has their own ticket number, acknowledged at once.
        for person, ticket in zip(people, all_tickets, strict=True):
            assert f"ticket #{ticket.number}" in desk.texts_to(person)[-1]

    async def test_tickets_that_had_a_topic_keep_it_and_are_told(self, desk: Desk) -> None:
        await surge(desk, OUTAGE[:4], one_step=False)
        assert len(desk.emulator.topics(desk.group_id)) == 4  # no cluster yet: four topics
        await surge(desk, OUTAGE[4:])
        incident = await the_incident(desk)
        all_tickets = await tickets(desk)
        assert {t.incident_id for t in all_tickets} == {incident.id}
        assert len(desk.emulator.topics(desk.group_id)) == 5  # the incident's only
        for ticket in all_tickets[:4]:
            lines = [m.get("text", "") for m in desk.topic_messages(ticket.agent_thread_id)]
            assert any("part of incident 1" in line for line in lines)
        assert all(t.agent_thread_id is None for t in all_tickets[4:])

    async def test_a_dissimilar_message_during_the_surge_opens_a_normal_ticket(
        self, desk: Desk
    ) -> None:
        await surge(desk, OUTAGE[:6])
        [other] = await surge(desk, ["How do I change my delivery address?"])
        await surge(desk, OUTAGE[6:])
        all_tickets = await tickets(desk)
        loner = all_tickets[6]
        assert loner.subject == "How do I change my delivery address?"
        assert loner.incident_id is None
        assert loner.agent_thread_id is not None
        assert "ticket #7" in desk.texts_to(other)[-1]
        assert {t.incident_id for t in all_tickets if t.id != loner.id} == {1}
        assert len(desk.emulator.topics(desk.group_id)) == 2

    async def test_fewer_than_the_size_or_switched_off_makes_no_incident(self, desk: Desk) -> None:
        desk.emulator.user_sends_text(desk.admin, "/set incident_size off", chat_id=desk.group_id)
        await desk.step()
        await surge(desk, OUTAGE)
        assert {t.incident_id for t in await tickets(desk)} == {None}
        assert len(desk.emulator.topics(desk.group_id)) == len(OUTAGE)

    async def test_bad_settings_are_refused_with_a_reason(self, desk: Desk) -> None:
        for command, reason in [
            ("/set incident_size 1", "from 2 to 1000, or off"),
            ("/set incident_similarity 2", "from 0.05 to 0.95"),
            ("/set incident_similarity much", "a number such as 0.35"),
            ("/set incident_window soon", "use e.g. 10m, 30m or 1h"),
            ("/set incident_window 25h", "from 1 minute to 24 hours"),
        ]:
            desk.emulator.user_sends_text(desk.admin, command, chat_id=desk.group_id)
            await desk.step()
            [answer] = desk.emulator.messages_in(desk.group_id, from_bot=True)[-1:]
            assert reason in answer["text"], command

    async def test_a_follow_up_is_counted_on_the_card_not_copied(self, desk: Desk) -> None:
        people = await surge(desk, OUTAGE)
        incident = await the_incident(desk)
        sent_before = len(desk.emulator.messages_in(desk.group_id, from_bot=True))
        desk.emulator.user_sends_text(people[2], "any news? it still does not work")
        await desk.step()
        assert len(desk.emulator.messages_in(desk.group_id, from_bot=True)) == sent_before
        assert "Tickets: 8" in incident_card(desk, incident)["text"]


class TestBulkReply:
    async def test_a_message_in_the_incident_topic_reaches_every_linked_customer_once(
        self, desk: Desk
    ) -> None:
        people = await surge(desk, OUTAGE)
        incident = await the_incident(desk)
        text = "We know, the app is down; we are fixing it"
        desk.emulator.user_sends_text(
            desk.admin, text, chat_id=desk.group_id, thread_id=incident.thread_id
        )
        await desk.step()
        for person in people:
            assert desk.texts_to(person).count(text) == 1
        card = incident_card(desk, incident)
        assert f"Reply sent to {len(OUTAGE)}/{len(OUTAGE)}" in card["text"]
        all_tickets = await tickets(desk)
        assert {t.status for t in all_tickets} == {TicketStatus.WAITING}
        async with desk.uow_factory() as uow:
            for ticket in all_tickets:
                replies = [
                    m
                    for m in await uow.messages.for_ticket(ticket.id)
                    if m.direction is MessageDirection.AGENT
                ]
                assert [m.text for m in replies] == [text]
        # The same update processed again sends nothing more.
        desk.emulator.user_sends_text(
            desk.admin, "// checking the logs", chat_id=desk.group_id, thread_id=incident.thread_id
        )
        await desk.step()
        for person in people:
            assert "// checking the logs" not in desk.texts_to(person)
            assert desk.texts_to(person).count(text) == 1

    async def test_a_person_who_is_not_an_agent_reaches_nobody(self, desk: Desk) -> None:
        people = await surge(desk, OUTAGE)
        incident = await the_incident(desk)
        stranger = await register(desk, "Mallory", role=None)
        desk.emulator.user_sends_text(
            stranger, "hello all", chat_id=desk.group_id, thread_id=incident.thread_id
        )
        await desk.step()
        for person in people:
            assert "hello all" not in desk.texts_to(person)


class TestResolveSplitDetach:
    async def test_resolve_all_resolves_every_ticket_with_the_usual_notice(
        self, desk: Desk
    ) -> None:
        people = await surge(desk, OUTAGE)
        incident = await the_incident(desk)
        await press(desk, desk.admin, incident_card(desk, incident), "Resolve all")
        assert {t.status for t in await tickets(desk)} == {TicketStatus.RESOLVED}
        for person in people:
            [notice] = [m for m in desk.to_user(person) if "is resolved" in (m.get("text") or "")]
            assert "5 ⭐" in str(notice["reply_markup"])  # the rating buttons
        incident = await the_incident(desk)
        assert incident.status is IncidentStatus.RESOLVED
        card = incident_card(desk, incident)
        assert "resolved" in card["text"]
        assert not card.get("reply_markup", {}).get("inline_keyboard")
        [topic] = desk.emulator.topics(desk.group_id)
        assert topic.get("is_closed")

    async def test_split_gives_every_ticket_its_own_topic_and_card(self, desk: Desk) -> None:
        people = await surge(desk, OUTAGE)
        desk.emulator.user_sends_text(people[0], "still broken")
        await desk.step()
        incident = await the_incident(desk)
        await press(desk, desk.admin, incident_card(desk, incident), "Split")
        all_tickets = await tickets(desk)
        assert {t.incident_id for t in all_tickets} == {None}
        assert all(t.incident_detached for t in all_tickets)
        assert all(t.agent_thread_id and t.card_message_id for t in all_tickets)
        assert len(desk.emulator.topics(desk.group_id)) == 1 + len(OUTAGE)
        # What the first customer wrote meanwhile is shown in the new topic once.
        lines = [m.get("text", "") for m in desk.topic_messages(all_tickets[0].agent_thread_id)]
        assert sum("still broken" in line for line in lines) == 1
        assert (await the_incident(desk)).status is IncidentStatus.SPLIT
        # A new similar message now opens a ticket of its own (the split ones never rejoin).
        await surge(desk, OUTAGE[:1])
        assert (await tickets(desk))[-1].incident_id is None

    async def test_detach_by_button_and_by_command(self, desk: Desk) -> None:
        await surge(desk, OUTAGE)
        incident = await the_incident(desk)
        last = (await tickets(desk))[-1]
        await press(desk, desk.admin, incident_card(desk, incident), f"#{last.number}")
        desk.emulator.user_sends_text(
            desk.admin, "/detach 2", chat_id=desk.group_id, thread_id=incident.thread_id
        )
        await desk.step()
        all_tickets = await tickets(desk)
        detached = [t for t in all_tickets if t.incident_id is None]
        assert [t.number for t in detached] == [2, last.number]
        assert all(t.agent_thread_id for t in detached)
        assert f"Tickets: {len(OUTAGE) - 2}" in incident_card(desk, incident)["text"]
        # A reply in the incident's topic no longer reaches them.
        desk.emulator.user_sends_text(
            desk.admin, "Fixed soon", chat_id=desk.group_id, thread_id=incident.thread_id
        )
        await desk.step()
        assert {t.status for t in await tickets(desk) if t.incident_id} == {TicketStatus.WAITING}
        assert {t.status for t in await tickets(desk) if not t.incident_id} == {TicketStatus.NEW}

    async def test_detach_of_a_ticket_not_in_an_incident_is_refused(self, desk: Desk) -> None:
        await surge(desk, ["How do I change my delivery address?"])
        for args, reason in [("1", "is not linked to an incident"), ("x", "usage: /detach")]:
            desk.emulator.user_sends_text(desk.admin, f"/detach {args}", chat_id=desk.group_id)
            await desk.step()
            [answer] = desk.emulator.messages_in(desk.group_id, from_bot=True)[-1:]
            assert reason in answer["text"]


class TestAfterTheIncident:
    async def test_a_customer_reopening_gets_a_topic_of_their_own(self, desk: Desk) -> None:
        people = await surge(desk, OUTAGE)
        incident = await the_incident(desk)
        await press(desk, desk.admin, incident_card(desk, incident), "Resolve all")
        # One writes again (within the reopen window), another presses Reopen on the notice.
        desk.emulator.user_sends_text(people[0], "it is broken again")
        notice = [m for m in desk.to_user(people[1]) if "is resolved" in (m.get("text") or "")]
        await press(desk, people[1], notice[-1], "Reopen")
        await desk.step()
        first, second, *rest = await tickets(desk)
        for ticket in (first, second):
            assert ticket.status is TicketStatus.OPEN
            assert ticket.incident_id is None
            assert ticket.agent_thread_id is not None
            assert ticket.card_message_id is not None
        lines = [m.get("text", "") for m in desk.topic_messages(first.agent_thread_id)]
        assert any("it is broken again" in line for line in lines)
        assert all(t.status is TicketStatus.RESOLVED and t.incident_id for t in rest)
        # A reply in the old incident's topic is refused: the incident is over.
        desk.emulator.user_sends_text(
            desk.admin, "late reply", chat_id=desk.group_id, thread_id=incident.thread_id
        )
        await desk.step()
        assert all("late reply" not in desk.texts_to(p) for p in people)
        [answer] = desk.emulator.messages_in(desk.group_id, from_bot=True)[-1:]
        assert "resolved already" in answer["text"]


class TestPlainGroup:
    async def test_without_topics_the_card_stands_in_the_group_and_a_reply_to_it_reaches_all(
        self, plain_desk: Desk
    ) -> None:
        desk = plain_desk
        people = await surge(desk, OUTAGE)
        incident = await the_incident(desk)
        card = incident_card(desk, incident)
        assert "Incident 1" in card["text"]
        assert len([t for t in await tickets(desk) if t.card_message_id]) == 0
        desk.emulator.user_sends_text(
            desk.admin, "Fixing it", chat_id=desk.group_id, reply_to=card["message_id"]
        )
        await desk.step()
        for person in people:
            assert desk.texts_to(person).count("Fixing it") == 1


class TestTwoPresses:
    async def test_resolve_all_pressed_twice_resolves_once_and_explains(self, desk: Desk) -> None:
        people = await surge(desk, OUTAGE)
        incident = await the_incident(desk)
        card = incident_card(desk, incident)
        bob = await register(desk, "Bob")
        for agent in (desk.admin, bob):
            desk.emulator.user_presses(
                agent, desk.group_id, card["message_id"], button_data(card, "Resolve all")
            )
        await desk.step()
        for person in people:
            assert sum("is resolved" in t for t in desk.texts_to(person)) == 1
        answers = [
            c.params.get("text") or "" for c in desk.emulator.calls_of("answerCallbackQuery")
        ]
        assert any("Resolved: 8" in a for a in answers)
        assert any("resolved already" in a for a in answers)
