"""A thank-you is not a new problem: the acknowledgement decision (issue 20, part 5)."""

from __future__ import annotations

import pytest

from triage import load_seed
from triage.acknowledgement import (
    acknowledgement_detector,
    is_acknowledgement,
    is_emoji_only,
    train_acknowledgements,
)


@pytest.mark.parametrize(
    "text",
    [
        "спасибо!",
        "спасибо, всё работает",
        "Всё заработало, благодарю",
        "thanks!",
        "Thank you, it works now",
        "ok, got it, thanks",
        "👍",
        "🙏🙏",
        "👍🏻",
        "спасибо 👍",
    ],
)
def test_closing_messages_are_acknowledgements(text: str) -> None:
    assert is_acknowledgement(text)


@pytest.mark.parametrize(
    "text",
    [
        "спасибо, но карта всё ещё не работает",
        "Спасибо, но деньги так и не пришли",
        "спасибо, а где мой возврат?",
        "thanks, but the card still doesn't work",
        "thank you! I was charged twice again",
        "thanks, how do I change my password?",
        "не работает",
        "I was charged twice for my subscription this month",
        "Не могу войти в личный кабинет, срочно!",
        "👎",
        "😡😡",
        "?",
        "",
        "   ",
    ],
)
def test_real_problems_are_not_acknowledgements(text: str) -> None:
    assert not is_acknowledgement(text)


def test_a_long_thank_you_with_a_request_is_a_problem() -> None:
    text = "thanks a lot for yesterday, please send me the invoice for March too"
    assert acknowledgement_detector().probability("thanks a lot") > 0.6  # the class alone says yes
    assert not is_acknowledgement(text)


def test_emoji_only() -> None:
    assert is_emoji_only("👍")
    assert is_emoji_only("👍🏽 !")
    assert is_emoji_only("❤️")
    assert not is_emoji_only("ok 👍")
    assert not is_emoji_only("...")
    assert not is_emoji_only("")


def test_threshold_is_deterministic_and_recorded() -> None:
    first, second = train_acknowledgements(random_state=0), train_acknowledgements(random_state=0)
    assert first.threshold == second.threshold == first.info["threshold"]
    assert 0.6 <= first.threshold <= 0.95
    assert "out-of-fold precision" in first.info["threshold_rule"]


def test_no_real_seed_problem_is_swallowed() -> None:
    """Every held-out help-desk message and every held-out problem that mentions thanks."""
    detector = acknowledgement_detector()
    problems = load_seed("holdout").texts + [
        text for text, label in zip(*_holdout(), strict=True) if label != "ack"
    ]
    assert [text for text in problems if detector.is_acknowledgement(text)] == []


def test_held_out_acknowledgements_are_mostly_recognised() -> None:
    detector = acknowledgement_detector()
    acks = [text for text, label in zip(*_holdout(), strict=True) if label == "ack"]
    found = sum(detector.is_acknowledgement(text) for text in acks)
    assert found / len(acks) >= 0.8


def test_the_holdout_is_never_trained_on() -> None:
    trained_on = set(load_seed("acknowledgements").texts) | set(load_seed("examples").texts)
    assert trained_on.isdisjoint(_holdout()[0])


def _holdout() -> tuple[list[str], list[str]]:
    data = load_seed("acknowledgements_holdout")
    return data.texts, data.labels
