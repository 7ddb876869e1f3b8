"""What each sequential detector is for: it catches its change soon, and stays quiet without one."""

from __future__ import annotations

import numpy as np
import pytest

from driftwise.stream import ADWIN, DDM, EDDM, KSWIN, PageHinkley


def shifted(n: int, at: int, shift: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0, n) + np.where(np.arange(n) < at, 0.0, shift)


@pytest.mark.parametrize("seed", range(3))
def test_adwin_catches_a_mean_shift_and_is_quiet_before_it(seed: int) -> None:
    alarms = ADWIN().update_many(shifted(20_000, 10_000, 1.0, seed))
    assert alarms.size >= 1
    assert 10_000 <= alarms[0] < 10_200


def test_adwin_false_alarms_are_rare_on_a_stationary_stream() -> None:
    xs = np.random.default_rng(9).normal(0.0, 1.0, 200_000)
    assert ADWIN(delta=0.002).update_many(xs).size <= 2


def test_adwin_window_grows_then_restarts_after_an_alarm() -> None:
    det = ADWIN()
    det.update_many(np.zeros(1000))
    assert det.width == 1000 and det.estimation == 0.0
    alarms = det.update_many(np.r_[np.zeros(1000), np.ones(500)])
    assert alarms.size == 1
    assert det.width < 500


@pytest.mark.parametrize("mode", ["both", "up", "down"])
def test_page_hinkley_detects_the_direction_it_watches(mode: str) -> None:
    up = shifted(4000, 2000, 1.0, 1)
    down = shifted(4000, 2000, -1.0, 1)
    got_up = PageHinkley(mode=mode).update_many(up)
    got_down = PageHinkley(mode=mode).update_many(down)
    assert bool(np.any((got_up >= 2000) & (got_up < 2100))) == (mode != "down")
    assert bool(np.any((got_down >= 2000) & (got_down < 2100))) == (mode != "up")


def test_ddm_and_eddm_flag_a_rising_error_rate() -> None:
    rng = np.random.default_rng(4)
    p = np.where(np.arange(20_000) < 10_000, 0.1, 0.3)
    errors = (rng.random(p.size) < p).astype(float)
    # DDM compares the error rate since its last restart with its minimum: after 10,000
    # values at 10 % the cumulative rate needs on the order of a thousand values to move.
    ddm = DDM().update_many(errors)
    assert np.any((ddm >= 10_000) & (ddm < 11_500))
    eddm = EDDM().update_many(errors)
    assert np.any((eddm >= 10_000) & (eddm < 10_600))


def test_ddm_warns_before_it_alarms() -> None:
    rng = np.random.default_rng(2)
    det = DDM()
    det.update_many((rng.random(3000) < 0.1).astype(float))
    warned = False
    for x in (rng.random(2000) < 0.35).astype(float).tolist():
        if det.update(x):
            break
        warned = warned or det.warning
    assert warned


def test_kswin_catches_a_distribution_change_and_is_reproducible() -> None:
    rng = np.random.default_rng(6)
    xs = np.r_[rng.normal(0, 1, 2000), rng.normal(0, 3, 2000)]  # same mean, wider
    first = KSWIN(seed=11).update_many(xs)
    assert np.any((first >= 2000) & (first < 2100))
    assert KSWIN(seed=11).update_many(xs).tolist() == first.tolist()
