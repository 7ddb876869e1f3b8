"""The none / recalibrate / retrain decision follows its rules and says why; recalibration
of a miscalibrated classifier improves its held-out probabilities, and is refused when it
would not."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from driftwise.act.policy import (
    Evidence,
    RetrainPolicy,
    evidence_from_window,
    expected_calibration_error,
    recalibrate,
)
from driftwise.errors import ConfigError, InsufficientDataError

POLICY = RetrainPolicy()


def test_the_decision_rules() -> None:
    quiet = POLICY.decide(Evidence(drift_share=0.3, estimated_loss=0.002, labels=5000))
    assert quiet.action == "none" and "watched, not acted on" in " ".join(quiet.reasons)
    big = POLICY.decide(Evidence(realized_loss=0.08, labels=5000))
    assert big.action == "retrain" and not big.waiting_for_labels
    early = POLICY.decide(Evidence(estimated_loss=0.07, labels=10))
    assert early.action == "retrain" and early.waiting_for_labels
    assert "estimated performance loss 0.070" in early.reasons[0]
    ranking = POLICY.decide(Evidence(realized_loss=0.0, auc_drop=0.04, labels=5000))
    assert ranking.action == "retrain" and "recalibration cannot fix" in ranking.reasons[0]
    probabilities = POLICY.decide(Evidence(realized_loss=0.0, auc_drop=0.0, ece_rise=0.08,
                                           labels=500))
    assert probabilities.action == "recalibrate"
    few = POLICY.decide(Evidence(ece_rise=0.08, labels=20))
    assert few.action == "none" and few.waiting_for_labels
    # Realized loss wins over the estimate once there are labels.
    both = POLICY.decide(Evidence(estimated_loss=0.09, realized_loss=0.0, labels=800))
    assert both.action == "none"
    with pytest.raises(ConfigError, match="recalibrate_loss must be below retrain_loss"):
        RetrainPolicy(recalibrate_loss=0.1, retrain_loss=0.05)


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    p = 1 / (1 + np.exp(-(x[:, 0] - 0.5 * x[:, 1])))
    return x, (rng.random(n) < p).astype(int)


def test_recalibration_fixes_overconfident_probabilities() -> None:
    x, y = _data(4000, 1)
    model = LogisticRegression().fit(x, y)
    model.coef_ = model.coef_ * 4.0  # overconfident: same ranking, wrong probabilities
    model.intercept_ = model.intercept_ * 4.0
    recent_x, recent_y = _data(3000, 2)
    out = recalibrate(model, recent_x, recent_y)
    assert out.accepted and out.model is not model
    assert out.brier_after < out.brier_before and out.ece_after < out.ece_before / 2
    # A well-calibrated model has little to gain, and the original is returned whenever
    # the held-out Brier score did not improve.
    good = LogisticRegression().fit(x, y)
    kept = recalibrate(good, recent_x, recent_y, method="isotonic", seed=3)
    assert kept.ece_before < 0.08 and abs(kept.brier_after - kept.brier_before) < 0.01
    if not kept.accepted:
        assert kept.model is good
    with pytest.raises(InsufficientDataError, match="both classes"):
        recalibrate(good, recent_x[:100], np.zeros(100, dtype=int))


def test_expected_calibration_error() -> None:
    assert expected_calibration_error(np.array([1, 0, 1, 0]), np.full(4, 0.5)) == 0.0
    assert expected_calibration_error(np.array([1, 1]), np.array([0.05, 0.05])) == \
        pytest.approx(0.95)


def test_evidence_from_a_window_measures_losses_in_each_metric_s_direction() -> None:
    reference = {"accuracy": 0.90, "roc_auc": 0.95, "ece": 0.02, "log_loss": 0.30}
    metrics = {"estimated.accuracy": 0.80, "performance.accuracy": 0.84,
               "performance.roc_auc": 0.90, "performance.ece": 0.10,
               "performance.labelled_rows": 500, "drift.dataset.share": 0.25,
               "performance.log_loss": 0.45}
    e = evidence_from_window(metrics, reference, "accuracy")
    assert e.estimated_loss == pytest.approx(0.10) and e.realized_loss == pytest.approx(0.06)
    assert e.auc_drop == pytest.approx(0.05) and e.ece_rise == pytest.approx(0.08)
    assert (e.labels, e.drift_share) == (500, 0.25)
    # A loss metric: the loss is its rise.
    assert evidence_from_window(metrics, reference, "log_loss").realized_loss == \
        pytest.approx(0.15)
    # Without labels, the AUC drop comes from the estimate; missing values stay None.
    bare = evidence_from_window({"estimated.roc_auc": 0.93}, reference, "accuracy")
    assert bare.auc_drop == pytest.approx(0.02) and bare.realized_loss is None
    assert bare.estimated_loss is None and bare.labels == 0 and bare.drift_share is None
    assert evidence_from_window({"performance.accuracy": None, "estimated.accuracy": True},
                                reference).estimated_loss is None
    assert evidence_from_window(metrics, {}, "accuracy").realized_loss is None


def test_the_decision_of_a_window_follows_its_evidence() -> None:
    from driftwise.act.policy import RetrainPolicy, evidence_from_window

    policy = RetrainPolicy()
    reference = {"accuracy": 0.90, "roc_auc": 0.95, "ece": 0.02}
    ranking = {"performance.accuracy": 0.89, "performance.roc_auc": 0.90,
               "performance.labelled_rows": 2000}
    assert policy.decide(evidence_from_window(ranking, reference)).action == "retrain"
    calibration = {"performance.accuracy": 0.895, "performance.roc_auc": 0.945,
                   "performance.ece": 0.09, "performance.labelled_rows": 400}
    assert policy.decide(evidence_from_window(calibration, reference)).action == "recalibrate"
    quiet = {"performance.accuracy": 0.90, "performance.roc_auc": 0.95,
             "performance.labelled_rows": 400, "drift.dataset.share": 0.5}
    decided = policy.decide(evidence_from_window(quiet, reference))
    assert decided.action == "none"
    assert any("watched, not acted on" in r for r in decided.reasons)


def test_value_lost_retrains_and_says_so() -> None:
    policy = RetrainPolicy(value_loss=500.0)
    costly = policy.decide(Evidence(estimated_loss=0.0, value_loss=800.0, labels=5000))
    assert costly.action == "retrain" and not costly.waiting_for_labels
    assert "value lost against the reference 800 >= 500" in costly.reasons[0]
    cheap = policy.decide(Evidence(estimated_loss=0.0, value_loss=499.0, labels=5000))
    assert cheap.action == "none"
    # Without a threshold the value is reported but never decides.
    assert POLICY.decide(Evidence(value_loss=1e9, labels=5000)).action == "none"
    # A gain is not a loss.
    assert policy.decide(Evidence(value_loss=-800.0, labels=5000)).action == "none"
    with pytest.raises(ConfigError, match="value_loss must be above 0"):
        RetrainPolicy(value_loss=0.0)


def test_the_value_loss_is_realized_where_measured_else_estimated() -> None:
    both = {"business.change": -120.0, "business.estimated_change": -900.0}
    assert evidence_from_window(both, {}).value_loss == 120.0
    assert evidence_from_window({"business.estimated_change": -900.0}, {}).value_loss == 900.0
    assert evidence_from_window({"business.change": float("nan")}, {}).value_loss is None
    assert evidence_from_window({}, {}).value_loss is None
