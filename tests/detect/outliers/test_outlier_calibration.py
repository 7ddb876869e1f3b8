"""Conformal p-values: on clean data the share flagged at alpha is alpha, whatever the
detector and the data (many draws, fixed seeds); planted outliers get small p-values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftwise.detect.outliers import (
    IsolationForestOutliers,
    KNNOutliers,
    MahalanobisOutliers,
    OutlierDetector,
    PyODOutliers,
)

DRAWS = 40


class _DistanceToMean:
    """A PyOD-shaped detector (fit / decision_function, larger = more outlying)."""

    def fit(self, x: np.ndarray) -> _DistanceToMean:
        self.mean = x.mean(axis=0)
        return self

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        return np.linalg.norm(x - self.mean, axis=1)


def _make(name: str, seed: int) -> OutlierDetector:
    if name == "isolation_forest":
        return IsolationForestOutliers(n_estimators=50, seed=seed)
    if name == "mahalanobis":
        return MahalanobisOutliers(seed=seed)
    if name == "knn":
        return KNNOutliers(k=5, seed=seed)
    return PyODOutliers(_DistanceToMean(), seed=seed)


def _skewed(rng: np.random.Generator, n: int) -> np.ndarray:
    """Not Gaussian: log-normal, a two-component mixture and a heavy-tailed column."""
    return np.column_stack([
        rng.lognormal(0.0, 0.8, n),
        np.where(rng.random(n) < 0.3, rng.normal(-3.0, 0.5, n), rng.normal(2.0, 1.0, n)),
        rng.standard_t(3, n),
        rng.normal(size=n),
    ])


@pytest.mark.parametrize("name", ["isolation_forest", "mahalanobis", "knn", "pyod"])
@pytest.mark.parametrize("alpha", [0.05, 0.01])
def test_share_flagged_on_clean_data_is_alpha(name: str, alpha: float) -> None:
    shares = []
    for draw in range(DRAWS):
        rng = np.random.default_rng(1000 + draw)
        det = _make(name, seed=draw).fit(_skewed(rng, 1000))
        shares.append(det.detect(_skewed(rng, 2000), alpha=alpha).share_flagged)
    assert 0.8 * alpha <= float(np.mean(shares)) <= 1.2 * alpha


@pytest.mark.parametrize("name", ["isolation_forest", "mahalanobis", "knn", "pyod"])
def test_planted_outliers_get_small_p_values(name: str) -> None:
    rng = np.random.default_rng(7)
    det = _make(name, seed=0).fit(rng.normal(size=(2000, 5)))
    clean = rng.normal(size=(500, 5))
    far = rng.normal(size=(50, 5))
    if name == "isolation_forest":
        # Isolation Forest saturates beyond the reference's range: a row 8 sds out in one
        # feature of five is isolated about as fast as the reference's own extremes (its
        # trees cannot split outside the range they saw; docs/outliers.md). Far in all.
        far += 5.0
    else:
        far[:, 0] += 8.0  # eight sds out in one feature
    result = det.detect(np.vstack([clean, far]), alpha=0.01)
    assert np.mean(result.p_values[500:] <= 0.01) >= 0.9
    assert result.share_flagged < 0.15


def test_the_p_value_is_the_share_of_calibration_scores_at_least_as_extreme() -> None:
    rng = np.random.default_rng(8)
    det = KNNOutliers().fit(rng.normal(size=(400, 3)))
    x = rng.normal(size=(300, 3)) * 1.5
    scores = det.score(x)
    cal = det.calibration_scores_
    expected = np.array([(1 + np.sum(cal >= s)) / (cal.size + 1) for s in scores])
    assert np.array_equal(det.p_values(x), expected)
    # Ties at a calibration score count as "at least as extreme".
    assert det.p_values_of_scores(cal[[0]])[0] == 1.0
    assert det.p_values_of_scores(np.array([np.inf]))[0] == 1.0 / (cal.size + 1)


def test_mixed_table_with_holes_and_unseen_categories_is_scored() -> None:
    rng = np.random.default_rng(9)
    n = 1500

    def frame(size: int, shift: float = 0.0) -> pd.DataFrame:
        return pd.DataFrame({
            "amount": rng.lognormal(3.0, 1.0, size) + shift,
            "age": rng.normal(40.0, 10.0, size),
            "channel": rng.choice(["web", "app", "shop"], size, p=[0.6, 0.3, 0.1]),
            "vip": rng.random(size) < 0.1,
        })

    reference = frame(n)
    reference.loc[rng.choice(n, 50, replace=False), "age"] = np.nan
    det = IsolationForestOutliers(seed=1).fit(reference)
    assert "channel=web" in det.features_.feature_names_
    current = frame(400)
    current.loc[0, "age"] = np.nan
    current.loc[1, "channel"] = None
    current.loc[2, "channel"] = "fax"  # never seen
    result = det.detect(current, alpha=0.01)
    assert result.missing[0] == 1 and result.missing[1] == 1 and result.missing[2] == 0
    assert np.isfinite(result.p_values).all()
    assert 0.0 <= result.share_flagged < 0.05
    # The calibration holds on such data as well (pooled over draws).
    shares = []
    for draw in range(20):
        det = MahalanobisOutliers(seed=draw).fit(frame(1000))
        shares.append(det.detect(frame(1000), alpha=0.05).share_flagged)
    assert 0.04 <= float(np.mean(shares)) <= 0.06


def test_embeddings_are_scored_as_vectors() -> None:
    rng = np.random.default_rng(10)
    centers = rng.normal(size=(3, 16))
    ref = centers[rng.integers(0, 3, 3000)] + 0.1 * rng.normal(size=(3000, 16))
    table = pd.DataFrame({"embedding": list(ref)})
    det = KNNOutliers().fit(table)
    assert det.features_.feature_names_[0] == "embedding[0]"
    new_cluster = rng.normal(size=16) + 0.1 * rng.normal(size=(20, 16))
    ordinary = centers[rng.integers(0, 3, 200)] + 0.1 * rng.normal(size=(200, 16))
    p = det.p_values(pd.DataFrame({"embedding": list(np.vstack([ordinary, new_cluster]))}))
    assert np.mean(p[200:] <= 0.01) == 1.0 and np.mean(p[:200] <= 0.01) < 0.05
