"""A thank-you is not a new problem: the acknowledgement decision (issue 20, part 5)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from triage import load_seed
from triage.acknowledgement import (
    acknowledgement_detector,
    is_acknowledgement,
    is_emoji_only,
    load_detector,
    train_acknowledgements,
)
from triage.text import normalise_text


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


class TestShippedDetector:
    def test_the_shipped_arrays_are_what_the_seed_files_give(self) -> None:
        """Fails after a change of the seed files until ``helpdesk triage acknowledgements``
        rewrites ``triage/seed/acknowledgement.*``."""
        shipped, fresh = load_detector(), train_acknowledgements(random_state=0)
        assert shipped.threshold == fresh.threshold
        assert shipped.classes == fresh.classes
        assert shipped.info == fresh.info
        for ours, theirs in zip(shipped.features.blocks, fresh.features.blocks, strict=True):
            assert ours.vocabulary == theirs.vocabulary
            np.testing.assert_allclose(ours.idf, theirs.idf, rtol=0, atol=1e-12)
        np.testing.assert_allclose(shipped.coef, fresh.coef, rtol=0, atol=1e-9)
        np.testing.assert_allclose(shipped.intercept, fresh.intercept, rtol=0, atol=1e-9)

    def test_probabilities_equal_the_scikit_learn_pipelines(self) -> None:
        from triage.acknowledgement_training import _pipeline, _training_rows

        texts, labels = _training_rows()
        pipeline = _pipeline(0).fit([normalise_text(t) for t in texts], labels)
        column = list(pipeline.classes_).index("ack")
        probes = texts[::7] + _holdout()[0] + ["", "👍", "спасибо!!", "thanks, but no"]
        expected = pipeline.predict_proba([normalise_text(t) for t in probes])[:, column]
        detector = acknowledgement_detector()
        got = [detector.probability(text) for text in probes]
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)

    def test_scoring_imports_neither_scikit_learn_nor_scipy(self) -> None:
        code = (
            "import sys\n"
            "from triage.acknowledgement import is_acknowledgement\n"
            "assert is_acknowledgement('спасибо, всё работает')\n"
            "assert not is_acknowledgement('спасибо, но карта не работает')\n"
            "bad = [m for m in ('sklearn', 'scipy') if m in sys.modules]\n"
            "assert not bad, bad\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=Path(__file__).resolve().parents[3],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
