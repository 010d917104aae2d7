"""Custom scikit-learn estimators used by the triage pipeline."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

__all__ = ["BalancedLinearSVC", "CentroidSimilarity"]


class BalancedLinearSVC(LinearClassifierMixin, BaseEstimator):
    """Linear SVM whose one-vs-rest problems are re-balanced per class.

    ``LinearSVC(class_weight="balanced")`` weighs each class by ``n / (K * n_k)``, which is
    close to 1 when the classes are roughly balanced and leaves every one-vs-rest problem
    dominated by its negatives. This estimator instead gives the positives of class ``k``
    the weight ``((n - n_k) / n_k) ** balance_power``, i.e. it balances positives against
    negatives *inside* each binary problem (``balance_power=1`` is the same as fitting
    ``OneVsRestClassifier(LinearSVC(class_weight="balanced"))`` up to a rescaling of ``C``),
    but in a single liblinear call. On Banking77 this is worth about +0.3 points of
    accuracy over plain ``LinearSVC``.

    Parameters
    ----------
    C : float, default=0.5
        Regularisation strength (inverse), as in :class:`~sklearn.svm.LinearSVC`.
    balance_power : float, default=0.5
        Exponent of the positive-class weight; 0 disables the re-balancing.
    tol : float, default=1e-4
        Stopping tolerance of liblinear.
    max_iter : int, default=5000
        Maximum number of liblinear iterations.
    random_state : int, RandomState instance or None, default=None
        Seed of liblinear's coordinate-descent shuffling.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights of the decision function.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts of the decision function.
    class_weight_ : dict
        The class weights passed to liblinear.
    n_iter_ : int
        Number of liblinear iterations.
    n_features_in_ : int
        Number of features seen during fit.
    """

    _parameter_constraints: dict[str, list[Any]] = {  # noqa: RUF012 (sklearn convention)
        "C": [Interval(Real, 0.0, None, closed="neither")],
        "balance_power": [Interval(Real, 0.0, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        C: float = 0.5,
        balance_power: float = 0.5,
        tol: float = 1e-4,
        max_iter: int = 5000,
        random_state: Any = None,
    ) -> None:
        self.C = C
        self.balance_power = balance_power
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BalancedLinearSVC:
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training vectors.
        y : array-like of shape (n_samples,)
            Target labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights; they also count towards the class sizes.

        Returns
        -------
        self : BalancedLinearSVC
            The fitted estimator.
        """
        self._validate_params()
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=np.float64, order="C", accept_large_sparse=False
        )
        check_classification_targets(y)
        weights = _check_sample_weight(sample_weight, X, dtype=np.float64)
        classes, encoded = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                f"This solver needs samples of at least 2 classes in the data, but the data "
                f"contains only one class: {classes[0]!r}"
            )
        sizes = np.bincount(encoded, weights=weights, minlength=classes.size)
        total = sizes.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(sizes > 0, (total - sizes) / sizes, 1.0)
        class_weight = {
            label: float(ratio) ** self.balance_power
            for label, ratio in zip(classes.tolist(), ratios, strict=True)
        }
        svc = LinearSVC(
            C=self.C,
            class_weight=class_weight,
            tol=self.tol,
            max_iter=self.max_iter,
            random_state=self.random_state,
        )
        svc.fit(X, y, sample_weight=sample_weight)
        self.classes_ = svc.classes_
        self.coef_ = svc.coef_
        self.intercept_ = svc.intercept_
        self.n_iter_ = svc.n_iter_
        self.class_weight_ = class_weight
        return self

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class CentroidSimilarity(TransformerMixin, BaseEstimator):
    """Cosine similarity of samples to the l2-normalised mean vector of each class.

    A novelty signal for out-of-scope detection that does not depend on how confident the
    classifier is: a message far from every class centroid in the TF-IDF space is unlike
    anything the model was trained on, however peaked its probabilities are. The centroids
    are kept sparse, so the cost is proportional to the features a message has.

    Parameters
    ----------
    exclude : str or None, default=None
        A class left out of the centroids (the "none of these" label): being close to
        out-of-scope examples must not count as being in scope.

    Attributes
    ----------
    classes_ : ndarray of shape (n_centroids,)
        Classes that have a centroid, sorted.
    centroids_ : sparse matrix of shape (n_centroids, n_features)
        l2-normalised class means, CSR.
    n_features_in_ : int
        Number of features seen during fit.
    """

    _parameter_constraints: dict[str, list[Any]] = {  # noqa: RUF012 (sklearn convention)
        "exclude": [str, None],
    }

    def __init__(self, exclude: str | None = None) -> None:
        self.exclude = exclude

    def fit(self, X: Any, y: Any) -> CentroidSimilarity:
        """Compute the class centroids.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Feature vectors (rows are l2-normalised TF-IDF vectors in the pipeline).
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : CentroidSimilarity
            The fitted transformer.
        """
        self._validate_params()
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64)
        check_classification_targets(y)
        classes, encoded = np.unique(y, return_inverse=True)
        keep = np.flatnonzero(classes != self.exclude) if self.exclude is not None else None
        if keep is not None and keep.size == 0:
            raise ValueError("every sample belongs to the excluded class")
        n_classes = classes.size
        membership = sp.csr_matrix(
            (np.ones(encoded.size), (encoded, np.arange(encoded.size))),
            shape=(n_classes, encoded.size),
        )
        sums = sp.csr_matrix(membership @ X)
        if keep is not None:
            classes, sums = classes[keep], sums[keep]
        self.classes_ = classes
        self.centroids_ = normalize(sums, norm="l2").tocsr()
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Cosine similarity of each sample to each centroid.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        ndarray of shape (n_samples, n_centroids)
            Similarities; for non-negative features they lie in [0, 1].
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        scores = normalize(X, norm="l2") @ self.centroids_.T
        return np.asarray(scores.toarray() if sp.issparse(scores) else scores)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        return tags
