"""/health and /failed for admins; everyone else falls through to the normal handlers."""

from __future__ import annotations

from tests.support.desk import Desk


async def test_admin_sees_queues_in_a_private_chat(desk: Desk) -> None:
    emu = desk.emulator
    ann = emu.add_user("Ann")
    emu.user_sends_text(ann, "help me")
    await desk.step()
    emu.user_sends_text(desk.admin, "/health")
    await desk.step()
    text = desk.to_user(desk.admin)[-1]["text"]
    assert "Health" in text
    assert "Inbox: 1 pending" in text  # the /health update itself
    assert "Outbox: 0 pending" in text
    assert "0 failed" in text


async def test_failed_lists_undelivered_calls_with_their_reason(desk: Desk) -> None:
    emu = desk.emulator
    ann = emu.add_user("Ann")
    emu.user_sends_text(ann, "help me")
    await desk.step()
    async with desk.uow_factory() as uow:
        ticket = await uow.tickets.by_number(1)
    emu.block_bot(ann)
    emu.user_sends_text(
        desk.admin, "hello?", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
    )
    await desk.step()
    emu.user_sends_text(desk.admin, "/failed", chat_id=desk.group_id)
    await desk.step()
    text = emu.messages_in(desk.group_id)[-1]["text"]
    assert "copyMessage" in text
    assert "blocked" in text
    emu.user_sends_text(desk.admin, "/health", chat_id=desk.group_id)
    await desk.step()
    assert "1 failed" in emu.messages_in(desk.group_id)[-1]["text"]


async def test_customer_typing_health_is_pointed_to_help(desk: Desk) -> None:
    emu = desk.emulator
    ann = emu.add_user("Ann")
    emu.user_sends_text(ann, "/health")
    await desk.step()
    assert not any("Health" in t for t in desk.texts_to(ann))
    assert desk.texts_to(ann)[-1].startswith("I do not know this command.")
    assert await desk.ticket(1) is None


async def test_agent_who_is_not_admin_gets_no_health(desk: Desk) -> None:
    emu = desk.emulator
    greg = emu.add_user("Greg")
    emu.add_member(desk.group_id, greg)
    emu.user_sends_text(desk.admin, f"/agent add {greg['id']}", chat_id=desk.group_id)
    await desk.step()
    emu.user_sends_text(greg, "/health", chat_id=desk.group_id)
    await desk.step()
    assert not any("Health" in (m.get("text") or "") for m in emu.messages_in(desk.group_id))
