"""The real bot process against the emulator, with Telegram's group limit (20 messages a
minute): a surge of similar messages becomes one incident, one reply in its topic reaches every
customer once, and resolving the incident resolves every ticket."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Running
from tests.support.desk import button_data
from tests.support.outage import OUTAGE

pytestmark = pytest.mark.e2e


def incident_topics(run: Running) -> list[dict[str, Any]]:
    return [t for t in run.emulator.topics(run.group_id) if t["name"].startswith("🚨")]


def incident_card(run: Running, thread: int) -> dict[str, Any] | None:
    for message in run.emulator.messages_in(run.group_id, thread, from_bot=True):
        if "🚨" in (message.get("text") or ""):
            return message
    return None


async def surge_into_incident(
    run: Running, texts: list[str], seconds: float = 60
) -> tuple[list[dict[str, Any]], int]:
    """A customer per text writes it; once each has their ticket number and the incident's
    card counts them all, returns the customers and the incident's topic."""
    emu = run.emulator
    people = [emu.add_user(f"Customer{n}", language_code="en") for n in range(len(texts))]
    for person, text in zip(people, texts, strict=True):
        emu.user_sends_text(person, text)
    await run.wait(
        lambda: all(any("ticket #" in t for t in run.texts_to(p)) for p in people),
        "every customer has their ticket number",
        seconds=seconds,
    )
    await run.wait(lambda: incident_topics(run), "the incident's topic", seconds=seconds)
    [topic] = incident_topics(run)
    thread = int(topic["message_thread_id"])
    await run.wait(
        lambda: f"Tickets: {len(texts)} " in ((incident_card(run, thread) or {}).get("text", "")),
        "the card counts every ticket",
        seconds=seconds,
    )
    return people, thread


async def test_a_surge_becomes_one_incident_answered_and_resolved_at_once(
    bot_factory: Any,
) -> None:
    run: Running = await bot_factory(forum=True, HELPDESK_RATE_GROUP_PER_MIN="20")
    emu = run.emulator
    people, thread = await surge_into_incident(run, OUTAGE)
    # Tickets that got a topic before the cluster was complete keep it (with a line saying they
    # are part of the incident); those whose topic still waited for the group's budget, and all
    # later ones, get none.
    early = run.ticket_topics()
    assert len(early) < 5  # the default incident_size
    for t in early:
        await run.wait(
            lambda t=t: any(
                "part of incident 1" in (m.get("text") or "")
                for m in emu.messages_in(run.group_id, t["message_thread_id"], from_bot=True)
            ),
            "the early topics are told",
            seconds=60,
        )

    reply = "We know: the app is down, a fix is on its way"
    emu.user_sends_text(run.admin, reply, chat_id=run.group_id, thread_id=thread)
    await run.wait(
        lambda: all(reply in run.texts_to(p) for p in people), "the reply reached everyone"
    )
    await run.wait(
        lambda: (
            f"Reply sent to {len(OUTAGE)}/{len(OUTAGE)}"
            in ((incident_card(run, thread) or {}).get("text", ""))
        ),
        "the card shows the reply's progress",
        seconds=60,
    )
    card = incident_card(run, thread)
    assert card is not None
    emu.user_presses(run.admin, run.group_id, card["message_id"], button_data(card, "Resolve all"))
    await run.wait(
        lambda: all(any("is resolved" in t for t in run.texts_to(p)) for p in people),
        "every customer has the resolved notice",
        seconds=30,
    )
    await run.wait(
        lambda: emu.topic(run.group_id, thread).get("is_closed"), "topic closed", seconds=60
    )
    for person in people:
        assert run.texts_to(person).count(reply) == 1
    assert await run.process.terminate() == 0


@pytest.mark.timeout(480)
async def test_split_returns_every_ticket_to_a_topic_of_its_own(bot_factory: Any) -> None:
    """With Telegram's group limit: splitting costs each ticket its topic, card and pin, paced
    at 20 calls a minute."""
    run: Running = await bot_factory(forum=True, HELPDESK_RATE_GROUP_PER_MIN="20")
    emu = run.emulator
    _people, thread = await surge_into_incident(run, OUTAGE, seconds=240)
    card = incident_card(run, thread)
    assert card is not None
    emu.user_presses(run.admin, run.group_id, card["message_id"], button_data(card, "Split"))
    await run.wait(
        lambda: len(run.ticket_topics()) == len(OUTAGE), "a topic for every ticket", seconds=240
    )
    await run.wait(
        lambda: emu.topic(run.group_id, thread).get("is_closed"), "topic closed", seconds=240
    )
    # Each ticket's topic has its card; each customer's message is there once.
    for topic_of_ticket, text in zip(
        sorted(run.ticket_topics(), key=lambda t: int(t["name"][1:].split(" ")[0])),
        OUTAGE,
        strict=True,
    ):
        await run.wait(
            lambda t=topic_of_ticket: any(
                "🎫" in (m.get("text") or "")
                for m in emu.messages_in(run.group_id, t["message_thread_id"], from_bot=True)
            ),
            "the ticket's card",
            seconds=240,
        )
        assert text[:20] in topic_of_ticket["name"]
    # The split ones never rejoin: a new similar message opens a ticket of its own.
    late = emu.add_user("Late", language_code="en")
    emu.user_sends_text(late, OUTAGE[0])
    await run.wait(
        lambda: len(run.ticket_topics()) == len(OUTAGE) + 1, "the new ticket's topic", seconds=240
    )
    assert len(incident_topics(run)) == 1
    assert await run.process.terminate() == 0
