"""SLA end to end: resolve -> rating buttons -> rating on the card; auto-close closes the topic."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.desk import button_data

pytestmark = pytest.mark.e2e


async def test_rating_then_auto_close(bot_factory: Any) -> None:
    run = await bot_factory(
        forum=True,
        HELPDESK_AUTO_CLOSE_DAYS="0.00003",  # about 2.6 s
        HELPDESK_AUTOMATION_SECONDS="1",
    )
    emu = run.emulator
    try:
        ann = emu.add_user("Ann")
        emu.user_sends_text(ann, "the app crashes on start")
        await run.wait(lambda: run.ticket_topics(), "ticket topic", 60)
        thread = run.ticket_topics()[0]["message_thread_id"]

        def card() -> dict[str, Any]:
            return next(
                m
                for m in emu.messages_in(run.group_id, thread, from_bot=True)
                if "🎫" in (m.get("text") or "")
            )

        await run.wait(
            lambda: any(
                "🎫" in (m.get("text") or "") for m in emu.messages_in(run.group_id, thread)
            ),
            "card",
        )
        emu.user_presses(
            run.admin, run.group_id, card()["message_id"], button_data(card(), "Resolve")
        )
        await run.wait(
            lambda: any("Rate the help" in t for t in run.texts_to(ann)), "rating buttons"
        )
        notice = next(
            m
            for m in emu.messages_in(ann["id"], from_bot=True)
            if "Rate the help" in (m.get("text") or "")
        )
        emu.user_presses(ann, ann["id"], notice["message_id"], button_data(notice, "5 ⭐"))
        await run.wait(lambda: "Customer rating: 5/5" in card()["text"], "rating on the card")
        await run.wait(
            lambda: emu.topic(run.group_id, thread)["is_closed"], "auto-closed topic", 30
        )
        await run.wait(lambda: any("is closed" in t for t in run.texts_to(ann)), "closed notice")
        assert await run.process.terminate() == 0
    finally:
        if run.process.running:
            await run.process.terminate(timeout=10)
        await emu.stop()
