"""The Monitor's bands on estimates and its business value, against direct computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftwise.errors import ConfigError
from driftwise.monitor import Monitor

VALUES = {"tp": 40.0, "fp": -5.0, "fn": -100.0, "tn": 0.0}


def binary_frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    p_true = 1 / (1 + np.exp(-2 * x + 1))
    y = (rng.random(n) < p_true).astype(int)
    proba = np.round(1 / (1 + np.exp(-3 * x + 1.2)), 3)
    return pd.DataFrame({"x": x, "proba": proba, "pred": (proba >= 0.5).astype(int), "y": y})


def _value(frame: pd.DataFrame) -> float:
    y, p = frame.y.to_numpy(), frame.pred.to_numpy()
    return float(np.mean(np.select([(y == 1) & (p == 1), (y == 0) & (p == 1),
                                    (y == 1) & (p == 0)],
                                   [VALUES["tp"], VALUES["fp"], VALUES["fn"]], VALUES["tn"])))


CONFIG = {
    "model": {"task": "binary"},
    "columns": {"prediction": "pred", "probabilities": "proba", "target": "y"},
    "checks": {"bootstrap": 0, "feature_drift": False},
    "business_value": {"matrix": VALUES, "per": 10_000, "unit": "EUR"},
    "alerts": [{"name": "auc may be low", "metric": "estimated.roc_auc.lower",
                "condition": "< 0.5"}],
}


def test_binary_window_reports_bands_and_value() -> None:
    reference = binary_frame(8000, 0)
    monitor = Monitor(CONFIG).fit(reference)
    window = binary_frame(1500, 1)
    result = monitor.run(window)
    m = result.metrics
    for name in ("roc_auc", "accuracy", "precision", "recall", "f1"):
        assert m[f"estimated.{name}.lower"] <= m[f"estimated.{name}"] <= \
            m[f"estimated.{name}.upper"], name
        assert m[f"estimated.{name}.sigma"] > 0
        assert m[f"estimated.{name}.upper"] - m[f"estimated.{name}.lower"] <= \
            6 * m[f"estimated.{name}.sigma"] + 1e-12
    # Realized value and its change against the reference's, per 10,000 predictions.
    assert m["business.value"] == pytest.approx(10_000 * _value(window))
    assert m["business.reference_value"] == pytest.approx(10_000 * _value(reference))
    assert m["business.change"] == pytest.approx(m["business.value"] -
                                                 m["business.reference_value"])
    # The estimate is the expected value under the calibrated probabilities.
    cbpe = monitor.cbpe_
    want = cbpe.estimate(window.proba.to_numpy(), window.pred.to_numpy())["value"]
    assert m["business.estimated_value"] == pytest.approx(10_000 * want)
    assert m["business.estimated_total"] == pytest.approx(1500 * want)
    assert m["business.estimated_value.lower"] <= m["business.estimated_value"] <= \
        m["business.estimated_value.upper"]
    assert m["business.estimated_change"] == pytest.approx(
        m["business.estimated_value"] - m["business.reference_value"])
    # The realized value lies inside the band (3 sigma) on a window like the reference.
    assert m["business.estimated_value.lower"] <= m["business.value"] <= \
        m["business.estimated_value.upper"]
    assert result.alerts == ()


def test_value_falls_under_covariate_shift_and_a_band_rule_fires() -> None:
    monitor = Monitor(CONFIG).fit(binary_frame(8000, 0))
    # Mass moved to where the model is least sure: worse value, AUC near its floor.
    shifted = binary_frame(400, 2, shift=0.4)
    shifted["x"] = np.random.default_rng(3).normal(0.33, 0.05, 400)
    shifted["proba"] = np.round(1 / (1 + np.exp(-3 * shifted.x + 1.2)), 3)
    result = monitor.run(shifted)
    assert result.get("estimated.roc_auc.lower") < 0.5
    assert [a.name for a in result.alerts] == ["auc may be low"]


def test_regression_cost_is_realized_and_estimated() -> None:
    rng = np.random.default_rng(4)

    def frame(n: int) -> pd.DataFrame:
        x = rng.normal(0, 1, n)
        y = 2 * x + rng.normal(0, 0.5 + np.abs(x), n)
        return pd.DataFrame({"x": x, "pred": 2 * x + 0.2, "y": y})

    cfg = {"model": {"task": "regression"},
           "columns": {"prediction": "pred", "target": "y"},
           "checks": {"bootstrap": 0, "feature_drift": False},
           "business_value": {"cost_per_unit": {"over": 1.0, "under": 3.0}, "per": 100}}
    reference = frame(4000)
    monitor = Monitor(cfg).fit(reference)
    window = frame(1000)
    m = monitor.run(window).metrics
    err = window.y - window.pred
    cost = np.mean(np.clip(-err, 0, None) + 3 * np.clip(err, 0, None))
    assert m["business.value"] == pytest.approx(-100 * cost)
    ref_err = reference.y - reference.pred
    ref_cost = np.mean(np.clip(-ref_err, 0, None) + 3 * np.clip(ref_err, 0, None))
    assert m["business.reference_value"] == pytest.approx(-100 * ref_cost)
    assert m["business.estimated_value.lower"] <= m["business.estimated_value"] <= \
        m["business.estimated_value.upper"] <= 0
    assert m["business.estimated_value.lower"] <= m["business.value"] <= \
        m["business.estimated_value.upper"]
    assert "estimated.mae.upper" in m and "estimated.rmse.lower" in m


def test_multiclass_matrix_by_class_name() -> None:
    rng = np.random.default_rng(6)

    def frame(n: int) -> pd.DataFrame:
        x = rng.normal(0, 1, (n, 3))
        p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
        y = (rng.random((n, 1)) > np.cumsum(p, axis=1)).sum(axis=1).clip(0, 2)
        names = np.array(["low", "mid", "high"])
        return pd.DataFrame({"pa": p[:, 0], "pb": p[:, 1], "pc": p[:, 2],
                             "pred": names[p.argmax(axis=1)], "y": names[y]})

    matrix = {"low": {"low": 1.0, "high": -4.0}, "high": {"high": 3.0, "low": -2.0}}
    cfg = {"model": {"task": "multiclass"},
           "columns": {"prediction": "pred", "target": "y",
                       "probabilities": {"low": "pa", "mid": "pb", "high": "pc"}},
           "checks": {"bootstrap": 0, "feature_drift": False},
           "business_value": {"matrix": matrix, "per": 1}}
    monitor = Monitor(cfg).fit(frame(3000))
    window = frame(800)
    m = monitor.run(window).metrics
    lookup = {(t, p): v for t, row in matrix.items() for p, v in row.items()}
    want = np.mean([lookup.get((t, p), 0.0) for t, p in zip(window.y, window.pred,
                                                            strict=True)])
    assert m["business.value"] == pytest.approx(want)
    bad = {**cfg, "business_value": {"matrix": {"low": {"nope": 1.0}}}}
    with pytest.raises(ConfigError, match="'nope' is not a class"):
        Monitor(bad).fit(frame(500))


@pytest.mark.parametrize("value, message", [
    ({"cost_per_unit": {"over": 1}}, "a classifier gives matrix"),
    ({"matrix": VALUES, "cost_per_unit": {"over": 1}}, "give `matrix`"),
    ({"matrix": {"a": {"b": 1.0}}}, "binary model gives"),
    ({"matrix": {"tp": 1.0, "fp": "lots"}}, "business_value"),
    ({"cost_per_unit": {"over": -1}}, "business_value"),
])
def test_bad_business_value_is_refused_by_name(value: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Monitor({**CONFIG, "business_value": value}).fit(binary_frame(500, 0))


def test_a_value_threshold_needs_the_value_it_is_measured_in() -> None:
    cfg = {key: v for key, v in CONFIG.items() if key != "business_value"}
    with pytest.raises(ConfigError, match=r"policy\.value_loss needs a business_value section"):
        Monitor({**cfg, "policy": {"value_loss": 100.0}}).fit(binary_frame(500, 0))


def test_calibration_and_band_width_are_configurable() -> None:
    cfg = {**CONFIG, "checks": {**CONFIG["checks"], "estimated_performance": {
        "calibrate": False, "band_sigmas": 1.0}}}
    monitor = Monitor(cfg).fit(binary_frame(4000, 0))
    assert not monitor.cbpe_.calibration_[0].calibrated
    m = monitor.run(binary_frame(1000, 1)).metrics
    width = m["estimated.accuracy.upper"] - m["estimated.accuracy.lower"]
    assert width == pytest.approx(2 * m["estimated.accuracy.sigma"], rel=1e-9)
