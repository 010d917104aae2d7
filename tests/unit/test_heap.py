"""The start-up heap is frozen once the bot has started: later full collections skip it."""

from __future__ import annotations

import gc
import time

from bot.runtime import heap


def test_settle_takes_the_start_up_heap_out_of_the_collectors_sight() -> None:
    kept = [[i] for i in range(300_000)]  # a heap start-up built, as the model and routers
    gc.collect()
    started = time.process_time()
    gc.collect()
    before = time.process_time() - started
    try:
        heap.settle()
        assert gc.get_freeze_count() >= len(kept)
        started = time.process_time()
        gc.collect()
        after = time.process_time() - started
    finally:
        gc.unfreeze()
    # A full collection no longer walks the kept objects (a generous margin: CI is noisy).
    assert after < before / 2
