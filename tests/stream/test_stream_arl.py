"""Run lengths: calibrated charts keep their in-control ARL and detect a 1-sd shift as predicted.

Simulated with fixed seeds through ``update_many``; keeping its reference after each alarm a
chart restarts, so the mean run length of a long in-control stream is its length divided by
the number of alarms (tests/stream/test_stream_episodes.py does the same for the other
``after_alarm`` modes and the self-starting charts).
"""

from __future__ import annotations

import numpy as np
import pytest

from driftwise.errors import ConfigError
from driftwise.stream import (
    CUSUM,
    EWMA,
    PageHinkley,
    Shewhart,
    calibrate_cusum,
    calibrate_ewma,
    calibrate_page_hinkley,
    cusum_arl,
    ewma_arl,
    make_detector,
    shewhart_arl,
)

N_IN_CONTROL = 4_000_000  # ~8,000 runs at ARL 500: standard error about 1 %


def in_control_arl(det: CUSUM | EWMA | Shewhart, seed: int) -> float:
    xs = np.random.default_rng(seed).standard_normal(N_IN_CONTROL)
    return N_IN_CONTROL / det.update_many(xs).size


def zero_state_delay(det: CUSUM | EWMA, shift: float, seed: int, runs: int = 3000) -> float:
    rng = np.random.default_rng(seed)
    lengths = []
    for _ in range(runs):
        det.reset()
        alarms = det.update_many(rng.standard_normal(200) + shift)
        assert alarms.size, "a 1-sd shift is caught within 200 values"
        lengths.append(int(alarms[0]) + 1)  # the run length counts the alarm
    return float(np.mean(lengths))


def test_published_run_lengths() -> None:
    # Two-sided CUSUM h=5, k=0.5: ARL0 465, ARL(1 sd) 10.4 (Montgomery, Table 9.3 / Siegmund).
    assert cusum_arl(5.0, 0.5) == pytest.approx(465, rel=0.01)
    assert cusum_arl(5.0, 0.5, shift=1.0) == pytest.approx(10.4, rel=0.02)
    # EWMA lam=0.1, L=2.814 (asymptotic limits): ARL0 500, ARL(1 sd) 10.3 (Lucas & Saccucci
    # 1990, Table 3).
    assert ewma_arl(0.1, 2.814, exact_limits=False) == pytest.approx(500, rel=0.01)
    assert ewma_arl(0.1, 2.814, shift=1.0, exact_limits=False) == pytest.approx(10.3, rel=0.02)
    assert shewhart_arl(3.0) == pytest.approx(370.4, rel=0.001)


@pytest.mark.parametrize("target", [200, 500])
def test_cusum_in_control_arl_is_within_15_percent_of_target(target: int) -> None:
    design = calibrate_cusum(target, k=0.5)
    assert design.arl0 == pytest.approx(target, rel=1e-6)
    det = CUSUM(h=design.h, k=design.k, mean=0.0, std=1.0, after_alarm="keep")
    assert in_control_arl(det, seed=target) == pytest.approx(target, rel=0.15)


@pytest.mark.parametrize(("lam", "exact"), [(0.2, True), (0.1, False), (0.05, True)])
def test_ewma_in_control_arl_is_within_15_percent_of_target(lam: float, exact: bool) -> None:
    design = calibrate_ewma(500, lam=lam, exact_limits=exact)
    det = EWMA(lam=lam, L=design.L, mean=0.0, std=1.0, exact_limits=exact,
               after_alarm="keep")
    assert in_control_arl(det, seed=int(lam * 100)) == pytest.approx(500, rel=0.15)


def test_shewhart_in_control_arl() -> None:
    det = Shewhart(L=3.0, mean=0.0, std=1.0, after_alarm="keep")
    assert in_control_arl(det, seed=7) == pytest.approx(shewhart_arl(3.0), rel=0.15)


def test_detection_delay_of_a_one_sd_shift_matches_the_calibration() -> None:
    cusum = calibrate_cusum(500, k=0.5, shift=1.0)
    ewma = calibrate_ewma(500, lam=0.2, shift=1.0)
    assert 9.0 < cusum.delay < 12.0 and 8.0 < ewma.delay < 11.0
    measured_cusum = zero_state_delay(CUSUM(h=cusum.h, k=0.5, mean=0.0, std=1.0), 1.0, seed=1)
    measured_ewma = zero_state_delay(EWMA(lam=0.2, L=ewma.L, mean=0.0, std=1.0), 1.0, seed=2)
    assert measured_cusum == pytest.approx(cusum.delay, rel=0.05)
    assert measured_ewma == pytest.approx(ewma.delay, rel=0.05)


def test_a_larger_target_arl_gives_a_higher_threshold_and_a_longer_delay() -> None:
    low, high = calibrate_cusum(100), calibrate_cusum(1000)
    assert low.h < high.h and low.delay < high.delay
    low_e, high_e = calibrate_ewma(100), calibrate_ewma(1000)
    assert low_e.L < high_e.L and low_e.delay < high_e.delay


def test_page_hinkley_calibrated_threshold_keeps_its_target() -> None:
    # A standardised stream: no one has to guess `threshold=50` any more.
    det = make_detector({"type": "page_hinkley", "target_arl0": 500})
    assert isinstance(det, PageHinkley) and 20 < det.threshold < 40
    xs = np.random.default_rng(21).standard_normal(1_000_000)
    assert 1_000_000 / det.update_many(xs).size == pytest.approx(500, rel=0.15)
    assert calibrate_page_hinkley(200) < det.threshold  # a shorter run, a lower threshold
    with pytest.raises(ConfigError, match="give 'threshold' or 'target_arl0', not both"):
        make_detector({"type": "page_hinkley", "target_arl0": 500, "threshold": 3.0})
    with pytest.raises(ConfigError, match=r"target_arl0 must be a number in \(1, 20000\]"):
        calibrate_page_hinkley(1e6)
