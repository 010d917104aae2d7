"""Which conversation an update belongs to (the unit of ordering between workers)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from storage.delivery import update_chat_key

chat_ids = st.integers(min_value=-(10**13), max_value=10**13)
kinds = st.sampled_from(["message", "edited_message", "my_chat_member", "message_reaction"])


@given(kind=kinds, chat_id=chat_ids, update_id=st.integers(min_value=1))
def test_updates_about_a_chat_are_keyed_by_it(kind: str, chat_id: int, update_id: int) -> None:
    update = {"update_id": update_id, kind: {"chat": {"id": chat_id}, "from": {"id": 1}}}
    assert update_chat_key(update) == f"chat:{chat_id}"


@given(chat_id=chat_ids, user_id=st.integers(min_value=1, max_value=10**12))
def test_a_button_press_belongs_to_the_chat_of_its_message(chat_id: int, user_id: int) -> None:
    press = {"id": "1", "from": {"id": user_id}, "message": {"chat": {"id": chat_id}}}
    assert update_chat_key({"update_id": 1, "callback_query": press}) == f"chat:{chat_id}"
    # On an inline message (no chat given) it belongs to the person who pressed it.
    del press["message"]
    assert update_chat_key({"update_id": 1, "callback_query": press}) == f"chat:{user_id}"


@given(st.dictionaries(st.text(max_size=8), st.none() | st.integers() | st.text(max_size=4)))
def test_anything_else_gets_a_key_without_error(update: dict[str, object]) -> None:
    assert update_chat_key(update) == "other"
