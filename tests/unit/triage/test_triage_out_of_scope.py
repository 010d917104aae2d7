"""The out-of-scope decision: off-topic messages are "not sure", thresholds are chosen
deterministically on validation rows that include out-of-scope ones, and recorded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from triage import (
    OOS_LABEL,
    Dataset,
    Metrics,
    TriageModel,
    choose_oos_thresholds,
    evaluate,
    fit_thresholds,
    load_seed,
    train,
    train_default,
)

OFF_TOPIC = {
    "ru greeting": "привет",
    "en thanks": "thanks!",
    "en advert": "Earn $1000 a week from home! Crypto signals, join my channel t.me/richfast",
    "ru advert": "Продаю подписчиков и лайки недорого, пишите в личку",
    "ru thanks": "спасибо",
    "en greeting": "hello",
}


class TestDefaultModel:
    @pytest.mark.parametrize("text", OFF_TOPIC.values(), ids=OFF_TOPIC.keys())
    def test_off_topic_message_is_not_sure(self, model: TriageModel, text: str) -> None:
        result = model.predict(text)
        assert result.needs_human
        assert result.out_of_scope
        assert result.category in model.labels  # a category is still offered to the agent

    def test_seed_categories_are_still_recognised(
        self, model: TriageModel, holdout: Dataset
    ) -> None:
        results = model.predict_many(holdout.texts)
        answered = [
            r.category == label
            for r, label in zip(results, holdout.labels, strict=True)
            if not r.needs_human
        ]
        assert len(answered) >= 0.7 * len(holdout)
        assert np.mean(answered) >= 0.9
        assert not any(r.out_of_scope for r in model.predict_many(CLEAR_TICKETS))

    def test_held_out_off_topic_messages_are_mostly_not_sure(self, model: TriageModel) -> None:
        off_topic = load_seed("off_topic_holdout")
        assert set(off_topic.labels) == {OOS_LABEL}
        assert np.mean([r.needs_human for r in model.predict_many(off_topic.texts)]) >= 0.8

    def test_out_of_scope_label_is_not_a_category(self, model: TriageModel) -> None:
        assert OOS_LABEL in model.classes
        assert OOS_LABEL not in model.labels
        assert model.team_map is not None
        assert OOS_LABEL not in model.team_map


CLEAR_TICKETS = [
    "Не могу войти в личный кабинет, пишет неверный пароль",
    "I was charged twice for my subscription this month",
    "где моя посылка? заказ должен был прийти вчера",
    "The app crashes every time I open the settings page",
]


class TestThresholdChoice:
    def test_trained_thresholds_are_deterministic_and_recorded(
        self, trained: tuple[TriageModel, Metrics], saved_model_dir: Path
    ) -> None:
        model, metrics = trained
        again, _ = train_default(random_state=0)
        assert again.threshold == model.threshold
        assert again.similarity_threshold == model.similarity_threshold
        meta = json.loads((saved_model_dir / "meta.json").read_text(encoding="utf-8"))
        selection = meta["threshold_selection"]
        assert selection["threshold"] == model.threshold == meta["threshold"]
        assert selection["similarity_threshold"] == model.similarity_threshold
        assert selection["max_in_scope_loss"] == 0.05
        assert selection["n_out_of_scope"] == metrics.n_out_of_scope > 0
        assert "in-scope accuracy stays within 0.05" in selection["method"]

    def test_rule_maximises_recall_within_the_allowed_loss(self) -> None:
        # 10 in-scope rows (8 right) and 4 out-of-scope rows with low confidence.
        confidence = [0.9, 0.9, 0.8, 0.8, 0.7, 0.7, 0.6, 0.6, 0.3, 0.3, 0.2, 0.35, 0.1, 0.65]
        similarity = [0.5] * 14
        correct = [True] * 8 + [False] * 2 + [False] * 4
        oos = [False] * 10 + [True] * 4
        loose = choose_oos_thresholds(confidence, similarity, correct, oos, max_in_scope_loss=0)
        # abstaining on the two wrong 0.3s costs no accuracy and catches 0.2, 0.1 (and 0.3 ties)
        assert loose.in_scope_accuracy == pytest.approx(0.8)
        assert loose.oos_recall == pytest.approx(0.75)
        assert loose.threshold == pytest.approx(0.6)
        wide = choose_oos_thresholds(confidence, similarity, correct, oos, max_in_scope_loss=0.2)
        assert wide.oos_recall == 1.0
        assert wide.in_scope_accuracy >= 0.6
        assert choose_oos_thresholds(
            confidence, similarity, correct, oos
        ) == choose_oos_thresholds(confidence, similarity, correct, oos)

    def test_similarity_catches_what_confidence_misses(self) -> None:
        confidence = [0.9] * 6
        similarity = [0.6, 0.5, 0.7, 0.55, 0.05, 0.1]
        correct = [True] * 4 + [False] * 2
        oos = [False] * 4 + [True] * 2
        choice = choose_oos_thresholds(confidence, similarity, correct, oos)
        assert choice.threshold == 0.0
        assert 0.1 < choice.similarity_threshold <= 0.5
        assert choice.oos_recall == 1.0
        assert choice.in_scope_accuracy == 1.0

    def test_forced_rows_count_as_abstained(self) -> None:
        choice = choose_oos_thresholds(
            [0.9, 0.9, 0.9],
            [0.5, 0.5, 0.5],
            [True, True, False],
            [False, False, True],
            forced=[False, False, True],
        )
        assert choice.oos_recall == 1.0
        assert (choice.threshold, choice.similarity_threshold) == (0.0, 0.0)

    def test_forced_abstentions_count_against_the_allowance(self) -> None:
        # The in-scope row the "none of these" class takes already costs 0.5 accuracy.
        choice = choose_oos_thresholds(
            [0.9, 0.4, 0.2],
            [0.5, 0.5, 0.5],
            [True, True, False],
            [False, False, True],
            forced=[False, True, False],
        )
        assert (choice.threshold, choice.similarity_threshold) == (0.0, 0.0)
        assert choice.in_scope_accuracy == 0.5
        assert choice.oos_recall == 0.0

    def test_needs_both_kinds_of_rows(self) -> None:
        with pytest.raises(ValueError, match="out-of-scope"):
            choose_oos_thresholds([0.5], [0.5], [True], [False])


class TestOutOfScopeTraining:
    def test_oos_rows_train_a_none_of_these_class(self, seed: Dataset) -> None:
        off_topic = load_seed("off_topic")
        model, metrics = train(
            seed.texts + off_topic.texts, seed.labels + off_topic.labels, oos_label="oos"
        )
        assert model.oos_label == "oos"
        assert "oos" not in model.labels
        assert metrics.n_out_of_scope > 0

    def test_without_oos_rows_the_seed_off_topic_examples_choose_the_thresholds(
        self, seed: Dataset
    ) -> None:
        model, metrics = train(seed.texts, seed.labels)
        assert model.oos_label is None
        assert metrics.n_out_of_scope == len(load_seed("off_topic"))
        assert "seed off-topic examples" in model.info["threshold_selection"]["out_of_scope_rows"]

    def test_fit_thresholds_on_other_validation_data(
        self, model: TriageModel, holdout: Dataset
    ) -> None:
        off_topic = load_seed("off_topic_holdout")
        texts, labels = holdout.texts + off_topic.texts, holdout.labels + off_topic.labels
        tuned = fit_thresholds(model, texts, labels)
        selection = tuned.info["threshold_selection"]
        assert selection["validation"] == "given"
        assert (tuned.threshold, tuned.similarity_threshold) == (
            selection["threshold"],
            selection["similarity_threshold"],
        )
        report = evaluate(tuned, texts, labels, oos_label="oos", timing=False)
        assert report["oos_recall"] == pytest.approx(selection["oos_recall"])
        assert report["in_scope_accuracy"] == pytest.approx(selection["in_scope_accuracy"])
        assert model.info["threshold_selection"] != selection  # the original is unchanged
