"""One outage told in words that share little: each way of putting it forms a cluster, and a
second cluster of the same category joins the open incident, so one reply reaches everybody
(in-process, through the real Dispatcher, inbox, outbox and Sender)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.services.triage_port import TriageVerdict
from models import Priority
from tests.bot.test_incidents import surge, tickets
from tests.support.desk import Desk, GeneralTriage, make_desk
from tests.support.outage import LOGIN_OUTAGE, LOGIN_OUTAGE_OTHER_WORDS

DELIVERY = [
    "Where is my parcel? The delivery is late",
    "My delivery is late, where is the parcel",
    "The parcel delivery is late again",
    "Delivery of my parcel is late, please check",
    "Late delivery: where is my parcel?",
]


class KeywordTriage(GeneralTriage):
    """Login and app troubles are technical, parcels are delivery; "unsure" is not sure."""

    async def classify(self, text: str) -> TriageVerdict:
        lowered = text.lower()
        category = "delivery" if "parcel" in lowered else "technical"
        return TriageVerdict(category, None, Priority.NORMAL, 0.9, needs_human="unsure" in lowered)


@pytest.fixture
async def keyword_desk(tmp_path: Path) -> AsyncIterator[Desk]:
    d = await make_desk(tmp_path, triage=KeywordTriage())
    yield d
    await d.close()


def incident_topics(desk: Desk) -> list[dict[str, object]]:
    return [t for t in desk.emulator.topics(desk.group_id) if str(t["name"]).startswith("🚨")]


async def test_a_second_cluster_of_the_same_category_joins_the_open_incident(
    keyword_desk: Desk,
) -> None:
    desk = keyword_desk
    await surge(desk, LOGIN_OUTAGE * 2)
    await surge(desk, [f"{LOGIN_OUTAGE_OTHER_WORDS} ({n})" for n in range(6)], one_step=False)
    all_tickets = await tickets(desk)
    assert len(all_tickets) == 14
    assert {t.incident_id for t in all_tickets} == {1}
    [topic] = incident_topics(desk)
    lines = [m.get("text", "") for m in desk.topic_messages(topic["message_thread_id"])]
    [joined] = [line for line in lines if line.startswith("🔗")]
    assert "5 more tickets of the same category joined this incident" in joined
    assert LOGIN_OUTAGE_OTHER_WORDS in joined
    # The second cluster's customers wrote one step apart: the first four got topics before
    # the fifth completed the cluster, and each topic says the ticket is part of the incident
    # now. The fifth and the sixth never got one (the sixth joined at once: its way of putting
    # it is among the incident's tickets now).
    for ticket in all_tickets[8:12]:
        assert ticket.agent_thread_id is not None
        own = [m.get("text", "") for m in desk.topic_messages(ticket.agent_thread_id)]
        assert any("part of incident 1" in line for line in own)
    assert [t.agent_thread_id for t in all_tickets[12:]] == [None, None]


async def test_another_category_or_a_guess_opens_an_incident_of_its_own(
    keyword_desk: Desk,
) -> None:
    desk = keyword_desk
    await surge(desk, LOGIN_OUTAGE * 2)
    await surge(desk, DELIVERY)
    await surge(desk, [f"unsure: {LOGIN_OUTAGE_OTHER_WORDS} ({n})" for n in range(5)])
    by_incident: dict[int | None, int] = {}
    for ticket in await tickets(desk):
        by_incident[ticket.incident_id] = by_incident.get(ticket.incident_id, 0) + 1
    assert by_incident == {1: 8, 2: 5, 3: 5}
    assert len(incident_topics(desk)) == 3
