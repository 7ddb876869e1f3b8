"""Serially correlated streams: CUSUM and EWMA standardise a reference learned from
correlated values by its AR(1) long-run sd, so neighbours that move together do not drive
the chart over its limit again and again (simulated, fixed seeds)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.signal import lfilter

from driftwise.errors import ConfigError, StateError
from driftwise.stream import (
    CUSUM,
    EWMA,
    Shewhart,
    StreamDetector,
    calibrate_cusum,
    calibrate_ewma,
    long_run_factor,
)
from driftwise.stream._base import lag1_autocorrelation

CUSUM_H = calibrate_cusum(500, k=0.5).h
EWMA_L = calibrate_ewma(500, lam=0.2).L
N = 400_000


def _ar1(phi: float, n: int, seed: int) -> np.ndarray:
    """A stationary AR(1) stream with unit marginal sd."""
    e = np.random.default_rng(seed).standard_normal(n + 500)
    return lfilter([1.0], [1.0, -phi], e)[500:] * math.sqrt(1.0 - phi * phi)


def _chart(kind: str, **kw: object) -> CUSUM | EWMA:
    if kind == "cusum":
        return CUSUM(h=CUSUM_H, **kw)  # type: ignore[arg-type]
    return EWMA(lam=0.2, L=EWMA_L, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["cusum", "ewma"])
@pytest.mark.parametrize("phi", [0.5, 0.9])
def test_correlated_in_control_values_do_not_flood_the_chart(kind: str, phi: float) -> None:
    xs = _ar1(phi, N, seed=21)
    reference = _ar1(phi, 500, seed=22)
    corrected = _chart(kind).fit(reference)
    naive = _chart(kind, autocorrelation="ignore").fit(reference)
    assert corrected.lag1_ == pytest.approx(phi, abs=0.1)
    assert corrected.scale_ == pytest.approx(corrected.std_ * long_run_factor(corrected.lag1_))
    assert naive.lag1_ == 0.0 and naive.scale_ == naive.std_
    # Charted as independent, the values alarm several times as often as calibrated...
    assert N / naive.update_many(xs).size < 500 / 3
    # ...with the long-run sd, no more often than calibrated (the AR(1) long-run sd is
    # conservative for a chart with a short memory: the run length is longer, not shorter).
    alarms = corrected.update_many(xs).size
    assert alarms == 0 or N / alarms > 0.85 * 500


@pytest.mark.parametrize("kind", ["cusum", "ewma"])
def test_the_learning_phase_corrects_too(kind: str) -> None:
    # Self-starting (the estimate comes from the values as they are learned) and after
    # each alarm: a correlated stream is learned, not alarmed at every few values.
    xs = 30.0 + 4.0 * _ar1(0.8, N // 2, seed=23)
    corrected = _chart(kind, self_starting=True)
    naive = _chart(kind, self_starting=True, autocorrelation="ignore")
    found = corrected.update_many(xs).size
    assert naive.update_many(xs).size > 10 * max(found, 1)
    assert found == 0 or (N // 2) / found > 0.85 * 500
    assert corrected.lag1_ == pytest.approx(0.8, abs=0.1)
    assert corrected.mean_ == pytest.approx(30.0, abs=2.0)


@pytest.mark.parametrize("kind", ["cusum", "ewma"])
def test_a_level_shift_of_a_correlated_stream_is_still_caught(kind: str) -> None:
    phi = 0.7
    xs = _ar1(phi, 6000, seed=24)
    shift = 3.0 * long_run_factor(phi)  # three long-run sds
    xs[3000:] += shift
    det = _chart(kind).fit(_ar1(phi, 1000, seed=25))
    alarms = det.update_many(xs)
    assert any(3000 <= a < 3000 + 60 for a in alarms)


def test_independent_values_are_charted_as_before() -> None:
    # Below the test's 1 % point the lag-1 estimate is noise: no correction.
    for seed in range(30):
        ref = np.random.default_rng(seed).standard_normal(500)
        det = CUSUM(h=CUSUM_H).fit(ref)
        if lag1_autocorrelation(ref) <= 2.326 / math.sqrt(500):
            assert det.lag1_ == 0.0 and det.scale_ == det.std_
    # Shewhart judges single values: their marginal sd is the right one, whatever the
    # dependence, and it has no such option.
    shewhart = Shewhart().fit(_ar1(0.9, 500, seed=26))
    assert shewhart.lag1_ == 0.0 and "autocorrelation" not in shewhart.get_params()


def test_the_running_estimate_is_the_sample_autocorrelation() -> None:
    rng = np.random.default_rng(27)
    for phi, offset in ((0.6, 0.0), (0.95, 1e6), (0.3, -250.0)):
        xs = offset + _ar1(phi, 400, seed=int(rng.integers(1 << 30)))
        det = CUSUM(h=1e9, self_starting=True, relearn_n=400)  # learns, never alarms
        det.update_many(xs)
        assert det.phase == "watch"
        expected = lag1_autocorrelation(xs)
        assert det.lag1_ == pytest.approx(min(expected, 0.99), rel=1e-6)
        assert det.mean_ == pytest.approx(xs.mean(), rel=1e-9, abs=1e-9)


def test_the_correction_survives_a_save_and_restore() -> None:
    xs = _ar1(0.8, 5000, seed=28)
    xs[2500:] += 6.0
    for kind in ("cusum", "ewma"):
        whole = _chart(kind, self_starting=True)
        first = _chart(kind, self_starting=True)
        expected = whole.update_many(xs).tolist()
        got = first.update_many(xs[:300]).tolist()  # inside the learning
        restored = StreamDetector.from_state(json.loads(json.dumps(first.to_state())))
        got += (restored.update_many(xs[300:]) + 300).tolist()
        assert got == expected and restored.lag1_ == whole.lag1_


def test_a_state_saved_before_the_correction_restores_as_the_chart_it_was() -> None:
    old = {"detector": "ewma", "version": 2,
           "params": {"lam": 0.2, "L": 3.0, "mean": None, "std": None, "exact_limits": True,
                      "after_alarm": "relearn", "relearn_n": 500, "self_starting": True},
           "state": {"mu": "nan", "sd": "nan", "z": 0.4, "t": 3, "phase": "learn",
                     "episodes": 0, "ln": 4, "lmean": 1.0, "lm2": 2.0, "base_mu": "nan",
                     "base_sd": "nan"}}
    det = StreamDetector.from_state(old)
    assert isinstance(det, EWMA)
    assert (det.autocorrelation, det.arm_after, det.phase, det.statistic) == (
        "ignore", 2, "learn", 0.4)


def test_bad_values_are_named() -> None:
    with pytest.raises(ConfigError, match="autocorrelation must be one of auto, ignore"):
        CUSUM(mean=0.0, std=1.0, autocorrelation="ar2")
    with pytest.raises(ConfigError, match="arm_after must be an integer >= 2"):
        EWMA(self_starting=True, arm_after=1)
    state = CUSUM(h=CUSUM_H).fit(_ar1(0.8, 500, seed=29)).to_state()
    state["state"]["rho"] = 1.5
    with pytest.raises(StateError, match="'rho' should be in"):
        StreamDetector.from_state(state)
