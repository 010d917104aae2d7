"""Faults and limits reach aiogram as the exceptions Telegram's answers would cause."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    ClientDecodeError,
    RestartingTelegram,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from bot.sandbox.emulator import BotApiEmulator
from tests.support.session import make_bot

Api = tuple[BotApiEmulator, Bot]


def texts(emulator: BotApiEmulator, chat_id: int) -> list[str]:
    return [m["text"] for m in emulator.messages_in(chat_id, from_bot=True)]


class TestInjectedFaults:
    async def test_429_is_retry_after_with_the_injected_delay(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        emulator.inject_fault("429", retry_after=7)

        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(alice["id"], "hi")

        assert caught.value.retry_after == 7
        assert texts(emulator, alice["id"]) == []
        assert emulator.served_429 == 1
        await bot.send_message(alice["id"], "hi")
        assert texts(emulator, alice["id"]) == ["hi"]

    async def test_500_is_server_error(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        emulator.inject_fault("500")
        with pytest.raises(TelegramServerError):
            await bot.send_message(alice["id"], "hi")
        emulator.inject_fault("500", description="Internal Server Error: restart")
        with pytest.raises(RestartingTelegram):
            await bot.send_message(alice["id"], "hi")
        assert texts(emulator, alice["id"]) == []

    async def test_502_html_body_is_a_decode_error(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        emulator.inject_fault("502_html")
        with pytest.raises(ClientDecodeError, match="Failed to decode"):
            await bot.send_message(alice["id"], "hi")
        assert emulator.calls_of("sendMessage")[-1].status == 502

    async def test_slow_answer_times_out_but_the_message_is_delivered(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        emulator.inject_fault("slow", method="sendMessage", delay=1.5)

        with pytest.raises(TelegramNetworkError, match="Request timeout error"):
            await bot.send_message(alice["id"], "maybe", request_timeout=1)

        assert texts(emulator, alice["id"]) == ["maybe"]
        assert emulator.calls_of("sendMessage")[-1].fault == "slow"

    async def test_drop_is_a_network_error_and_nothing_happens(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        emulator.inject_fault("drop")
        with pytest.raises(TelegramNetworkError):
            await bot.send_message(alice["id"], "lost")
        assert texts(emulator, alice["id"]) == []

        emulator.inject_fault("drop_after")
        with pytest.raises(TelegramNetworkError):
            await bot.send_message(alice["id"], "delivered anyway")
        assert texts(emulator, alice["id"]) == ["delivered anyway"]

    async def test_blocked_fault_and_a_real_block_are_forbidden(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        emulator.inject_fault("blocked")
        with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
            await bot.send_message(alice["id"], "hi")

        emulator.block_bot(alice)
        with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
            await bot.send_message(alice["id"], "hi")
        emulator.user_sends_text(alice, "I'm back")
        assert not emulator.is_blocked(alice)
        await bot.send_message(alice["id"], "welcome back")

    async def test_bad_request_carries_the_description(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        emulator.inject_fault("bad_request", description="Bad Request: PEER_ID_INVALID")
        with pytest.raises(TelegramBadRequest, match="PEER_ID_INVALID"):
            await bot.send_message(alice["id"], "hi")

    async def test_fault_is_scoped_by_method_chat_and_times(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        bob = emulator.add_user("Bob")
        emulator.inject_fault("500", method="sendMessage", chat_id=bob["id"], times=2)

        await bot.get_updates()
        await bot.send_message(alice["id"], "fine")
        for _ in range(2):
            with pytest.raises(TelegramServerError):
                await bot.send_message(bob["id"], "fails")
        await bot.send_message(bob["id"], "third time lucky")
        assert texts(emulator, bob["id"]) == ["third time lucky"]

    async def test_unnamed_faults_spare_get_updates(self, api: Api) -> None:
        emulator, bot = api
        emulator.inject_fault("500", times=None)
        assert await bot.get_updates() == []
        with pytest.raises(TelegramServerError):
            await bot.get_me()
        emulator.clear_faults()
        emulator.inject_fault("500", method="getUpdates")
        with pytest.raises(TelegramServerError):
            await bot.get_updates()


class TestRandomFaults:
    async def test_same_seed_same_faults_and_get_updates_untouched(self) -> None:
        outcomes = []
        for _ in range(2):
            emulator = BotApiEmulator()
            alice = emulator.add_user("Alice")
            emulator.set_random_faults(0.5, kinds=("429", "500"), seed=42)
            bot = make_bot(emulator)
            seen = []
            for n in range(30):
                await bot.get_updates()
                try:
                    await bot.send_message(alice["id"], f"m{n}")
                    seen.append("ok")
                except TelegramRetryAfter:
                    seen.append("429")
                except TelegramServerError:
                    seen.append("500")
            assert all(c.fault is None for c in emulator.calls_of("getUpdates"))
            outcomes.append(seen)
            await bot.session.close()
        assert outcomes[0] == outcomes[1]
        assert {"ok", "429", "500"} <= set(outcomes[0])


class TestRateLimits:
    async def test_private_chat_one_per_second(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        bob = emulator.add_user("Bob")
        emulator.set_rate_limits()
        await bot.send_message(alice["id"], "one")
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(alice["id"], "two")
        assert caught.value.retry_after == 1
        await bot.send_message(bob["id"], "other chats are independent")
        assert emulator.served_429 == 1

    async def test_group_twenty_per_minute(self, api: Api) -> None:
        emulator, bot = api
        agents = emulator.add_supergroup("Agents")
        emulator.set_rate_limits(private_per_s=None, global_per_s=None)
        for n in range(20):
            await bot.send_message(agents["id"], f"ticket {n}")
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(agents["id"], "one too many")
        assert 50 <= caught.value.retry_after <= 60
        emulator.clear_rate_limits()
        await bot.send_message(agents["id"], "limits off")


class TestProtocolErrors:
    async def test_unknown_method_is_404(self, http_emulator: BotApiEmulator) -> None:
        url = f"{http_emulator.base_url}/bot{http_emulator.token}/sendTelepathy"
        async with aiohttp.ClientSession() as client, client.post(url, data={}) as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }

    async def test_json_bodies_are_accepted(self, http_emulator: BotApiEmulator) -> None:
        alice = http_emulator.add_user("Alice")
        url = f"{http_emulator.base_url}/bot{http_emulator.token}/sendMessage"
        body = {
            "chat_id": alice["id"],
            "text": "json",
            "reply_markup": {"inline_keyboard": [[{"text": "ok", "callback_data": "ok"}]]},
        }
        async with aiohttp.ClientSession() as client, client.post(url, json=body) as response:
            answer = await response.json()
        assert answer["ok"]
        assert answer["result"]["reply_markup"] == body["reply_markup"]

    async def test_wrong_token_is_unauthorized(self, http_emulator: BotApiEmulator) -> None:
        bot = Bot("42:WRONG", session=AiohttpSession(api=http_emulator.api_server()))
        with pytest.raises(TelegramUnauthorizedError):
            await bot.get_me()
        await bot.session.close()
