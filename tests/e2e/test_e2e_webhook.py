"""Webhook mode end to end: Telegram posts updates to the bot; they are stored before the 200."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.support.net import free_port

pytestmark = pytest.mark.e2e

SECRET = "a-secret-token-for-the-tests_0123"


async def test_webhook_mode_serves_the_conversation(bot_factory: Any) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    run = await bot_factory(
        webhook=True,
        HELPDESK_TELEGRAM_WEBHOOK_URL=url,
        HELPDESK_TELEGRAM_WEBHOOK_SECRET=SECRET,
        HELPDESK_TELEGRAM_WEBHOOK_HOST="127.0.0.1",
        HELPDESK_TELEGRAM_WEBHOOK_PORT=str(port),
    )
    emu = run.emulator
    try:
        assert emu.webhook is not None
        assert emu.webhook["url"] == url
        assert emu.webhook["secret_token"] == SECRET
        assert not emu.calls_of("getUpdates")

        ann = emu.add_user("Ann")
        emu.user_sends_text(ann, "My parcel never arrived")
        await run.wait(lambda: run.ticket_topics(), "a ticket topic", 60)
        thread = run.ticket_topics()[0]["message_thread_id"]
        emu.user_sends_text(
            run.admin, "Sorry! It ships today.", chat_id=run.group_id, thread_id=thread
        )
        await run.wait(lambda: "Sorry! It ships today." in run.texts_to(ann), "the reply")

        # Requests without the secret are refused and store nothing.
        async with aiohttp.ClientSession() as http:
            forged = {"update_id": 999999, "message": {"message_id": 1}}
            async with http.post(url, json=forged) as response:
                assert response.status == 403
            async with http.post(
                url, data="nonsense", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            ) as response:
                assert response.status == 400
        statuses = [status for _, status in emu.webhook_attempts]
        assert statuses
        assert all(s == 200 for s in statuses)
        assert len(statuses) == len({uid for uid, _ in emu.webhook_attempts})  # each once
    finally:
        await run.process.terminate(timeout=10)
        await emu.stop()
