"""SortedPair: sort once, reuse for every test on the column, same answers as raw samples.

A reference profile stores its sorted reference; the detector then hands the kernels a
``SortedPair(..., assume_sorted=True)``. Each ``*_pair`` kernel must give exactly what the
public function gives on the raw, unsorted samples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from driftwise.stats import (
    SortedPair,
    TwoSampleResult,
    anderson_ksamp,
    cramervonmises_2samp,
    energy_distance,
    ks_2samp,
    mannwhitneyu,
    wasserstein_distance,
)
from driftwise.stats.distances import energy_pair, wasserstein_pair
from driftwise.stats.numeric import anderson_pair, cvm_pair, ks_pair, mannwhitney_pair


@st.composite
def unsorted_samples(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_ref, n_cur = draw(st.integers(2, 400)), draw(st.integers(2, 400))
    ties = draw(st.booleans())
    ref, cur = rng.normal(0.0, 1.0, n_ref), rng.normal(draw(st.sampled_from([0, 0.5])), 1.0, n_cur)
    if ties:
        ref, cur = np.round(ref, 1), np.round(cur, 1)
    return ref, cur


def _sorted_pair(ref: np.ndarray, cur: np.ndarray) -> SortedPair:
    return SortedPair(np.sort(ref), np.sort(cur), assume_sorted=True)


@pytest.mark.parametrize(
    ("pair_kernel", "raw_kernel"),
    [
        pytest.param(ks_pair, ks_2samp, id="ks"),
        pytest.param(anderson_pair, anderson_ksamp, id="anderson"),
        pytest.param(cvm_pair, cramervonmises_2samp, id="cvm"),
        pytest.param(mannwhitney_pair, mannwhitneyu, id="mannwhitney"),
    ],
)
@settings(max_examples=40, deadline=None)
@given(samples=unsorted_samples())
def test_pair_kernel_on_presorted_samples_equals_raw_function(
    pair_kernel: Callable[[SortedPair], TwoSampleResult],
    raw_kernel: Callable[[Any, Any], TwoSampleResult],
    samples: tuple[np.ndarray, np.ndarray],
) -> None:
    ref, cur = samples
    assume(not (np.all(np.diff(ref) >= 0) and np.all(np.diff(cur) >= 0)))
    assert pair_kernel(_sorted_pair(ref, cur)) == raw_kernel(ref, cur)


@settings(max_examples=40, deadline=None)
@given(samples=unsorted_samples())
def test_distance_pairs_on_presorted_samples_equal_raw_functions(
    samples: tuple[np.ndarray, np.ndarray],
) -> None:
    ref, cur = samples
    pair = _sorted_pair(ref, cur)
    assert wasserstein_pair(pair).statistic == wasserstein_distance(ref, cur)
    assert energy_pair(pair).statistic == energy_distance(ref, cur)


def test_one_pair_serves_every_kernel() -> None:
    # Cached quantities computed for one test must not leak into another's answer.
    rng = np.random.default_rng(501)
    ref, cur = rng.normal(size=300), rng.normal(0.2, 1.0, 500)
    pair = SortedPair(ref, cur)
    results = [kernel(pair) for kernel in (ks_pair, anderson_pair, cvm_pair, mannwhitney_pair)]
    expected = [
        ks_2samp(ref, cur),
        anderson_ksamp(ref, cur),
        cramervonmises_2samp(ref, cur),
        mannwhitneyu(ref, cur),
    ]
    assert results == expected


@settings(max_examples=60, deadline=None)
@given(samples=unsorted_samples())
def test_merged_ties_and_midranks_describe_the_pooled_sample(
    samples: tuple[np.ndarray, np.ndarray],
) -> None:
    ref, cur = samples
    pair = SortedPair(ref, cur)
    pooled = np.concatenate([ref, cur])
    np.testing.assert_array_equal(pair.merged, np.sort(pooled))
    values, starts, counts = pair.ties
    expected_values, expected_counts = np.unique(pooled, return_counts=True)
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_array_equal(counts, expected_counts)
    np.testing.assert_array_equal(starts, np.concatenate([[0], np.cumsum(expected_counts)[:-1]]))
    ranks = sps.rankdata(np.concatenate([np.sort(ref), np.sort(cur)]))
    ranks_ref, ranks_cur = pair.midranks
    np.testing.assert_array_equal(ranks_ref, ranks[: ref.size])
    np.testing.assert_array_equal(ranks_cur, ranks[ref.size :])


def test_samples_are_sorted_unless_told_they_already_are() -> None:
    pair = SortedPair([3.0, 1.0, 2.0], [5.0, 4.0])
    assert pair.reference.tolist() == [1.0, 2.0, 3.0]
    assert pair.current.tolist() == [4.0, 5.0]
    assert (pair.n_reference, pair.n_current) == (3, 2)


def test_scale_is_reference_sd_then_pooled_sd_then_one() -> None:
    assert SortedPair([1.0, 3.0], [10.0, 20.0]).scale == pytest.approx(1.0)
    # A constant reference has no spread of its own: the pooled sample's is used.
    assert SortedPair([2.0, 2.0], [2.0, 6.0]).scale == pytest.approx(np.std([2, 2, 2, 6]))
    # Both constant (and equal or not): effects are absolute.
    assert SortedPair([2.0, 2.0], [2.0]).scale == 1.0
    constant = SortedPair([2.0, 2.0], [2.0])
    assert constant.is_constant_and_equal
    assert not SortedPair([2.0, 2.0], [3.0]).is_constant_and_equal
    assert ks_2samp([5.0, 5.0], [5.0, 5.0, 5.0]).effect == 0.0


def test_constant_reference_effect_is_finite() -> None:
    # The reference's sd is 0: dividing by it would give an infinite effect.
    effect = ks_2samp(np.full(100, 1.0), np.linspace(0.0, 2.0, 100)).effect
    assert np.isfinite(effect) and effect > 0
