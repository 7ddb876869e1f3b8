"""checks.outliers in a Monitor: per-window outlier metrics whose p-value holds its level on
clean windows (over references), and catches planted outliers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftwise.config.monitor import parse_monitor_config
from driftwise.errors import ConfigError
from driftwise.monitor import Monitor
from driftwise.monitor.outliers import screen_verdicts

CONFIG = {"model": {"name": "m", "task": "binary"},
          "columns": {"prediction": "pred", "probabilities": "proba", "target": "y"},
          "checks": {"outliers": True, "feature_drift": False, "performance": False,
                     "estimated_performance": False}}


def _frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    x = rng.normal(size=(n, 3))
    p = 1.0 / (1.0 + np.exp(-x[:, 0]))
    return pd.DataFrame({"a": x[:, 0], "b": rng.lognormal(size=n), "c": x[:, 2], "proba": p,
                         "pred": (p > 0.5).astype(int), "y": (rng.random(n) < p).astype(int)})


def test_the_window_p_value_holds_its_level_on_clean_windows() -> None:
    # One window per reference: windows of one reference share its calibration rows, so
    # the level is a statement over references (what a user's reference is drawn from).
    p_values = []
    for draw in range(100):
        rng = np.random.default_rng(draw)
        monitor = Monitor(CONFIG).fit(_frame(rng, 1000))
        p_values.append(monitor.run(_frame(rng, 500)).metrics["outliers.p_value"])
    rate = np.mean(np.array(p_values) < 0.05)
    assert rate <= 0.05 + 2.5 * np.sqrt(0.05 * 0.95 / 100)


def test_planted_outliers_are_counted_and_quarantined() -> None:
    rng = np.random.default_rng(30)
    monitor = Monitor(CONFIG).fit(_frame(rng, 3000))
    window = _frame(rng, 1000)
    window.loc[:49, "c"] = 30.0  # 50 rows far beyond the lognormal b's own tail
    metrics = monitor.run(window).metrics
    assert metrics["outliers.p_value"] < 1e-6
    assert metrics["outliers.quarantined"] >= 45
    result = monitor.outliers_.detect(window.iloc[:60])
    assert monitor.outliers_.quarantine_level == pytest.approx(1 / 1501)
    verdicts = screen_verdicts(result, monitor.outliers_.quarantine_level)
    assert verdicts[:50].count("quarantine") >= 45 and "allow" in verdicts[50:]


def test_a_level_the_reference_cannot_reach_is_refused_at_fit() -> None:
    strict = {**CONFIG, "checks": {**CONFIG["checks"], "outliers": {  # type: ignore[dict-item]
        "alpha": 0.01, "quarantine_alpha": 0.001}}}
    with pytest.raises(ConfigError, match=r"quarantine_alpha = 0.001 is below the smallest "
                                          r"p-value the reference can give \(0.002: 1 / \(500"):
        Monitor(strict).fit(_frame(np.random.default_rng(31), 1000))


def test_bad_outlier_settings_are_named() -> None:
    bad = {**CONFIG, "checks": {"outliers": {"alpha": 0.001, "quarantine_alpha": 0.01}}}
    with pytest.raises(ConfigError, match=r"quarantine_alpha \(0.01\) must not exceed alpha"):
        parse_monitor_config(bad, "config")
    with pytest.raises(ConfigError, match=r"checks\.outliers\.detector"):
        parse_monitor_config({**CONFIG, "checks": {"outliers": {"detector": "lof"}}}, "config")


def test_checks_confidence_reports_a_fall_of_the_models_confidence() -> None:
    rng = np.random.default_rng(40)
    config = {**CONFIG, "checks": {**CONFIG["checks"], "confidence": True}}  # type: ignore[dict-item]
    monitor = Monitor(config).fit(_frame(rng, 3000))
    clean = monitor.run(_frame(rng, 1000)).metrics
    assert clean["confidence.drift_detected"] is False
    assert abs(clean["confidence.relative_change"]) < 0.05
    unsure = _frame(rng, 1000)
    unsure["proba"] = 0.5 + (unsure["proba"] - 0.5) * 0.6  # margins 40 % smaller
    unsure["pred"] = (unsure["proba"] > 0.5).astype(int)
    shifted = monitor.run(unsure).metrics
    assert shifted["confidence.drift_detected"] is True
    assert shifted["confidence.relative_change"] == pytest.approx(-0.4, abs=0.02)
    assert shifted["confidence.p_value"] < 1e-6
    no_proba = {**config, "columns": {"prediction": "pred", "target": "y"}}
    with pytest.raises(ConfigError, match=r"checks\.confidence needs the model's probabilities"):
        Monitor(no_proba).fit(_frame(rng, 500).drop(columns="proba"))


def test_checks_new_clusters_finds_a_crafted_group_in_a_window() -> None:
    rng = np.random.default_rng(50)
    config = {**CONFIG, "checks": {**CONFIG["checks"], "new_clusters": True}}  # type: ignore[dict-item]
    monitor = Monitor(config).fit(_frame(rng, 4000))
    clean = monitor.run(_frame(rng, 1500))
    assert clean.metrics["new_clusters.detected"] is False
    window = _frame(rng, 1500)
    crafted = window.index[:80]
    window.loc[crafted, "a"] = 2.5 + 0.05 * rng.normal(size=80)  # profiles in a tight
    window.loc[crafted, "c"] = -2.5 + 0.05 * rng.normal(size=80)  # corner of the reference
    window.loc[crafted, "b"] = 1.0 + 0.05 * rng.normal(size=80)
    found = monitor.run(window)
    assert found.metrics["new_clusters.detected"] is True
    assert found.metrics["new_clusters.largest"] >= 60
    assert "set apart by" in found.reasons["new_clusters.largest"]
