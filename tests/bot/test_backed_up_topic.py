"""A topic whose queue backed up gets the customer's waiting texts joined into one message:
one group call instead of one each, nothing lost, nothing reordered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from models.delivery import OutboxStatus
from storage.orm import OutboxRecord
from tests.support.desk import Desk, customer_texts, open_ticket

TEXTS = ["it started at noon", "the app says <error 42> & quits", "still broken"]


async def write_while_the_group_is_behind(desk: Desk, behind: timedelta) -> int:
    """Ann (ticket #1) writes the texts, a photo and one more text; the group's calls have
    waited ``behind`` when the sender gets to them. Returns the topic's thread id."""
    ann, ticket = await open_ticket(desk)
    for text in TEXTS:
        desk.emulator.user_sends_text(ann, text)
    desk.emulator.user_sends_media(ann, "photo", caption="the screen")
    desk.emulator.user_sends_text(ann, "after the photo")
    await desk.step(drain=False)
    async with desk.uow_factory() as uow:
        await uow.session.execute(
            update(OutboxRecord)
            .where(OutboxRecord.status == str(OutboxStatus.PENDING))
            .values(created_at=datetime.now(UTC) - behind)
        )
        await uow.commit()
    await desk.step()
    return int(ticket.agent_thread_id)


async def test_waiting_texts_of_one_ticket_go_out_as_one_message_in_order(desk: Desk) -> None:
    thread = await write_while_the_group_is_behind(desk, timedelta(minutes=1))

    shown = [m for m in desk.topic_messages(thread) if m.get("from", {}).get("is_bot")]
    joined = [m for m in shown if "joined while this group was behind" in m.get("text", "")]
    assert len(joined) == 1
    lines = joined[0]["text"].splitlines()
    assert lines[0] == "💬 3 messages, joined while this group was behind:"
    assert customer_texts(joined[0]) == TEXTS  # in order, as written
    # The photo keeps its place after them, and the text after the photo is a copy of its own.
    after = shown[shown.index(joined[0]) + 1 :]
    assert after[0].get("caption") == "the screen"
    assert after[1].get("text") == "after the photo"
    async with desk.uow_factory() as uow:
        ticket = await uow.tickets.by_number(1)
        stored = await uow.messages.for_ticket(ticket.id)
        statuses = (await uow.outbox.stats(desk.settings_now()))["pending"]
    assert statuses == 0
    by_text = {m.text: m for m in stored}
    assert by_text[TEXTS[0]].agent_message_id == joined[0]["message_id"]  # replies route here
    assert all(by_text[t].agent_thread_id == thread for t in TEXTS)


async def test_a_topic_that_is_not_behind_gets_each_text_as_it_was_sent(desk: Desk) -> None:
    thread = await write_while_the_group_is_behind(desk, timedelta(0))

    texts = [m.get("text") for m in desk.topic_messages(thread)]
    assert not any("joined" in (t or "") for t in texts)
    for text in [*TEXTS, "after the photo"]:
        assert texts.count(text) == 1
