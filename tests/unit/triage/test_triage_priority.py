"""Priority rules: Russian and English urgency cues."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage import Dataset, TriageModel, assess_priority
from triage.priority import PRIORITY_LEVELS, priority_rank

URGENT_CUES = [
    "срочно",
    "СРОЧНО!!!",
    "urgent",
    "asap",
    "списали дважды",
    "charged twice",
    "fraud",
    "мошенники",
    "my card was stolen",
    "меня взломали",
    "the site is down",
    "сайт лежит",
    "unauthorized payment",
    "немедленно",
]
HIGH_CUES = [
    "can't log in",
    "cannot login",
    "не могу войти",
    "не работает",
    "not working",
    "app keeps crashing",
    "посылка не пришла",
    "has not arrived",
    "payment declined",
    "третий раз пишу",
]


class TestAssessPriority:
    @pytest.mark.parametrize("text", URGENT_CUES)
    def test_urgent_cues(self, text: str) -> None:
        assert assess_priority(text).level == "urgent"

    @pytest.mark.parametrize("text", HIGH_CUES)
    def test_high_cues(self, text: str) -> None:
        assert assess_priority(text).level == "high"

    @pytest.mark.parametrize(
        "text",
        ["не срочно, но хотелось бы тёмную тему", "not urgent, just a suggestion", "no rush"],
    )
    def test_negated_urgency_is_low(self, text: str) -> None:
        assessment = assess_priority(text)
        assert assessment.level == "low"
        assert "urgent" not in assessment.cues
        assert "срочно" not in assessment.cues

    @pytest.mark.parametrize("text", ["Где мой заказ?", "What are your opening hours", ""])
    def test_no_cue_is_normal_with_low_confidence(self, text: str) -> None:
        assessment = assess_priority(text)
        assert (assessment.level, assessment.confidence, assessment.cues) == ("normal", 0.5, ())

    def test_more_cues_more_confidence(self) -> None:
        one = assess_priority("срочно")
        two = assess_priority("срочно, списали дважды")
        assert two.level == one.level == "urgent"
        assert two.confidence > one.confidence

    def test_contradicting_low_cue_lowers_confidence(self) -> None:
        assert (
            assess_priority("не срочно, но не работает").confidence
            < assess_priority("не работает").confidence
        )

    def test_rank(self) -> None:
        assert [priority_rank(level) for level in PRIORITY_LEVELS] == [0, 1, 2, 3]
        with pytest.raises(ValueError, match="unknown priority"):
            priority_rank("critical")


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80), cue=st.sampled_from(URGENT_CUES + HIGH_CUES))
def test_adding_an_urgency_cue_never_lowers_priority(text: str, cue: str) -> None:
    before = assess_priority(text)
    after = assess_priority(f"{text}. {cue}")
    assert priority_rank(after.level) >= priority_rank(before.level)
    assert priority_rank(after.level) >= priority_rank(assess_priority(cue).level)


@settings(max_examples=200, deadline=None)
@given(
    text=st.sampled_from(["Где мой заказ?", "I have a question about my invoice", "привет"]),
    cue=st.sampled_from(URGENT_CUES),
)
def test_an_urgent_cue_makes_any_message_urgent(text: str, cue: str) -> None:
    assert assess_priority(f"{cue} {text}").level == "urgent"


class TestModelPriority:
    def test_urgent_cue_wins_over_the_priority_model(self, model: TriageModel) -> None:
        assert model.priority_pipeline is not None
        result = model.predict("Срочно! Мой аккаунт взломали")
        assert result.priority == "urgent"
        assert "срочно" in result.priority_cues

    def test_model_priority_on_holdout_is_sensible(
        self, model: TriageModel, holdout: Dataset
    ) -> None:
        predicted = [r.priority for r in model.predict_many(holdout.texts)]
        assert holdout.priorities is not None
        agreement = sum(p == t for p, t in zip(predicted, holdout.priorities, strict=True))
        assert agreement / len(predicted) > 0.7
