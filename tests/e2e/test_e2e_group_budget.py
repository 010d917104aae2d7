"""The agents' group at Telegram's own pace (20 calls a minute): a backed-up topic gets the
customer's waiting texts joined, nothing is lost or reordered, and no edit that changes nothing
is ever sent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Running, _stop
from tests.support.desk import customer_texts
from tests.support.scenarios import DISTINCT_PROBLEMS

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

DETAILS = 4


def texts_in_topics(run: Running) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for topic in run.ticket_topics():
        thread = topic["message_thread_id"]
        messages = run.emulator.messages_in(run.group_id, thread, from_bot=True)
        found[thread] = [t for m in messages for t in customer_texts(m)]
    return found


async def test_a_group_at_telegram_s_pace_gets_joined_texts_and_no_idle_edit(
    bot_factory: Any,
) -> None:
    run: Running = await bot_factory(
        forum=True,
        HELPDESK_RATE_PRIVATE_PER_S="1",
        HELPDESK_RATE_GROUP_PER_MIN="20",
        HELPDESK_RATE_GLOBAL_PER_S="30",
    )
    emu = run.emulator
    emu.set_rate_limits(1, 20, 30)
    try:
        people = [emu.add_user(f"B{i}") for i in range(len(DISTINCT_PROBLEMS))]
        expected = {}
        for person, problem in zip(people, DISTINCT_PROBLEMS, strict=True):
            emu.user_sends_text(person, problem)
            expected[problem] = [problem]
        for k in range(1, DETAILS + 1):
            for person, problem in zip(people, DISTINCT_PROBLEMS, strict=True):
                detail = f"detail {k} from {person['first_name']}"
                emu.user_sends_text(person, detail)
                expected[problem].append(detail)

        def complete() -> bool:
            shown = sorted(texts_in_topics(run).values())
            return shown == sorted(expected.values())

        await run.wait(complete, "every text in its topic, once, in order", 200)

        group_messages = emu.messages_in(run.group_id, from_bot=True)
        joined = [m for m in group_messages if "joined while this group" in m.get("text", "")]
        assert joined, "the backlog was never joined"
        customer_messages = len(DISTINCT_PROBLEMS) * (1 + DETAILS)
        group_calls = [
            c for c in emu.calls if c.ok and str(c.params.get("chat_id")) == str(run.group_id)
        ]
        # One call per text would be (topic, card, pin) per ticket plus one per follow-up.
        one_each = 3 * len(DISTINCT_PROBLEMS) + customer_messages - len(DISTINCT_PROBLEMS)
        assert 3 * len(DISTINCT_PROBLEMS) <= len(group_calls) < one_each, len(group_calls)
        refused = [
            c.describe()
            for c in emu.calls
            if c.response and "not modified" in str(c.response.get("description", ""))
        ]
        assert refused == []
        assert emu.served_429 == 0  # the bot kept to Telegram's pace on its own
    finally:
        await _stop(run)
