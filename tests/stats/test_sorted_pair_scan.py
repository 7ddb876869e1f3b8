"""The compiled scan over a sorted pair gives what the NumPy merge gives."""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats as sps

from driftwise.stats import SortedPair
from driftwise.stats._pair import SCAN_COMPILED, distinct_upto
from driftwise.stats.numeric import ks_pair

Sampler = Callable[[np.random.Generator, int], np.ndarray]

FAMILIES: dict[str, Sampler] = {
    "normal": lambda rng, n: rng.normal(size=n),
    "integers": lambda rng, n: rng.integers(0, 7, n).astype(float),
    "zero_inflated": lambda rng, n: np.where(rng.random(n) < 0.6, 0.0, rng.exponential(size=n)),
    "signed_zeros": lambda rng, n: rng.choice([-0.0, 0.0, 1.0, -1.0], n),
    "huge": lambda rng, n: rng.uniform(-1.0, 1.0, n) * 1.7e308,
    "tiny": lambda rng, n: rng.normal(size=n) * 1e-305,
    "constant": lambda rng, n: np.full(n, 3.5),
}


def _numpy_pair(ref: np.ndarray, cur: np.ndarray) -> SortedPair:
    pair = SortedPair(ref, cur)
    pair.compiled = False
    return pair


def test_the_scan_is_built() -> None:
    assert SCAN_COMPILED, "driftwise.stats._scan was not built"


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize(("n_ref", "n_cur"), [(1, 1), (7, 300), (2_000, 1_500), (30_000, 20_000)])
def test_compiled_scan_equals_the_numpy_merge(family: str, n_ref: int, n_cur: int) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{family}-{n_ref}".encode()))
    sample = FAMILIES[family]
    shift = 0.0 if family in ("constant", "huge", "signed_zeros") else 0.1
    ref, cur = sample(rng, n_ref), sample(rng, n_cur) + shift
    fast, slow = SortedPair(ref, cur), _numpy_pair(ref, cur)
    assert fast.compiled and not slow.compiled
    assert fast.n_distinct == slow.n_distinct == np.unique(np.concatenate([ref, cur])).size
    assert fast.ecdf_gap_extremes == slow.ecdf_gap_extremes  # bit for bit
    assert fast.wasserstein == pytest.approx(slow.wasserstein, rel=1e-11, abs=0, nan_ok=True)
    assert fast.wasserstein_normed == pytest.approx(slow.wasserstein_normed, rel=1e-11, abs=1e-300)
    assert fast.reference_std == pytest.approx(slow.reference_std, rel=1e-12, abs=1e-300)
    if family != "huge":  # np.std of values near 1.7e308 overflows; in units it does not
        assert fast.reference_std == pytest.approx(float(np.std(ref)), rel=1e-12, abs=1e-300)
    fast_ks, slow_ks = ks_pair(fast), ks_pair(slow)
    assert (fast_ks.statistic, fast_ks.p_value, fast_ks.method) == (
        slow_ks.statistic, slow_ks.p_value, slow_ks.method)


def test_the_scan_matches_scipy_on_a_large_continuous_pair() -> None:
    rng = np.random.default_rng(5)
    ref, cur = rng.lognormal(size=200_000), rng.lognormal(0.01, size=150_000)
    pair = SortedPair(ref, cur)
    result = ks_pair(pair)
    expected = sps.ks_2samp(ref, cur)
    assert result.statistic == expected.statistic
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert pair.wasserstein == pytest.approx(sps.wasserstein_distance(ref, cur), rel=1e-10)


def test_distinct_upto_stops_past_the_limit() -> None:
    values = np.sort(np.random.default_rng(2).integers(0, 50, 10_000).astype(float))
    assert distinct_upto(values, 100) == 50
    assert distinct_upto(values, 49) == 50
    assert distinct_upto(values, 10) == 11
    assert distinct_upto(np.array([]), 5) == 0
    assert distinct_upto(np.array([-0.0, 0.0]), 5) == 1


def test_a_non_contiguous_sorted_view_is_scanned_as_its_values() -> None:
    ref = np.sort(np.random.default_rng(3).normal(size=4_000))[::2]
    cur = np.sort(np.random.default_rng(4).normal(size=3_000))
    fast = SortedPair(ref, cur, assume_sorted=True)
    assert fast.ecdf_gap_extremes == _numpy_pair(ref, cur).ecdf_gap_extremes
