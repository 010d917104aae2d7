"""Training: split first, the abstain threshold, metrics and evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from triage import (
    DataError,
    Dataset,
    Metrics,
    TriageModel,
    choose_threshold,
    data_sha256,
    evaluate,
    load_seed,
    train,
)

GIBBERISH = [
    "qwpoeiru zmxncbv",
    "лоырвап дждлорп",
    "purple elephants dance at midnight",
    "рецепт борща с фасолью",
    "the capital of australia",
    "кто выиграл чемпионат по шахматам",
    "xkcd 927 standards",
    "смешные котики видео",
    "blorb flib flob",
    "какая погода будет в субботу",
]


class TestChooseThreshold:
    def test_smallest_threshold_reaching_the_target(self) -> None:
        confidence = [0.95, 0.9, 0.8, 0.7, 0.6, 0.5]
        correct = [True, True, True, False, True, False]
        choice = choose_threshold(confidence, correct, target_accuracy=0.8)
        # keeping >= 0.6 gives 4/5 = 0.8; keeping >= 0.5 gives 4/6 < 0.8
        assert choice.threshold == 0.6
        assert choice.coverage == pytest.approx(5 / 6)
        assert choice.accuracy_when_confident == pytest.approx(0.8)
        assert choice.target_reached

    def test_ties_are_kept_or_dropped_together(self) -> None:
        choice = choose_threshold(
            [0.9, 0.7, 0.7, 0.7], [True, True, False, False], target_accuracy=0.9
        )
        assert choice.threshold == 0.9

    def test_everything_correct_keeps_everything(self) -> None:
        choice = choose_threshold([0.9, 0.4, 0.3], [True, True, True], target_accuracy=0.95)
        assert choice.threshold == 0.3
        assert choice.coverage == 1.0

    def test_fallback_when_target_unreachable(self) -> None:
        choice = choose_threshold(
            [0.9, 0.8, 0.7, 0.6],
            [False, True, True, False],
            target_accuracy=0.99,
            min_coverage=0.5,
        )
        assert not choice.target_reached
        assert choice.threshold == 0.7  # best accuracy (2/3) at coverage >= 0.5
        assert "unreachable" in choice.method

    def test_rejects_bad_input(self) -> None:
        with pytest.raises(ValueError, match="non-empty"):
            choose_threshold([], [])


class TestTrain:
    def test_metrics_and_threshold_come_from_validation(
        self, trained: tuple[TriageModel, Metrics], seed: Dataset
    ) -> None:
        model, metrics = trained
        off_topic = load_seed("off_topic")
        n = len(seed) + len(off_topic)
        assert metrics.validation == "holdout"
        # n_validation counts the in-scope validation rows, n_out_of_scope the others
        assert metrics.n_validation + metrics.n_out_of_scope == pytest.approx(0.2 * n, abs=1)
        assert metrics.n_train + metrics.n_validation + metrics.n_out_of_scope == n
        assert model.threshold == metrics.threshold
        assert model.similarity_threshold == metrics.similarity_threshold
        selection = model.info["threshold_selection"]
        assert selection["threshold"] == model.threshold
        assert "out-of-scope" in selection["method"]
        assert (
            selection["out_of_scope_rows"]
            == f"{metrics.n_out_of_scope} validation rows labelled 'oos'"
        )
        assert metrics.in_scope_accuracy is not None
        assert metrics.in_scope_accuracy >= selection["in_scope_accuracy_floor"]
        assert metrics.oos_recall is not None
        assert metrics.oos_recall > 0.5
        assert 0.0 <= metrics.abstain_rate <= 1.0
        assert metrics.team_accuracy is not None
        assert metrics.team_accuracy >= metrics.accuracy
        assert metrics.priority_accuracy is not None
        assert metrics.macro_f1 > 0.5
        assert model.info["data_sha256"] == data_sha256(
            seed.texts + off_topic.texts,
            seed.labels + off_topic.labels,
            None,
            list(seed.priorities or []) + list(off_topic.priorities or []),
        )
        assert Metrics.from_dict(metrics.to_dict()) == metrics

    def test_final_model_is_refit_on_all_data(
        self, trained: tuple[TriageModel, Metrics], seed: Dataset
    ) -> None:
        model, _ = trained
        word_vectoriser = model.pipeline["features"].transformer_list[0][1]
        analyse, vocabulary = word_vectoriser.build_analyzer(), word_vectoriser.vocabulary_
        # min_df=1: every n-gram of every training text is known only after the refit
        assert all(gram in vocabulary for text in seed.texts for gram in analyse(text))

    def test_same_seed_same_result(self, seed: Dataset) -> None:
        texts, labels = seed.texts[::3], seed.labels[::3]
        first = train(texts, labels, random_state=5)
        second = train(texts, labels, random_state=5)
        assert first[1].to_dict() | {"fit_seconds": 0} == second[1].to_dict() | {"fit_seconds": 0}

    def test_few_examples_use_cross_validation(self, seed: Dataset) -> None:
        rows = []
        for label in sorted(set(seed.labels)):
            rows += [i for i, y in enumerate(seed.labels) if y == label][:4]
        model, metrics = train([seed.texts[i] for i in rows], [seed.labels[i] for i in rows])
        assert metrics.validation == "cv"
        assert metrics.n_validation == len(rows)
        assert 0.0 <= model.threshold <= 1.0

    def test_rejects_too_few_examples(self) -> None:
        with pytest.raises(DataError, match="at least 3 examples"):
            train(["a b", "c d", "e f", "g h"], ["x", "x", "x", "y"])

    def test_rejects_a_single_category(self) -> None:
        with pytest.raises(DataError, match="at least 2"):
            train(["a", "b", "c"], ["x", "x", "x"])

    def test_rejects_incomplete_team_map(self, seed: Dataset) -> None:
        with pytest.raises(DataError, match="no team for categories"):
            train(seed.texts, seed.labels, {"billing": "Billing"})

    def test_rejects_unknown_priority(self, seed: Dataset) -> None:
        with pytest.raises(DataError, match="unknown priority"):
            train(seed.texts, seed.labels, priorities=["asap"] * len(seed))

    def test_rejects_mismatched_lengths(self) -> None:
        with pytest.raises(DataError, match="labels"):
            train(["a", "b"], ["x"])


class TestCalibrationAndAbstention:
    def test_probabilities_are_calibrated_enough(
        self, model: TriageModel, holdout: Dataset
    ) -> None:
        proba = model.predict_proba(holdout.texts)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        confidence = proba.max(axis=1)
        correct = np.asarray(model.classes)[proba.argmax(axis=1)] == np.asarray(holdout.labels)
        assert confidence[correct].mean() > confidence[~correct].mean()
        # expected calibration error over 5 bins stays moderate on unseen sentences
        bins = np.minimum((confidence * 5).astype(int), 4)
        ece = sum(
            abs(correct[bins == b].mean() - confidence[bins == b].mean()) * (bins == b).mean()
            for b in range(5)
            if (bins == b).any()
        )
        assert ece < 0.15

    def test_out_of_scope_abstains_more_than_in_scope(
        self, model: TriageModel, holdout: Dataset
    ) -> None:
        in_scope = np.mean([r.needs_human for r in model.predict_many(holdout.texts)])
        out_of_scope = np.mean([r.needs_human for r in model.predict_many(GIBBERISH)])
        assert out_of_scope > in_scope
        assert out_of_scope >= 0.7


class TestEvaluate:
    def test_reports_quality_and_latency(
        self, model: TriageModel, holdout: Dataset, team_map: dict[str, str]
    ) -> None:
        report = evaluate(model, holdout.texts, holdout.labels, team_map)
        assert report["n"] == len(holdout)
        assert report["accuracy"] > 0.8
        assert 0.0 < report["macro_f1"] <= 1.0
        assert report["team_accuracy"] >= report["accuracy"]
        assert report["abstain_rate"] + report["coverage"] == pytest.approx(1.0)
        assert report["predict_ms_p50"] <= report["predict_ms_p99"]
        assert "in_scope_accuracy" not in report

    def test_out_of_scope_label(self, model: TriageModel, holdout: Dataset) -> None:
        texts = holdout.texts + GIBBERISH
        labels = holdout.labels + ["oos"] * len(GIBBERISH)
        report = evaluate(model, texts, labels, oos_label="oos", timing=False)
        results = model.predict_many(texts)
        n_in = len(holdout)
        right = sum(
            r.category == y and not r.needs_human
            for r, y in zip(results[:n_in], holdout.labels, strict=True)
        )
        assert report["in_scope_accuracy"] == pytest.approx(right / n_in)
        assert report["oos_recall"] == pytest.approx(
            np.mean([r.needs_human for r in results[n_in:]])
        )
        assert report["n_out_of_scope"] == len(GIBBERISH)
        assert report["accuracy"] == pytest.approx(
            evaluate(model, holdout.texts, holdout.labels, timing=False)["accuracy"]
        )

    def test_rejects_empty_input(self, model: TriageModel) -> None:
        with pytest.raises(ValueError, match="nothing"):
            evaluate(model, [], [])
