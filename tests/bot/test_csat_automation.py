"""CSAT after resolution, and the automations (reminder, auto-resolve, auto-close, digest)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.callbacks import RatingCb
from bot.services.automation import AutomationRules, automate, send_digest
from models import TicketStatus
from tests.conftest import FixedClock
from tests.support.desk import Desk, card_of, make_desk, press


async def resolved_ticket(desk: Desk):
    ann = desk.emulator.add_user("Ann")
    desk.emulator.user_sends_text(ann, "broken")
    await desk.step()
    ticket = await desk.ticket(1)
    await press(desk, desk.admin, card_of(desk, ticket), "Resolve")
    return ann, ticket


class TestCsat:
    async def test_rating_is_stored_once_and_shown_on_the_card(self, desk: Desk) -> None:
        ann, ticket = await resolved_ticket(desk)
        notice = desk.to_user(ann)[-1]
        assert "Rate the help" in notice["text"]
        await press(desk, ann, notice, "4 ⭐")
        assert "4/5" in desk.texts_to(ann)[-1]
        assert "Customer rating: 4/5" in card_of(desk, await desk.ticket(1))["text"]
        query = desk.emulator.user_presses(
            ann, ann["id"], notice["message_id"], RatingCb(t=ticket.id, s=1).pack()
        )
        await desk.step()
        assert "rated already" in desk.emulator.callback_answer(query["id"])["text"]
        async with desk.uow_factory() as uow:
            assert (await uow.ratings.for_ticket(ticket.id)).score == 4

    async def test_a_reply_to_the_thanks_is_the_comment_and_does_not_reopen(
        self, desk: Desk
    ) -> None:
        ann, _ticket = await resolved_ticket(desk)
        await press(desk, ann, desk.to_user(ann)[-1], "5 ⭐")
        thanks = desk.to_user(ann)[-1]
        desk.emulator.user_sends_text(ann, "Fast and kind, thanks!", reply_to=thanks["message_id"])
        await desk.step()
        after = await desk.ticket(1)
        assert after.status is TicketStatus.RESOLVED
        assert "Fast and kind, thanks!" in card_of(desk, after)["text"]
        assert "passed your comment on" in desk.texts_to(ann)[-1]

    async def test_an_open_ticket_cannot_be_rated(self, desk: Desk) -> None:
        ann = desk.emulator.add_user("Ann")
        desk.emulator.user_sends_text(ann, "broken")
        await desk.step()
        ticket = await desk.ticket(1)
        hello = desk.to_user(ann)[-1]
        query = desk.emulator.user_presses(
            ann,
            ann["id"],
            hello["message_id"],
            RatingCb(t=ticket.id, s=5).pack(),
            check_button=False,
        )
        await desk.step()
        assert "not resolved yet" in desk.emulator.callback_answer(query["id"])["text"]


async def test_reminder_then_auto_resolve_then_auto_close(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    desk = await make_desk(tmp_path, clock=clock)
    rules = AutomationRules(timedelta(hours=24), timedelta(hours=72), timedelta(days=7))

    async def run() -> tuple[int, int, int]:
        # One ticket per transaction, as the job goes through a big desk.
        report = await automate(desk.uow_factory, desk.presenter, rules, clock.now(), batch=1)
        await desk.step()
        return report.reminded, report.resolved, report.closed

    try:
        ann = desk.emulator.add_user("Ann")
        desk.emulator.user_sends_text(ann, "broken")
        await desk.step()
        ticket = await desk.ticket(1)
        desk.emulator.user_sends_text(
            desk.admin, "Which browser?", chat_id=desk.group_id, thread_id=ticket.agent_thread_id
        )
        await desk.step()
        assert (await desk.ticket(1)).status is TicketStatus.WAITING
        clock.advance(hours=23)
        assert await run() == (0, 0, 0)
        clock.advance(hours=2)
        assert await run() == (1, 0, 0)
        assert "still waiting for your answer" in desk.texts_to(ann)[-1]
        assert await run() == (0, 0, 0)  # reminded once per waiting period
        clock.advance(hours=48)
        assert await run() == (0, 1, 0)
        assert (await desk.ticket(1)).status is TicketStatus.RESOLVED
        assert "is resolved" in desk.texts_to(ann)[-1]
        clock.advance(days=7)
        assert await run() == (0, 0, 1)
        assert (await desk.ticket(1)).status is TicketStatus.CLOSED
        assert desk.emulator.topic(desk.group_id, ticket.agent_thread_id)["is_closed"]
    finally:
        await desk.close()


async def test_digest_counts_by_team(desk: Desk) -> None:
    for name in ("Ann", "Bob"):
        person = desk.emulator.add_user(name)
        desk.emulator.user_sends_text(person, f"{name} needs help")
    await desk.step()
    async with desk.uow_factory() as uow:
        await send_digest(uow, desk.presenter, datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    await desk.step()
    text = desk.emulator.messages_in(desk.group_id)[-1]["text"]
    assert "Daily digest" in text
    assert "—: 2 new, 0 open, 0 overdue, 0 not sure" in text
