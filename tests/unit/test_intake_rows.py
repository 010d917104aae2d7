"""What the polling intake stores of a getUpdates answer, and the offset that confirms it."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.runtime.intake import inbox_rows

update_ids = st.lists(st.integers(min_value=1, max_value=2**40), unique=True, max_size=20)


@given(update_ids)
def test_every_update_is_stored_raw_and_the_offset_passes_the_highest(ids: list[int]) -> None:
    updates = [
        {"update_id": uid, "message": {"text": f"t{uid}", "poll": {"odd": [1]}}} for uid in ids
    ]
    rows, offset = inbox_rows(updates)
    assert [uid for uid, _ in rows] == ids
    assert [json.loads(body) for _, body in rows] == updates
    assert offset == (max(ids) + 1 if ids else None)


def test_objects_without_an_integer_update_id_are_skipped_but_do_not_hold_the_offset() -> None:
    updates = [
        {"update_id": 7},
        {"message": {}},
        {"update_id": "8"},
        {"update_id": True},
        {"update_id": 9},
    ]
    rows, offset = inbox_rows(updates)
    assert [uid for uid, _ in rows] == [7, 9]
    assert offset == 10
