"""What a message shows after a call, as digests: the sender's test for a no-op edit."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from models.delivery import appearance

CHAT, MESSAGE = -1001, 7
KEYBOARD = {"inline_keyboard": [[{"text": "Claim", "callback_data": "c:1"}]]}

texts = st.text(max_size=50)
keyboards = st.one_of(
    st.none(),
    st.builds(
        lambda label, data: {"inline_keyboard": [[{"text": label, "callback_data": data}]]},
        st.text(min_size=1, max_size=10),
        st.text(min_size=1, max_size=10),
    ),
)


def edit(text: str, keyboard: dict[str, Any] | None) -> dict[str, Any]:
    params: dict[str, Any] = {"chat_id": CHAT, "message_id": MESSAGE, "text": text}
    if keyboard is not None:
        params["reply_markup"] = keyboard
    return params


@given(texts, keyboards, texts, keyboards)
def test_an_edit_changes_the_message_exactly_when_its_text_or_keyboard_differ(
    text: str, keyboard: dict[str, Any] | None, new_text: str, new_keyboard: dict[str, Any] | None
) -> None:
    before = appearance("editMessageText", edit(text, keyboard))
    after = appearance("editMessageText", edit(new_text, new_keyboard))
    assert before is not None
    assert after is not None
    shown = (before.body, before.markup)
    assert after.changes(shown) == (text != new_text or keyboard != new_keyboard)


@given(texts, keyboards)
def test_a_sent_card_and_an_edit_to_the_same_content_are_the_same_appearance(
    text: str, keyboard: dict[str, Any] | None
) -> None:
    keyboard = keyboard or KEYBOARD  # only messages with a keyboard are remembered when sent
    params = {"chat_id": CHAT, "text": text, "reply_markup": keyboard}
    sent = appearance("sendMessage", params, {"message_id": MESSAGE})
    assert sent is not None
    same = appearance("editMessageText", params | {"message_id": MESSAGE})
    assert same is not None
    assert not same.changes((sent.body, sent.markup))


def test_keyboard_edits_leave_the_text_alone_and_unknown_is_always_a_change() -> None:
    markup_only = appearance(
        "editMessageReplyMarkup",
        {"chat_id": CHAT, "message_id": MESSAGE, "reply_markup": KEYBOARD},
    )
    assert markup_only is not None
    assert markup_only.body is None
    text_edit = appearance("editMessageText", edit("x", KEYBOARD))
    assert text_edit is not None
    assert not markup_only.changes(("anything", text_edit.markup))
    assert markup_only.changes(None)
    assert text_edit.changes(None)
    # A caption that reads like a text is still another thing than the text.
    caption = appearance(
        "editMessageCaption",
        {"chat_id": CHAT, "message_id": MESSAGE, "caption": "x", "reply_markup": KEYBOARD},
    )
    assert caption is not None
    assert caption.changes((text_edit.body, text_edit.markup))


def test_only_messages_the_bot_may_edit_are_remembered() -> None:
    plain = {"chat_id": CHAT, "text": "hello"}
    assert appearance("sendMessage", plain, {"message_id": 1}) is None  # no keyboard
    assert appearance("copyMessage", plain | {"from_chat_id": 1, "message_id": 2}) is None
    assert appearance("sendMessage", plain | {"reply_markup": KEYBOARD}, True) is None
    assert appearance("editMessageText", {"inline_message_id": "abc", "text": "x"}) is None
