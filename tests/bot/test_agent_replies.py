"""An agent's reply reaches the customer whole, whatever the desk appends to it."""

from __future__ import annotations

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
