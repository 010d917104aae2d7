"""Estimator-contract checks for the custom classifier."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from triage.estimators import BalancedLinearSVC, CentroidSimilarity


def _expected_failures(estimator: BalancedLinearSVC) -> dict[str, str]:
    # Same exemption as scikit-learn grants LinearSVC: liblinear's dual solver is
    # stochastic, so weighting and repeating samples agree only up to its tolerance.
    reason = "liblinear dual solver: sample_weight equals repetition only up to tolerance"
    return {
        "check_sample_weight_equivalence_on_dense_data": reason,
        "check_sample_weight_equivalence_on_sparse_data": reason,
    }


@parametrize_with_checks(
    [BalancedLinearSVC(random_state=0)], expected_failed_checks=_expected_failures
)
def test_sklearn_estimator_contract(estimator, check) -> None:
    check(estimator)


@parametrize_with_checks([CentroidSimilarity()])
def test_centroid_similarity_contract(estimator, check) -> None:
    check(estimator)


class TestCentroidSimilarity:
    def test_similarity_is_cosine_to_the_class_mean(self) -> None:
        X = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        similarity = CentroidSimilarity().fit(X, ["a", "a", "b"])
        scores = similarity.transform(np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 3.0]]))
        centroid_a = np.array([2.0, 1.0, 0.0]) / np.sqrt(5.0)
        np.testing.assert_allclose(scores[0], [centroid_a @ centroid_a, 0.0])
        np.testing.assert_allclose(scores[1], [0.0, 1.0])

    def test_excluded_class_has_no_centroid(self) -> None:
        X = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
        similarity = CentroidSimilarity(exclude="oos").fit(X, ["a", "oos", "oos"])
        assert similarity.classes_.tolist() == ["a"]
        np.testing.assert_allclose(similarity.transform(np.array([[0.0, 1.0]])), [[0.0]])


class TestBalancedLinearSVC:
    def test_power_zero_is_plain_linear_svc(self) -> None:
        rng = np.random.RandomState(0)
        X = rng.normal(size=(120, 5))
        y = np.repeat(["a", "b", "c"], [20, 40, 60])
        ours = BalancedLinearSVC(balance_power=0.0, random_state=0).fit(X, y)
        plain = LinearSVC(C=0.5, max_iter=5000, random_state=0).fit(X, y)
        np.testing.assert_allclose(ours.coef_, plain.coef_, rtol=1e-6, atol=1e-8)

    def test_rare_class_gets_larger_weight(self) -> None:
        X = np.eye(4).repeat([5, 30, 30, 30], axis=0)
        y = np.repeat(["rare", "b", "c", "d"], [5, 30, 30, 30])
        model = BalancedLinearSVC(random_state=0).fit(X, y)
        assert model.class_weight_["rare"] > model.class_weight_["b"]
        assert model.predict(np.eye(4)[:1]).tolist() == ["rare"]

    def test_single_class_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="at least 2 classes"):
            BalancedLinearSVC().fit(np.ones((4, 2)), ["a"] * 4)
