"""A queued call's parameters survive the outbox: references and uploads come back typed, and
every kind of reference and of result has exactly one place that handles it."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.adapters import delivery
from models.delivery import OnSent, Ref, RefKind, Upload, decode_params, encode_params

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)
refs = st.builds(
    Ref,
    st.sampled_from(RefKind),
    st.none() | st.integers(min_value=1),
    required=st.booleans(),
    own=st.booleans(),
    group=st.none() | st.text(min_size=1),
    label=st.none() | st.text(min_size=1),
)
uploads = st.builds(Upload, st.text(min_size=1), st.binary())
params = st.dictionaries(st.text(), json_values | refs | uploads, max_size=6)


@given(params)
def test_parameters_come_back_as_they_were_queued(queued: dict[str, object]) -> None:
    stored = encode_params(queued)
    assert decode_params(stored) == queued
    json.loads(stored)  # plain JSON in the outbox row


def test_a_telegram_value_is_never_taken_for_a_reference() -> None:
    """Only the tags this code writes mark a reference: Telegram's own objects pass through."""
    plain = {
        "reply_parameters": {"message_id": 3, "allow_sending_without_reply": True},
        "reply_markup": {"inline_keyboard": [[{"text": "$ref", "callback_data": "ref"}]]},
        "link_preview_options": {"is_disabled": True},
    }
    assert decode_params(encode_params(plain)) == plain


def test_a_damaged_reference_stays_as_stored() -> None:
    stored = '{"text": {"@ref": "no_such_kind", "id": 1}, "photo": {"@upload": "a", "b64": "%"}}'
    assert decode_params(stored) == json.loads(stored)


def test_every_reference_and_every_result_has_its_handler() -> None:
    assert set(delivery._REFS) == set(RefKind)
    assert set(delivery._HOOKS) == set(OnSent)
