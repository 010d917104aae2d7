"""The in-process rate limit counts as Telegram does: never more than the budget in any
window, and the whole budget at a steady rate."""

from __future__ import annotations

import asyncio
import time

from hypothesis import given
from hypothesis import strategies as st

from bot.runtime.coordination import MovingWindow, whole_window


async def stamps_of(limiter: MovingWindow, calls: int) -> list[float]:
    stamps = []
    for _ in range(calls):
        async with limiter:
            stamps.append(time.monotonic())
    return stamps


def most_in_any_window(stamps: list[float], seconds: float) -> int:
    return max(sum(1 for t in stamps if start <= t < start + seconds) for start in stamps)


async def test_never_more_than_the_budget_in_any_window() -> None:
    limiter = MovingWindow(4, 0.25)
    stamps = await stamps_of(limiter, 12)
    # A leaky bucket would let 4 through at once and then one every 1/16 s: up to 8 in the
    # first quarter second. The moving window keeps every quarter second at 4 at most.
    assert most_in_any_window(stamps, 0.25) == 4
    assert stamps[4] - stamps[0] >= 0.25  # the fifth call waited for the first to age out


async def test_waiters_share_one_window() -> None:
    limiter = MovingWindow(3, 0.2)
    stamps: list[float] = []

    async def one() -> None:
        async with limiter:
            stamps.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(9)))
    assert len(stamps) == 9
    assert most_in_any_window(sorted(stamps), 0.2) == 3


@given(st.floats(min_value=0.05, max_value=1000), st.sampled_from([1.0, 60.0]))
def test_a_fractional_budget_becomes_whole_calls_never_rounded_up(
    rate: float, period: float
) -> None:
    calls, seconds = whole_window(rate, period)
    assert calls >= 1
    assert seconds >= 1
    # The nearest fraction with a denominator up to 1,000: within 0.1 % of the budget.
    assert calls / seconds <= rate / period * 1.001


async def test_a_call_counts_until_it_has_finished() -> None:
    """Telegram counts a request when it arrives, after it started: the window runs from the
    end of a call, so the next one can never arrive before the one it replaces aged out."""
    limiter = MovingWindow(1, 0.1)
    finished: list[float] = []
    started: list[float] = []
    for _ in range(3):
        async with limiter:
            started.append(time.monotonic())
            await asyncio.sleep(0.05)  # the request on the wire
            finished.append(time.monotonic())
    for before, after in zip(finished, started[1:], strict=False):
        assert after - before >= 0.1
