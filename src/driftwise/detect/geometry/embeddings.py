"""Embedding drift: MMD, a domain classifier and the distance between mean embeddings.

Input: 2-D arrays (one vector per row) or a column of vectors. The three views answer
different questions: MMD sees any change of the distribution, the classifier says how
separable the samples are and which dimensions separate them, and the distance between the
mean embeddings is the coarse "has the centre moved" number users can plot over time.

The mean distance has no closed-form null: its threshold is the ``1 - alpha`` quantile of the
same distance between two bootstrap resamples of the reference with the reference's and the
current's sizes (Efron & Tibshirani 1993), so it already accounts for the sample sizes.
Drift is called when any view signals, each at ``alpha / views`` (Bonferroni).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftwise.detect.geometry._matrix import FloatMatrix, as_matrix, require_samples, same_width
from driftwise.detect.geometry.classifier import DomainClassifierResult, domain_classifier_test
from driftwise.detect.geometry.mmd import MMDResult, mmd_test
from driftwise.errors import ConfigError, NotFittedError

DISTANCES = ("cosine", "euclidean")
EMBEDDING_TESTS = ("mmd", "classifier", "mean_distance")
MIN_ROWS = 10


@dataclass(frozen=True)
class MeanDistanceResult:
    """Distance between the mean vectors and its reference-bootstrap threshold."""

    distance: float
    metric: str
    threshold: float
    n_bootstrap: int
    drift_detected: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"distance": self.distance, "metric": self.metric, "threshold": self.threshold,
                "n_bootstrap": self.n_bootstrap, "drift_detected": self.drift_detected}


@dataclass(frozen=True)
class EmbeddingDrift:
    """What the embedding views found for one column (or one pair of arrays)."""

    name: str
    reference_rows: int
    current_rows: int
    dimensions: int
    drift_detected: bool
    mmd: MMDResult | None = None
    classifier: DomainClassifierResult | None = None
    mean_distance: MeanDistanceResult | None = None
    alpha: float = 0.05
    skipped: str | None = None
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "name": self.name, "reference_rows": self.reference_rows,
            "current_rows": self.current_rows, "dimensions": self.dimensions,
            "drift_detected": self.drift_detected, "alpha": self.alpha,
            "mmd": self.mmd.to_dict() if self.mmd else None,
            "classifier": self.classifier.to_dict() if self.classifier else None,
            "mean_distance": self.mean_distance.to_dict() if self.mean_distance else None,
            "skipped": self.skipped, "notes": list(self.notes),
        }


def skipped_embedding(name: str, reason: str, reference_rows: int = 0,
                      current_rows: int = 0) -> EmbeddingDrift:
    """An explicit "not tested" result that says why and what to do."""
    return EmbeddingDrift(name, reference_rows, current_rows, 0, False, skipped=reason)


def mean_distance(a: NDArray[np.float64], b: NDArray[np.float64], metric: str) -> float:
    """Cosine distance (1 - cos) or Euclidean distance between two mean vectors."""
    if metric == "euclidean":
        return float(np.linalg.norm(a - b))
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0.0 or nb == 0.0:
        return 0.0 if na == nb else 1.0
    return float(1.0 - np.dot(a, b) / (na * nb))


def _bootstrap_means(x: FloatMatrix, size: int, n_boot: int,
                     rng: np.random.Generator) -> NDArray[np.float64]:
    """Means of ``n_boot`` resamples of ``size`` rows, as one product of counts and rows."""
    counts = rng.multinomial(size, np.full(x.shape[0], 1.0 / x.shape[0]), size=n_boot)
    means: NDArray[np.float64] = (counts.astype(np.float64) @ x.astype(np.float64)) / size
    return means


class EmbeddingDriftDetector:
    """Drift between a reference and a current set of embedding vectors.

    Parameters
    ----------
    tests : sequence of {"mmd", "classifier", "mean_distance"}
        The views to compute (all by default).
    alpha : float
        Family-wise level over the views (Bonferroni).
    n_permutations, bandwidth, scales, mmd_method, backend
        MMD settings (see :func:`~driftwise.detect.geometry.mmd.mmd_permutation_test`).
    classifier : {"logistic", "gradient_boosting"}
        Domain classifier; logistic regression by default for embeddings (dense, mostly
        linear shifts; gradient boosting on 384 dimensions costs ~10x more).
    folds, importances : int
        Cross-validation folds and the number of top dimensions reported.
    metric : {"cosine", "euclidean"}
        Distance between mean embeddings.
    n_bootstrap : int
        Reference bootstrap resamples for the mean-distance threshold.
    min_auc : float
        Smallest held-out AUC that counts as drift for the classifier view.
    max_rows : int
        Rows per sample used (a seeded random subset above it).
    seed : int

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=(500, 16)).astype(np.float32)
    >>> cur = rng.normal(0.3, 1, size=(500, 16)).astype(np.float32)
    >>> EmbeddingDriftDetector().fit(ref).compare(cur).drift_detected
    True
    """

    def __init__(
        self, *, tests: Sequence[str] = EMBEDDING_TESTS, alpha: float = 0.05,
        n_permutations: int = 100, bandwidth: float | Sequence[float] | None = None,
        scales: Sequence[float] = (1.0,), mmd_method: str = "auto", backend: str = "numpy",
        classifier: str = "logistic", folds: int = 2, importances: int = 5,
        metric: str = "cosine", n_bootstrap: int = 200, min_auc: float = 0.55,
        max_rows: int = 5000, seed: int = 0,
    ) -> None:
        self.tests = tests
        self.alpha = alpha
        self.n_permutations = n_permutations
        self.bandwidth = bandwidth
        self.scales = scales
        self.mmd_method = mmd_method
        self.backend = backend
        self.classifier = classifier
        self.folds = folds
        self.importances = importances
        self.metric = metric
        self.n_bootstrap = n_bootstrap
        self.min_auc = min_auc
        self.max_rows = max_rows
        self.seed = seed

    def _validate(self) -> None:
        unknown = [t for t in self.tests if t not in EMBEDDING_TESTS]
        if unknown or not self.tests:
            raise ConfigError(f"embedding tests must be among {', '.join(EMBEDDING_TESTS)}, "
                              f"got {list(self.tests)}")
        if self.metric not in DISTANCES:
            raise ConfigError(f"metric: unknown value {self.metric!r}; choose cosine or "
                              "euclidean")
        if not 0.0 < self.alpha < 1.0:
            raise ConfigError(f"alpha must lie strictly between 0 and 1, got {self.alpha}")

    def _subsample(self, x: FloatMatrix, salt: int) -> FloatMatrix:
        if x.shape[0] <= self.max_rows:
            return x
        idx = np.random.default_rng(self.seed + salt).choice(x.shape[0], self.max_rows,
                                                              replace=False)
        return x[np.sort(idx)]

    def fit(self, reference: Any, *, name: str = "embedding") -> EmbeddingDriftDetector:
        """Validate and keep the reference vectors (``reference_`` ), and their mean."""
        self._validate()
        x = as_matrix(reference, name, "reference")
        require_samples(x.shape[0], MIN_ROWS, name, "reference", "embedding drift")
        self.name_ = name
        self.reference_ = self._subsample(x, 0)
        self.reference_mean_ = x.astype(np.float64).mean(axis=0)
        return self

    def compare(self, current: Any) -> EmbeddingDrift:
        """Run the configured views on ``current``."""
        ref = getattr(self, "reference_", None)
        if ref is None:
            raise NotFittedError("this EmbeddingDriftDetector is not fitted: call fit first")
        name = self.name_
        y = as_matrix(current, name, "current")
        same_width(ref, y, name)
        require_samples(y.shape[0], MIN_ROWS, name, "current", "embedding drift")
        y_used = self._subsample(y, 1)
        x = ref.astype(np.float32) if y_used.dtype == np.float32 else ref
        y_used = y_used.astype(x.dtype, copy=False)
        level = self.alpha / len(self.tests)
        mmd = cls = dist = None
        signals = []
        if "mmd" in self.tests:
            mmd = mmd_test(x, y_used, method=self.mmd_method, n_permutations=self.n_permutations,
                           bandwidth=self.bandwidth, scales=self.scales, seed=self.seed,
                           backend=self.backend)
            signals.append(mmd.p_value < level)
        if "classifier" in self.tests:
            cls = domain_classifier_test(
                x, y_used, feature_names=[f"dim_{i}" for i in range(x.shape[1])],
                classifier=self.classifier, folds=self.folds, importances=self.importances,
                seed=self.seed,
            )
            signals.append(cls.p_value < level and cls.auc >= self.min_auc)
        if "mean_distance" in self.tests:
            dist = self._mean_distance(y, level)
            signals.append(dist.drift_detected)
        return EmbeddingDrift(name, ref.shape[0], y.shape[0], ref.shape[1], any(signals),
                              mmd, cls, dist, self.alpha)

    def _mean_distance(self, y: FloatMatrix, level: float) -> MeanDistanceResult:
        ref = self.reference_
        observed = mean_distance(self.reference_mean_, y.astype(np.float64).mean(axis=0),
                                 self.metric)
        rng = np.random.default_rng(self.seed)
        a = _bootstrap_means(ref, ref.shape[0], self.n_bootstrap, rng)
        b = _bootstrap_means(ref, y.shape[0], self.n_bootstrap, rng)
        null = np.array([mean_distance(a[i], b[i], self.metric) for i in range(self.n_bootstrap)])
        threshold = float(np.quantile(null, 1.0 - level))
        return MeanDistanceResult(observed, self.metric, threshold, self.n_bootstrap,
                                  bool(observed > threshold and math.isfinite(observed)))
