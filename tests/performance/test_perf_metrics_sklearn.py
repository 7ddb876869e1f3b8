"""Every realized metric equals scikit-learn's on random windows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from driftwise.performance import metrics as m
from driftwise.performance import realized_metrics


def binary_window(seed: int, n: int, ties: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = np.clip(0.3 * y + rng.normal(0.35, 0.25, n), 0, 1)
    if ties:
        score = np.round(score, 1)
    y[0], y[1] = 0, 1  # both classes present
    return y, (score >= 0.5).astype(np.int64), score


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(4, 3000), ties=st.booleans())
def test_binary_metrics_equal_sklearn(seed: int, n: int, ties: bool) -> None:
    y, pred, score = binary_window(seed, n, ties)
    assert m.accuracy(y, pred) == pytest.approx(skm.accuracy_score(y, pred), rel=1e-12)
    if pred.sum():
        assert m.precision(y, pred) == pytest.approx(skm.precision_score(y, pred), rel=1e-12)
    assert m.recall(y, pred) == pytest.approx(skm.recall_score(y, pred), rel=1e-12)
    assert m.f1(y, pred) == pytest.approx(skm.f1_score(y, pred), rel=1e-12)
    assert m.roc_auc(y, score) == pytest.approx(skm.roc_auc_score(y, score), rel=1e-12)
    assert m.average_precision(y, score) == pytest.approx(
        skm.average_precision_score(y, score), rel=1e-12)
    assert m.log_loss(y, score) == pytest.approx(skm.log_loss(y, score), rel=1e-12)
    assert m.brier(y, score) == pytest.approx(skm.brier_score_loss(y, score), rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(30, 3000), k=st.integers(3, 6))
def test_multiclass_metrics_equal_sklearn(seed: int, n: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    y = np.r_[np.arange(k), rng.integers(0, k, n - k)]
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.0
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = proba.argmax(axis=1)
    labels = list(range(k))
    assert m.accuracy(y, pred) == pytest.approx(skm.accuracy_score(y, pred))
    for name, sk in (("precision", skm.precision_score), ("recall", skm.recall_score),
                     ("f1", skm.f1_score)):
        expected = sk(y, pred, average="macro", labels=labels, zero_division=0)
        assert m.macro(name, y, pred, k) == pytest.approx(expected, rel=1e-12)
    assert m.roc_auc_ovr(y, proba) == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", average="macro"), rel=1e-12)
    assert m.log_loss(y, proba) == pytest.approx(skm.log_loss(y, proba, labels=labels),
                                                 rel=1e-12)
    onehot = np.eye(k)[y]
    assert m.brier(y, proba) == pytest.approx(
        np.mean(np.sum((proba - onehot) ** 2, axis=1)), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(3, 3000))
def test_regression_metrics_equal_sklearn(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.lognormal(3, 1, n)
    pred = y * rng.normal(1, 0.1, n)
    assert m.mae(y, pred) == pytest.approx(skm.mean_absolute_error(y, pred), rel=1e-12)
    assert m.rmse(y, pred) == pytest.approx(skm.root_mean_squared_error(y, pred), rel=1e-12)
    assert m.mape(y, pred) == pytest.approx(
        skm.mean_absolute_percentage_error(y, pred), rel=1e-12)
    assert m.r2(y, pred) == pytest.approx(skm.r2_score(y, pred), rel=1e-12)


def test_ece_matches_a_reliability_diagram_from_sklearn() -> None:
    from sklearn.calibration import calibration_curve

    y, _, score = binary_window(3, 5000, ties=False)
    frac_pos, mean_pred = calibration_curve(y, score, n_bins=10, strategy="uniform")
    counts = np.histogram(score, bins=np.linspace(0, 1, 11))[0]
    counts = counts[counts > 0]
    expected = float(np.sum(counts / counts.sum() * np.abs(frac_pos - mean_pred)))
    assert m.expected_calibration_error(y, score) == pytest.approx(expected, rel=1e-9)


def test_undefined_metrics_are_reasons_not_nans() -> None:
    y = np.zeros(50, dtype=np.int64)
    score = np.linspace(0, 1, 50)
    out = realized_metrics("binary", y, (score > 0.5).astype(np.int64), score, n_boot=0)
    assert out["roc_auc"].value is None and "only one class" in out["roc_auc"].reason
    assert out["recall"].value is None
    assert out["accuracy"].value == pytest.approx(0.5)
    no_proba = realized_metrics("binary", y, y, None, n_boot=0)
    assert no_proba["log_loss"].value is None and "probabilities" in no_proba["log_loss"].reason
    flat = realized_metrics("regression", np.ones(10), np.ones(10), n_boot=0)
    assert flat["r2"].reason == "r2: the target is constant in the window"


def test_bootstrap_interval_covers_the_truth_at_nominal_rate() -> None:
    """95% percentile-bootstrap intervals of accuracy cover the true accuracy ~95% of the time."""
    rng = np.random.default_rng(0)
    covered = 0
    draws = 200
    for i in range(draws):
        y = rng.integers(0, 2, 400)
        pred = np.where(rng.random(400) < 0.8, y, 1 - y)  # true accuracy 0.8
        res = realized_metrics("binary", y, pred, metrics=["accuracy"], n_boot=300, seed=i)
        covered += res["accuracy"].lower <= 0.8 <= res["accuracy"].upper
    assert 0.90 <= covered / draws <= 0.99
