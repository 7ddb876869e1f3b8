"""CBPE: calibration equals scikit-learn's isotonic fit; estimates track realized metrics
under covariate shift, where the calibrated probabilities stay right."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from driftwise.performance import metrics as m
from driftwise.performance.calibration import IsotonicCalibrator
from driftwise.performance.estimation import CBPE


@pytest.mark.parametrize("seed", range(5))
def test_isotonic_calibrator_equals_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2000
    scores = np.round(rng.random(n), 2)
    outcomes = (rng.random(n) < scores**2).astype(float)
    probe = rng.uniform(-0.1, 1.1, 500)
    ours = IsotonicCalibrator().fit(scores, outcomes).predict(probe)
    theirs = IsotonicRegression(out_of_bounds="clip").fit(scores, outcomes).predict(probe)
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def _binary_stream(rng: np.random.Generator, n: int, shift: float):
    x = rng.normal(shift, 1.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * x))).astype(np.int64)
    score = 1 / (1 + np.exp(-1.2 * x + 0.3))  # a miscalibrated but monotone score
    return y, score, (score >= 0.5).astype(np.int64)


def test_binary_estimates_track_realized_under_covariate_shift() -> None:
    rng = np.random.default_rng(1)
    y_ref, s_ref, _ = _binary_stream(rng, 20_000, 0.0)
    cbpe = CBPE().fit(y_ref, s_ref)
    for shift in (-1.0, -0.5, 0.0, 0.5, 1.0):
        y, s, pred = _binary_stream(rng, 20_000, shift)
        est = cbpe.estimate(s, pred)
        assert est["roc_auc"] == pytest.approx(m.roc_auc(y, s), abs=0.02)
        assert est["accuracy"] == pytest.approx(m.accuracy(y, pred), abs=0.02)
        assert est["f1"] == pytest.approx(m.f1(y, pred), abs=0.03)
        assert est["precision"] == pytest.approx(m.precision(y, pred), abs=0.03)
        assert est["recall"] == pytest.approx(m.recall(y, pred), abs=0.03)


def test_multiclass_estimates_track_realized() -> None:
    rng = np.random.default_rng(2)
    k = 3

    def window(n: int, shift: float):
        x = rng.normal(shift, 1.0, (n, k))
        logits = 1.5 * x
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        y = np.array([rng.choice(k, p=row) for row in p])
        return y, p, p.argmax(axis=1)

    y_ref, p_ref, _ = window(15_000, 0.0)
    cbpe = CBPE().fit(y_ref, p_ref)
    y, p, pred = window(4000, 0.3)
    est = cbpe.estimate(p, pred)
    assert est["accuracy"] == pytest.approx(m.accuracy(y, pred), abs=0.02)
    assert est["roc_auc"] == pytest.approx(m.roc_auc_ovr(y, p), abs=0.02)
    assert est["f1"] == pytest.approx(m.macro("f1", y, pred, k), abs=0.03)


def test_estimates_are_none_not_nan_when_undefined() -> None:
    rng = np.random.default_rng(3)
    y_ref, s_ref, _ = _binary_stream(rng, 2000, 0.0)
    cbpe = CBPE().fit(y_ref, s_ref)
    s = np.full(100, 0.2)
    est = cbpe.estimate(s, np.zeros(100, dtype=np.int64))
    assert est["precision"] is None
    assert all(v is None or np.isfinite(v) for v in est.values())
    with pytest.raises(ValueError, match="cannot estimate"):
        CBPE(metrics=["log_loss"]).fit(y_ref, s_ref)
