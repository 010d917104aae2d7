"""/health and /failed for admins; everyone else falls through to the normal handlers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.services.health import warn_if_behind
from models.delivery import OutboundCall
from models.mail import MAIL_MAX_ATTEMPTS
from tests.support.desk import Desk

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


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


async def test_a_parked_mail_shows_in_failed_and_health(desk: Desk) -> None:
    """A mail the email channel gave up on is listed with its error; a desk without parked
    mails shows no mail section at all."""
    emu = desk.emulator
    emu.user_sends_text(desk.admin, "/failed", chat_id=desk.group_id)
    await desk.step()
    assert "Parked mails" not in emu.messages_in(desk.group_id)[-1]["text"]
    async with desk.uow_factory() as uow:
        stored = await uow.mail.store("<lost@example.com>", b"Subject: x\r\n\r\nx", NOW)
        for _ in range(MAIL_MAX_ATTEMPTS):
            await uow.mail.failed(stored.id, "KeyError: 'charset'")
        await uow.commit()
    emu.user_sends_text(desk.admin, "/failed", chat_id=desk.group_id)
    await desk.step()
    text = emu.messages_in(desk.group_id)[-1]["text"]
    assert "Parked mails" in text
    assert f"<lost@example.com> × {MAIL_MAX_ATTEMPTS}: KeyError: 'charset'" in text
    emu.user_sends_text(desk.admin, "/health", chat_id=desk.group_id)
    await desk.step()
    assert "Mail: 0 waiting, 1 parked" in emu.messages_in(desk.group_id)[-1]["text"]


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


async def queue_for_the_group(desk: Desk, count: int, queued_at: datetime) -> None:
    """``count`` calls to the agents' group, waiting since ``queued_at``."""
    async with desk.uow_factory() as uow:
        for i in range(count):
            params = {"chat_id": desk.group_id, "text": f"queued {i}"}
            await uow.outbox.add(OutboundCall(desk.group_id, "sendMessage", params), queued_at)
        await uow.commit()


async def test_health_shows_how_far_behind_the_agents_group_is(desk: Desk) -> None:
    await queue_for_the_group(desk, 5, datetime.now(UTC) - timedelta(minutes=3))
    desk.emulator.user_sends_text(desk.admin, "/health")
    await desk.step()  # /health answers while processing, before the outbox drains
    text = desk.to_user(desk.admin)[-1]["text"]
    found = re.search(r"Agents' group: 5 waiting \(oldest (\d+) s\)", text)
    assert found, text
    assert 180 <= int(found.group(1)) < 240


async def test_a_group_far_behind_hears_it_once_a_quarter_hour_ahead_of_its_queue(
    desk: Desk,
) -> None:
    now = datetime.now(UTC)
    await queue_for_the_group(desk, 5, now - timedelta(minutes=3))

    async def warn(at: datetime) -> bool:
        async with desk.uow_factory() as uow:
            return await warn_if_behind(uow, desk.presenter, desk.group_id, at)

    assert await warn(now)
    assert not await warn(now + timedelta(minutes=14))  # once per quarter hour at most
    await desk.step()
    texts = [m.get("text", "") for m in desk.emulator.messages_in(desk.group_id, from_bot=True)]
    assert texts[0].startswith("⏳ This group is about 3 minutes behind")
    assert "5 are waiting" in texts[0]
    assert texts[1:] == [f"queued {i}" for i in range(5)]  # the notice went ahead of them
    # Drained: nothing to say, even after the quarter hour.
    assert not await warn(now + timedelta(minutes=16))


async def test_the_delay_notice_follows_its_setting(desk: Desk) -> None:
    now = datetime.now(UTC)
    await queue_for_the_group(desk, 2, now - timedelta(minutes=3))
    desk.emulator.user_sends_text(desk.admin, "/set group_delay_notice 5m")
    await desk.step(ignore_delays=False)
    await queue_for_the_group(desk, 2, now - timedelta(minutes=3))
    async with desk.uow_factory() as uow:
        assert not await warn_if_behind(uow, desk.presenter, desk.group_id, now)  # 3 < 5 min
        assert await warn_if_behind(uow, desk.presenter, desk.group_id, now + timedelta(minutes=3))
    desk.emulator.user_sends_text(desk.admin, "/set group_delay_notice 0")
    await desk.step()
    await queue_for_the_group(desk, 2, now - timedelta(hours=1))
    async with desk.uow_factory() as uow:
        later = now + timedelta(hours=1)
        assert not await warn_if_behind(uow, desk.presenter, desk.group_id, later)
