"""The Monitor on synthetic models whose truth is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from driftwise.errors import ConfigError, NotFittedError, SchemaError
from driftwise.monitor import Monitor
from driftwise.performance import prediction as pred_drift


def binary_frame(n: int, seed: int, shift: float = 0.0, flip: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    z = rng.choice(["a", "b", "c"], n)
    p_true = 1 / (1 + np.exp(-2 * (-x if flip else x)))
    y = (rng.random(n) < p_true).astype(int)
    proba = 1 / (1 + np.exp(-2 * x))
    return pd.DataFrame({"id": np.arange(n) + seed * 100_000, "x": x, "z": z,
                         "proba": proba, "pred": (proba >= 0.5).astype(int), "y": y})


CONFIG = {
    "model": {"task": "binary"},
    "columns": {"prediction": "pred", "probabilities": "proba", "target": "y", "id": "id",
                "segments": ["z"]},
    "checks": {"concept_drift": True, "bootstrap": 50},
}


@pytest.fixture(scope="module")
def monitor() -> Monitor:
    return Monitor(CONFIG).fit(binary_frame(6000, 0))


def test_metric_names_are_stable_and_values_right(monitor: Monitor) -> None:
    window = binary_frame(3000, 1)
    result = monitor.run(window, name="w1")
    assert result.status == "ok" and result.window == "w1"
    for name in ("drift.dataset.drift_detected", "drift.columns.x.p_value",
                 "quality.columns.z.missing_share", "prediction.psi",
                 "prediction.class_mix_p_value", "estimated.roc_auc", "performance.roc_auc",
                 "performance.roc_auc.lower", "target.p_value", "concept.x.change_p_value",
                 "concept.relation_changed", "segments.z=a.accuracy"):
        assert name in result.metrics, name
    assert result.get("performance.roc_auc") == pytest.approx(
        skm.roc_auc_score(window.y, window.proba), rel=1e-12)
    assert result.get("performance.accuracy") == pytest.approx(
        skm.accuracy_score(window.y, window.pred))
    assert abs(result.get("estimated.roc_auc") - result.get("performance.roc_auc")) < 0.03
    assert not result.get("concept.relation_changed")
    with pytest.raises(KeyError, match="did you mean"):
        result.get("performance.roc_acu")
    assert result.to_dict()["metrics"]["performance.roc_auc"] == result.get("performance.roc_auc")


def test_covariate_shift_is_drift_not_concept(monitor: Monitor) -> None:
    result = monitor.run(binary_frame(3000, 2, shift=1.0))
    assert result.get("drift.columns.x.drift_detected")
    assert abs(result.get("concept.performance_gap.roc_auc")) < 0.03
    assert result.get("concept.x.change_p_value_adjusted") > 0.05
    assert "concept.loss_ks_p_value" in result.metrics


def test_segment_drift_is_seen_in_its_segment_only(monitor: Monitor) -> None:
    window = binary_frame(3000, 12)
    in_a = window["z"] == "a"
    window.loc[in_a, "x"] = window.loc[in_a, "x"] + 1.5
    result = monitor.run(window)
    assert result.get("segments.z=a.drift.drift_detected")
    assert not result.get("segments.z=b.drift.drift_detected")
    assert not result.get("segments.z=c.drift.drift_detected")


def test_concept_flip_is_found(monitor: Monitor) -> None:
    result = monitor.run(binary_frame(3000, 3, flip=True))
    assert not result.get("drift.columns.x.drift_detected")
    assert result.get("concept.relation_changed")
    assert result.get("concept.x.change_p_value_adjusted") < 1e-6
    assert result.get("concept.performance_gap.roc_auc") < -0.5
    assert result.get("concept.loss_ks_p_value") < 1e-10
    assert result.get("concept.loss_mean_change") > 0.5


def test_late_labels_are_joined_by_id(monitor: Monitor) -> None:
    window = binary_frame(2000, 4)
    unlabelled = window.drop(columns=["y"])
    early = monitor.run(unlabelled)
    assert early.get("performance.labelled_rows") == 0
    assert "performance" in early.reasons and early.get("estimated.roc_auc") is not None
    labels = window[["id", "y"]].sample(frac=1.0, random_state=0)
    late = monitor.run(unlabelled, labels=labels)
    assert late.get("performance.labelled_rows") == 2000
    assert late.get("performance.roc_auc") == pytest.approx(
        skm.roc_auc_score(window.y, window.proba), rel=1e-12)


def test_small_window_is_insufficient_data_not_nan(monitor: Monitor) -> None:
    result = monitor.run(binary_frame(50, 5))
    assert result.status == "insufficient_data" and result.metrics == {}
    assert "fewer than windows.min_rows = 100" in result.reasons["window"]


def test_bad_outputs_are_clear_errors(monitor: Monitor) -> None:
    window = binary_frame(500, 6)
    with pytest.raises(SchemaError, match=r"column 'proba' holds values outside \[0, 1\]"):
        monitor.run(window.assign(proba=window.proba * 2))
    with pytest.raises(SchemaError, match=r"column 'y' holds class.*'7'"):
        monitor.run(window.assign(y=7))
    with pytest.raises(SchemaError, match=r"lacks configured column.*'pred'"):
        monitor.run(window.drop(columns=["pred"]))
    with pytest.raises(NotFittedError):
        Monitor(CONFIG).run(window)


def test_alerts_need_consecutive_windows() -> None:
    cfg = dict(CONFIG, alerts=[{"name": "x moved", "metric": "drift.columns.x.drift_detected",
                                "condition": "== true", "for": 2, "severity": "critical"}])
    monitor = Monitor(cfg).fit(binary_frame(4000, 0))
    shifted = [binary_frame(1000, 10 + i, shift=1.0) for i in range(3)]
    fired = [r.alerts for r in monitor.run_batches([binary_frame(1000, 9), *shifted])]
    assert [len(a) for a in fired] == [0, 0, 1, 1]
    assert fired[2][0].consecutive == 2 and fired[2][0].severity == "critical"
    bad = dict(CONFIG, alerts=[{"metric": "performance.roc_acu", "condition": "< 0.7"}])
    with pytest.raises(ConfigError, match=r"did you mean performance\.roc_auc"):
        Monitor(bad).fit(binary_frame(2000, 0)).run(binary_frame(500, 1))


def test_run_frame_by_rows_and_by_period() -> None:
    frame = binary_frame(3000, 7)
    frame["ts"] = pd.date_range("2024-01-01", periods=3000, freq="h")
    cfg = dict(CONFIG, columns={**CONFIG["columns"], "timestamp": "ts"},
               windows={"rows": 1000})
    monitor = Monitor(cfg).fit(binary_frame(4000, 0).assign(
        ts=pd.date_range("2023-01-01", periods=4000, freq="h")))
    by_rows = monitor.run_frame(frame)
    assert [r.rows for r in by_rows] == [1000, 1000, 1000]
    by_month = monitor.run_frame(frame.sample(frac=1.0, random_state=1), by="month")
    assert [r.window for r in by_month] == ["2024-01", "2024-02", "2024-03", "2024-04",
                                            "2024-05"]
    assert sum(r.rows for r in by_month) == 3000


def test_multiclass_and_regression_monitors() -> None:
    rng = np.random.default_rng(8)
    n = 3000
    logits = rng.normal(size=(n, 3))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=row) for row in proba])
    names = np.array(["cat", "dog", "eel"])
    frame = pd.DataFrame({"f": rng.normal(size=n), "p_cat": proba[:, 0],
                          "p_dog": proba[:, 1], "p_eel": proba[:, 2], "label": names[y]})
    cfg = {"model": {"task": "multiclass"},
           "columns": {"probabilities": {"eel": "p_eel", "cat": "p_cat", "dog": "p_dog"},
                       "target": "label"}, "checks": {"bootstrap": 0}}
    result = Monitor(cfg).fit(frame.iloc[:2000]).run(frame.iloc[2000:])
    window = frame.iloc[2000:]
    assert result.get("performance.roc_auc") == pytest.approx(
        skm.roc_auc_score(y[2000:], proba[2000:], multi_class="ovr"), rel=1e-12)
    assert result.get("performance.accuracy") == pytest.approx(
        np.mean(proba[2000:].argmax(axis=1) == y[2000:]))
    assert abs(result.get("estimated.accuracy") - result.get("performance.accuracy")) < 0.04
    assert window.shape[0] == 1000
    x = rng.normal(size=n)
    reg = pd.DataFrame({"x": x, "y_hat": 2 * x, "y": 2 * x + rng.normal(0, 0.5, n)})
    rcfg = {"model": {"task": "regression"},
            "columns": {"prediction": "y_hat", "target": "y"}, "checks": {"bootstrap": 0}}
    rres = Monitor(rcfg).fit(reg.iloc[:2000]).run(reg.iloc[2000:])
    assert rres.get("performance.mae") == pytest.approx(
        skm.mean_absolute_error(reg.y[2000:], reg.y_hat[2000:]))
    assert "prediction.ks_p_value" in rres.metrics
    assert rres.get("estimated.mae") == pytest.approx(rres.get("performance.mae"), rel=0.1)
    assert rres.get("concept.residual_ks_p_value") > 0.001
    assert abs(rres.get("concept.residual_mean_change")) < 0.1


def test_multivariate_check_sees_a_joint_shift_with_unchanged_marginals() -> None:
    cfg = dict(CONFIG, checks={"bootstrap": 0, "multivariate": {
        "tests": ["mmd", "classifier"], "classifier": "logistic"}})
    rng = np.random.default_rng(13)
    ref = binary_frame(3000, 0)
    ref["w"] = ref.x + 0.1 * rng.normal(size=3000)
    monitor = Monitor(cfg).fit(ref)
    cur = binary_frame(1000, 14)
    cur["w"] = -cur.x + 0.1 * rng.normal(size=1000)  # same marginals, opposite relation
    result = monitor.run(cur)
    assert result.get("multivariate.drift_detected")
    assert result.get("multivariate.mmd.p_value") < 0.05
    assert not result.get("drift.columns.w.drift_detected")  # univariate tests cannot see it
    bad = dict(CONFIG, checks={"multivariate": {"colums": ["x"]}})
    with pytest.raises(ConfigError, match=r"checks.multivariate: unknown key 'colums'"):
        Monitor(bad).fit(ref)


def test_a_single_class_reference_is_a_clear_error() -> None:
    ref = binary_frame(500, 0).assign(y=0, pred=0)
    with pytest.raises(ConfigError, match="single class"):
        Monitor(dict(CONFIG, checks={"bootstrap": 0})).fit(ref)
    ok = Monitor(dict(CONFIG, model={"task": "binary", "positive_class": "1"},
                      checks={"bootstrap": 0, "concept_drift": False,
                              "estimated_performance": False}))
    assert ok.fit(ref).classes_ == ("0", "1")


def test_prediction_drift_is_seen_in_its_segment_only(monitor: Monitor) -> None:
    # The model's scores move in segment a only (its inputs shifted there); the overall
    # prediction drift is diluted by the two unchanged segments.
    window = binary_frame(3000, 15)
    in_a = window["z"] == "a"
    window.loc[in_a, "proba"] = 1 / (1 + np.exp(-2 * (window.loc[in_a, "x"] + 1.0)))
    window["pred"] = (window["proba"] >= 0.5).astype(int)
    result = monitor.run(window)
    assert result.get("segments.z=a.prediction.ks_p_value") < 1e-6
    assert result.get("segments.z=a.prediction.class_mix_p_value") < 1e-6
    assert result.get("segments.z=a.prediction.mean_confidence_change") > 0.1
    for other in ("b", "c"):
        assert result.get(f"segments.z={other}.prediction.ks_p_value") > 1e-3
        assert abs(result.get(f"segments.z={other}.prediction.mean_confidence_change")) < 0.05
    # Equal to the dataset-level functions applied to the segment's rows by hand.
    ref = binary_frame(6000, 0)
    ref_a = ref["z"] == "a"
    expected = pred_drift.score_drift(ref.loc[ref_a, "proba"].to_numpy(),
                                      window.loc[in_a, "proba"].to_numpy())
    assert result.get("segments.z=a.prediction.psi") == pytest.approx(expected["psi"])
    assert result.get("segments.z=a.prediction.ks_p_value") == pytest.approx(
        expected["ks_p_value"])


def test_regression_prediction_drift_per_segment() -> None:
    rng = np.random.default_rng(21)
    n = 4000
    seg = rng.choice(["east", "west"], n)
    x = rng.normal(size=n)
    frame = pd.DataFrame({"x": x, "seg": seg, "y_hat": 2 * x, "y": 2 * x + rng.normal(0, 1, n)})
    cfg = {"model": {"task": "regression"},
           "columns": {"prediction": "y_hat", "target": "y", "segments": ["seg"]},
           "checks": {"bootstrap": 0}}
    monitor = Monitor(cfg).fit(frame.iloc[:3000])
    window = frame.iloc[3000:].copy()
    window.loc[window["seg"] == "west", "y_hat"] += 1.0
    result = monitor.run(window)
    assert result.get("segments.seg=west.prediction.ks_p_value") < 1e-6
    assert result.get("segments.seg=east.prediction.ks_p_value") > 1e-3
    assert result.get("segments.seg=west.prediction.mean") == pytest.approx(
        window.loc[window["seg"] == "west", "y_hat"].mean())
    off = Monitor({**cfg, "checks": {"bootstrap": 0, "prediction_drift": False}}).fit(
        frame.iloc[:3000]).run(window)
    assert not any(".prediction." in k for k in off.metrics)
