"""SLA in the bot: deadlines on the card, warnings and breaches once each, settings by command."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.services import sla
from models import Team
from tests.conftest import FixedClock
from tests.support.desk import Desk, card_of, make_desk

FRIDAY_1755 = datetime(2026, 3, 6, 17, 55, tzinfo=UTC)


async def scan(desk: Desk, clock: FixedClock) -> list[sla.Notice]:
    # One ticket per transaction: the job's batches are exercised, not only one big one.
    notices = await sla.scan_deadlines(
        desk.uow_factory, desk.presenter, "UTC", clock.now(), batch=1
    )
    await desk.step()
    return notices


async def test_friday_evening_ticket_warns_and_breaches_on_monday_once(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 3, 6, 12, 0, tzinfo=UTC))
    desk = await make_desk(tmp_path, clock=clock)
    try:
        emu = desk.emulator
        emu.user_sends_text(desk.admin, "/hours mon-fri 09:00-18:00")
        emu.user_sends_text(desk.admin, "/sla high 1h 4h 2d")
        await desk.step()
        assert "mon 09:00-18:00" in desk.to_user(desk.admin)[-2]["text"]
        clock.current = FRIDAY_1755
        ann = emu.add_user("Ann")
        emu.user_sends_text(ann, "the site is down")
        await desk.step()
        ticket = await desk.ticket(1)
        emu.user_sends_text(
            desk.admin, "/priority high", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        assert "First response due Mon 09.03 09:55" in card_of(desk, ticket)["text"]

        clock.current = datetime(2026, 3, 9, 9, 42, tzinfo=UTC)
        assert await scan(desk, clock) == []
        clock.current = datetime(2026, 3, 9, 9, 43, tzinfo=UTC)  # 48 of 60 minutes used
        [warning] = await scan(desk, clock)
        assert (warning.kind, warning.level) == ("first_response", "warning")
        assert await scan(desk, clock) == []
        clock.current = datetime(2026, 3, 9, 9, 55, tzinfo=UTC)
        [breach] = await scan(desk, clock)
        assert breach.level == "breach"
        assert await scan(desk, clock) == []
        texts = [m.get("text") or "" for m in desk.topic_messages(ticket.agent_thread_id)]
        assert sum("80% of the time" in t for t in texts) == 1
        assert sum("SLA breached: First response was due" in t for t in texts) == 1
        assert "SLA breached" in card_of(desk, await desk.ticket(1))["text"]
    finally:
        await desk.close()

    # A restart (a new process on the same database) announces nothing again.
    again = await make_desk(tmp_path, clock=clock)
    try:
        assert await scan(again, clock) == []
    finally:
        await again.close()


async def test_waiting_for_the_customer_pauses_the_clock(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))  # Monday, 24/7 calendar
    desk = await make_desk(tmp_path, clock=clock)
    try:
        emu = desk.emulator
        ann = emu.add_user("Ann")
        emu.user_sends_text(ann, "help")
        await desk.step()
        ticket = await desk.ticket(1)
        emu.user_sends_text(
            desk.admin, "/status on hold", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        clock.advance(hours=10)  # far past the 4 h first-response target, but on hold
        assert await scan(desk, clock) == []
        emu.user_sends_text(
            desk.admin, "/status open", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        clock.advance(hours=3)
        assert await scan(desk, clock) == []  # 3 of 4 h used: the 10 h on hold do not count
        clock.advance(minutes=30)
        assert [n.level for n in await scan(desk, clock)] == ["warning"]  # 3.5 of 4 h
    finally:
        await desk.close()


async def test_sla_settings_are_validated_and_admin_only(desk: Desk) -> None:
    emu = desk.emulator
    greg = emu.add_user("Greg")
    emu.add_member(desk.group_id, greg)
    emu.user_sends_text(desk.admin, f"/agent add {greg['id']} supervisor", chat_id=desk.group_id)
    await desk.step()
    emu.user_sends_text(greg, "/sla", chat_id=desk.group_id)
    emu.user_sends_text(greg, "/sla high 1h 1h 1h", chat_id=desk.group_id)
    emu.user_sends_text(desk.admin, "/sla high soon 1h 1h", chat_id=desk.group_id)
    emu.user_sends_text(desk.admin, "/hours mon-fri 18:00-09:00", chat_id=desk.group_id)
    emu.user_sends_text(desk.admin, "/holiday add 2026-13-01", chat_id=desk.group_id)
    emu.user_sends_text(desk.admin, "/holiday add 2026-12-31", chat_id=desk.group_id)
    await desk.step()
    texts = [m.get("text") or "" for m in emu.messages_in(desk.group_id)][-6:]
    assert "SLA targets" in texts[0]
    assert "This needs the admin role" in texts[1]
    assert "bad duration" in texts[2]
    assert "end must be after" in texts[3]
    assert "expected a date" in texts[4]
    assert "2026-12-31" in texts[5]


async def test_a_team_keeps_its_own_hours(tmp_path: Path) -> None:
    clock = FixedClock(FRIDAY_1755)
    desk = await make_desk(tmp_path, clock=clock)
    try:
        emu = desk.emulator
        async with desk.uow_factory() as uow:
            await uow.teams.add(Team(name="Night"))
            await uow.commit()
        emu.user_sends_text(desk.admin, "/hours mon-fri 09:00-18:00")
        emu.user_sends_text(desk.admin, "/hours team Night 24/7")
        emu.user_sends_text(desk.admin, "/sla high 1h 4h 2d")
        await desk.step()
        assert "night: 24/7" in desk.to_user(desk.admin)[-1]["text"]
        ann = emu.add_user("Ann")
        emu.user_sends_text(ann, "urgent thing")
        await desk.step()
        ticket = await desk.ticket(1)
        thread = ticket.agent_thread_id
        emu.user_sends_text(desk.admin, "/priority high", chat_id=desk.group_id, thread_id=thread)
        emu.user_sends_text(desk.admin, "/team Night", chat_id=desk.group_id, thread_id=thread)
        await desk.step()
        assert "First response due Fri 06.03 18:55" in card_of(desk, ticket)["text"]
    finally:
        await desk.close()
