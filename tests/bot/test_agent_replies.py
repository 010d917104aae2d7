"""An agent's reply reaches the customer whole, whatever the desk appends to it."""

from __future__ import annotations

from datetime import UTC, datetime

from models import Category
from models.delivery import OutboundCall
from tests.support.desk import Desk, open_ticket


async def test_a_full_length_reply_with_a_signature_arrives_whole(desk: Desk) -> None:
    ann, ticket = await open_ticket(desk)
    thread = ticket.agent_thread_id
    emu = desk.emulator
    emu.user_sends_text(desk.admin, "/set sign_replies on", chat_id=desk.group_id)
    await desk.step()
    reply = ("Line of the answer & more. " * 160)[:4096]
    emu.user_sends_text(desk.admin, reply, chat_id=desk.group_id, thread_id=thread)
    await desk.step()
    refused = [c for c in emu.calls if c.status and c.status >= 400]
    assert refused == []
    parts = desk.texts_to(ann)[-2:]
    assert all(len(p) <= 4096 for p in parts)

    def squash(text: str) -> str:
        return "".join(text.split())

    assert squash("".join(parts)) == squash(reply + "— Alice")


async def test_a_category_correction_renames_the_topic(desk: Desk) -> None:
    async with desk.uow_factory() as uow:
        await uow.categories.add(Category(key="delivery", title="Delivery"))
        await uow.commit()
    _ann, ticket = await open_ticket(desk, text="Where is my parcel?")
    thread = ticket.agent_thread_id
    desk.emulator.user_sends_text(
        desk.admin, "/category delivery", chat_id=desk.group_id, thread_id=thread
    )
    await desk.step()
    name = desk.emulator.topic(desk.group_id, thread)["name"]
    assert name.startswith(f"#{ticket.number} · delivery · ")


async def test_an_edit_that_changes_nothing_is_an_outcome_not_a_failure(desk: Desk) -> None:
    _ann, ticket = await open_ticket(desk)
    async with desk.uow_factory() as uow:
        ticket = await uow.tickets.get(ticket.id)
        # The topic already has this name: Telegram answers TOPIC_NOT_MODIFIED.
        for call in desk.presenter.topic_renamed(ticket) + desk.presenter.card_changed(ticket):
            await uow.outbox.add(call, datetime.now(UTC))
        await uow.commit()
    await desk.step()
    refused = {c.response["description"] for c in desk.emulator.calls if c.status == 400}
    assert any("TOPIC_NOT_MODIFIED" in r for r in refused)
    assert desk.sender.errors["bad_request"] == 0
    async with desk.uow_factory() as uow:
        assert await uow.outbox.failed() == []


async def test_a_refused_acknowledgement_is_not_a_failed_call(desk: Desk) -> None:
    """The command message an agent's reaction was for is gone: nothing to report."""
    async with desk.uow_factory() as uow:
        call = OutboundCall(
            desk.group_id,
            "setMessageReaction",
            {
                "chat_id": desk.group_id,
                "message_id": 987654,  # no such message
                "reaction": [{"type": "emoji", "emoji": "👌"}],
            },
        )
        await uow.outbox.add(call, datetime.now(UTC))
        await uow.commit()
    await desk.step()
    refused = [c for c in desk.emulator.calls if c.method == "setMessageReaction"]
    assert [c.status for c in refused] == [400]
    assert desk.sender.errors["bad_request"] == 0
    async with desk.uow_factory() as uow:
        assert await uow.outbox.failed() == []
        assert (await uow.outbox.stats(datetime.now(UTC)))["pending"] == 0
