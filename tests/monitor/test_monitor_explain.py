"""Plain-words explanations: each sentence from its facts, for each kind of window."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftwise.act.policy import Decision
from driftwise.monitor import Monitor
from driftwise.monitor.explain import FeatureShift, explain
from driftwise.monitor.segments import Slice


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    seg = rng.choice(["north", "south"], n)
    p = 1 / (1 + np.exp(-2 * x))
    y = (rng.random(n) < p).astype(int)
    return pd.DataFrame({"x": x, "seg": seg, "proba": p, "pred": (p >= 0.5).astype(int),
                         "y": y})


CONFIG = {
    "model": {"task": "binary"},
    "columns": {"prediction": "pred", "probabilities": "proba", "target": "y",
                "segments": ["seg"]},
    "checks": {"bootstrap": 0},
    "business_value": {"matrix": {"tp": 10, "fp": -2, "fn": -30, "tn": 1}, "per": 10000,
                       "unit": "EUR"},
    "expectations": {"columns": {"x": {"range": {"min": -6, "max": 6}}}},
    "alerts": [{"name": "inputs drifted", "metric": "drift.dataset.drift_detected",
                "condition": "== true"}],
}


@pytest.fixture(scope="module")
def monitor() -> Monitor:
    return Monitor(CONFIG).fit(frame(6000, 0))


def test_a_quiet_window_says_so(monitor: Monitor) -> None:
    story = monitor.run(frame(1500, 1).drop(columns=["y"])).explanation
    assert story is not None
    assert story.summary == "Nothing changed that the checks can see."
    assert story.changed == ()
    assert any(s.startswith("Estimated ROC AUC") and "band" in s and "on the reference" in s
               for s in story.impact)
    assert any(s.startswith("Estimated value against the reference:") and "per 10,000 "
               "predictions" in s and "EUR" in s for s in story.impact)
    assert story.action == "none" and story.recommendation.startswith(
        "Recommendation: No action needed")


def test_drift_is_told_in_the_units_of_the_data(monitor: Monitor) -> None:
    window = frame(1500, 2, shift=1.0).drop(columns=["y"])
    result = monitor.run(window)
    story = result.explanation
    assert "Inputs drifted (x" in story.summary and "Alerts: inputs drifted" in story.summary
    line = next(s for s in story.changed if s.startswith("x moved"))
    median_now = float(np.median(window.x))
    assert f"median {median_now:.3g}" in line and "wasserstein" in line
    assert result.to_dict()["explanation"]["text"] == story.text


def test_broken_rules_lead_and_the_recommendation_says_fix_the_data(monitor: Monitor) -> None:
    window = frame(1500, 3)
    window.loc[window.index[:50], "x"] = 99.0
    story = monitor.run(window).explanation
    assert story.summary.startswith("1 data rule(s) broken")
    assert any("data expectation(s) fail: x.range" in s for s in story.changed)
    assert "fix the upstream data first" in story.recommendation


def test_a_costly_shift_recommends_retraining_with_its_reasons() -> None:
    cfg = {**CONFIG, "policy": {"value_loss": 100.0}}
    monitor = Monitor(cfg).fit(frame(6000, 0))
    # Mass moved next to the decision threshold, where the model is least sure.
    window = frame(1500, 4)
    window["x"] = np.random.default_rng(5).normal(0.0, 0.15, 1500)
    window["proba"] = 1 / (1 + np.exp(-2 * window.x))
    window["pred"] = (window.proba >= 0.5).astype(int)
    result = monitor.run(window.drop(columns=["y"]))
    story = result.explanation
    assert result.get("business.estimated_change.upper") < -100
    assert "costing value against the reference" in story.summary
    assert story.action == "retrain"
    assert "value lost against the reference" in story.recommendation


def test_templates_from_facts_alone() -> None:
    shifts = [FeatureShift("income", "numeric", 0.42, "wasserstein_normed",
                           "median 41,000, mean 45,000", "median 52,000, mean 55,100")]
    slices = [Slice("region=north", 800, 3000, 0.71, 0.82, 0.11, 5.2, "estimated")]
    decision = Decision("recalibrate", ["the ranking held"])
    metrics = {"drift.dataset.drifted_columns": 4, "estimated.accuracy": 0.74,
               "estimated.accuracy.lower": 0.70, "estimated.accuracy.upper": 0.78,
               "business.estimated_change": -12400.0,
               "business.estimated_change.lower": -15000.0,
               "business.estimated_change.upper": -9800.0,
               "concept.relation_changed": True, "concept.features_changed": 2}
    story = explain(metrics, shifts=shifts, slices=slices,
                    reference_performance={"accuracy": 0.82}, value_per=10000,
                    value_unit="EUR", decision=decision)
    assert story.changed[0] == "1 of 4 drifted feature(s), largest first:"
    assert story.changed[1] == ("income moved: median 41,000, mean 45,000 on the reference, "
                                "median 52,000, mean 55,100 now (wasserstein_normed 0.42).")
    assert "(2 feature(s)): label-free estimates cannot be trusted" in story.changed[2]
    assert story.impact == (
        "Estimated accuracy 0.74 (band 0.7 to 0.78), against 0.82 on the reference.",
        "Estimated value against the reference: -12,400 EUR per 10,000 predictions "
        "(band -15,000 EUR to -9,800 EUR).")
    assert story.where == ("Worst segment region=north: estimated accuracy 0.710 against "
                           "0.820 on the reference (800 rows).",)
    assert story.recommendation == "Recommendation: Recalibrate the model: the ranking held."
    assert story.summary == ("Inputs drifted (income); the relation between the features and "
                             "the target changed; costing value against the reference.")
