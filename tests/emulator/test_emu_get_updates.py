"""getUpdates: offsets, long polling, allowed_updates and conflicts, as Telegram does them."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramConflictError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sandbox.emulator import BotApiEmulator


async def poll(emulator: BotApiEmulator, **params: object) -> list[int]:
    answer = await emulator.handle("getUpdates", params)
    assert answer["ok"], answer
    return [update["update_id"] for update in answer["result"]]


class TestOffsets:
    async def test_unconfirmed_updates_are_redelivered(self, emulator: BotApiEmulator) -> None:
        alice = emulator.add_user("Alice")
        first = emulator.user_sends_text(alice, "one")
        emulator.user_sends_text(alice, "two")

        ids = await poll(emulator)
        assert await poll(emulator) == ids
        assert len(ids) == 2
        assert emulator.pending_updates()[0]["message"]["message_id"] == first["message_id"]
        assert emulator.delivery_count(ids[0]) == 2

    async def test_offset_confirms_lower_ids_and_they_never_come_back(
        self, emulator: BotApiEmulator
    ) -> None:
        alice = emulator.add_user("Alice")
        for text in ("one", "two", "three"):
            emulator.user_sends_text(alice, text)
        ids = await poll(emulator)

        assert await poll(emulator, offset=ids[1]) == ids[1:]
        assert await poll(emulator) == ids[1:]
        assert await poll(emulator, offset=ids[-1] + 1) == []
        emulator.user_sends_text(alice, "four")
        later = await poll(emulator)
        assert len(later) == 1
        assert later[0] > ids[-1]

    async def test_negative_offset_keeps_only_the_last_updates(
        self, emulator: BotApiEmulator
    ) -> None:
        alice = emulator.add_user("Alice")
        for n in range(5):
            emulator.user_sends_text(alice, f"m{n}")
        ids = await poll(emulator)

        assert await poll(emulator, offset=-2) == ids[-2:]
        assert await poll(emulator) == ids[-2:]

    async def test_limit_is_clamped_to_1_100(self, emulator: BotApiEmulator) -> None:
        alice = emulator.add_user("Alice")
        for n in range(105):
            emulator.user_sends_text(alice, f"m{n}")
        assert len(await poll(emulator, limit=3)) == 3
        assert len(await poll(emulator, limit=0)) == 1
        assert len(await poll(emulator, limit=500)) == 100

    async def test_take_updates_confirms_everything(self, emulator: BotApiEmulator) -> None:
        alice = emulator.add_user("Alice")
        emulator.user_sends_text(alice, "hi")
        taken = emulator.take_updates()
        assert [u["message"]["text"] for u in taken] == ["hi"]
        assert emulator.pending_updates() == []
        assert await poll(emulator) == []


# Each op is ("inject", n) or ("poll", offset, limit). Offsets are relative to the first
# update id; 0 means no offset, negatives are Telegram's "last -offset updates".
_ops = st.lists(
    st.one_of(
        st.tuples(st.just("inject"), st.integers(1, 3)),
        st.tuples(st.just("poll"), st.integers(-4, 14), st.integers(1, 4)),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_ops)
async def test_each_update_is_returned_until_confirmed_and_never_after(
    ops: list[tuple[int | str, ...]],
) -> None:
    emulator = BotApiEmulator(first_update_id=1)
    alice = emulator.add_user("Alice")
    injected: list[int] = []
    forgotten: set[int] = set()
    for op in ops:
        if op[0] == "inject":
            for _ in range(int(op[1])):
                emulator.user_sends_text(alice, "hello")
                injected.append(injected[-1] + 1 if injected else 1)
            continue
        offset, limit = int(op[1]), int(op[2])
        # Telegram forgets: below a positive offset, or all but the last -offset updates.
        alive = [i for i in injected if i not in forgotten]
        if offset > 0:
            forgotten.update(i for i in alive if i < offset)
        elif offset < 0:
            forgotten.update(alive[:offset])
        got = await poll(emulator, offset=offset or None, limit=limit)

        alive = [i for i in injected if i not in forgotten]
        assert not set(got) & forgotten, "a confirmed update came back"
        assert got == alive[:limit], "unconfirmed updates must come first, in order"


class TestLongPolling:
    async def test_returns_as_soon_as_an_update_arrives(
        self, http_emulator: BotApiEmulator, http_bot: Bot
    ) -> None:
        alice = http_emulator.add_user("Alice")

        async def later() -> None:
            await asyncio.sleep(0.3)
            http_emulator.user_sends_text(alice, "ping")

        started = time.monotonic()
        sender = asyncio.create_task(later())
        updates = await http_bot.get_updates(timeout=10)
        await sender

        assert time.monotonic() - started < 3
        assert [u.message.text for u in updates if u.message] == ["ping"]

    async def test_returns_empty_after_the_timeout(
        self, http_emulator: BotApiEmulator, http_bot: Bot
    ) -> None:
        started = time.monotonic()
        assert await http_bot.get_updates(timeout=1) == []
        assert 0.9 <= time.monotonic() - started < 3

    async def test_a_new_poll_terminates_the_waiting_one_with_conflict(
        self, http_emulator: BotApiEmulator, http_bot: Bot
    ) -> None:
        first = asyncio.create_task(http_bot.get_updates(timeout=10))
        await http_emulator.wait_for_call("getUpdates", finished=False)
        assert await http_bot.get_updates(timeout=0) == []
        with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
            await first


class TestAllowedUpdates:
    async def test_filter_is_remembered_between_calls(self, emulator: BotApiEmulator) -> None:
        alice = emulator.add_user("Alice")
        bot_message = await emulator.handle(
            "sendMessage",
            {
                "chat_id": alice["id"],
                "text": "Rate us",
                "reply_markup": {"inline_keyboard": [[{"text": "5", "callback_data": "r:5"}]]},
            },
        )
        await poll(emulator, allowed_updates=["message"])
        emulator.user_presses(alice, alice["id"], bot_message["result"]["message_id"], "r:5")
        emulator.user_sends_text(alice, "hi")

        updates = emulator.pending_updates()
        assert [next(k for k in u if k != "update_id") for u in updates] == ["message"]
        assert emulator.allowed_updates == ["message"]
        assert len(emulator.discarded_updates) == 1

        await poll(emulator, allowed_updates=[])
        emulator.user_presses(alice, alice["id"], bot_message["result"]["message_id"], "r:5")
        assert "callback_query" in emulator.pending_updates()[-1]

    async def test_default_excludes_message_reactions(self, emulator: BotApiEmulator) -> None:
        alice = emulator.add_user("Alice")
        message = emulator.user_sends_text(alice, "hi")
        emulator.user_reacts(alice, alice["id"], message["message_id"])
        assert len(emulator.pending_updates()) == 1

        await poll(emulator, allowed_updates=["message", "message_reaction"])
        emulator.user_reacts(alice, alice["id"], message["message_id"])
        assert "message_reaction" in emulator.pending_updates()[-1]


class TestWebhook:
    async def test_webhook_makes_get_updates_conflict(
        self, http_emulator: BotApiEmulator, http_bot: Bot
    ) -> None:
        alice = http_emulator.add_user("Alice")
        http_emulator.user_sends_text(alice, "queued")
        await http_bot.set_webhook("https://helpdesk.example/hook", secret_token="s3cret")

        info = await http_bot.get_webhook_info()
        assert info.url == "https://helpdesk.example/hook"
        assert info.pending_update_count == 1
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await http_bot.get_updates()

        await http_bot.delete_webhook(drop_pending_updates=True)
        assert await http_bot.get_updates() == []
        assert (await http_bot.get_webhook_info()).url == ""
