"""Reference-quantile bins: the bins every binned distance (PSI on numeric data) is built on."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftwise.stats import counts_in_bins, population_stability_index, quantile_edges


@pytest.mark.parametrize("value", [0.0, 4.2, -1e300, 1e-300])
def test_constant_reference_separates_below_at_and_above(value: float) -> None:
    reference = np.full(50, value)
    edges = quantile_edges(reference, 10)
    current = np.sort(np.array([value - abs(value) - 1.0, value, value, value + abs(value) + 1.0]))
    assert counts_in_bins(current, edges).tolist() == [1, 2, 1]
    # The reference itself sits entirely in the middle bin.
    assert counts_in_bins(reference, edges).tolist() == [0, 50, 0]


def test_constant_reference_notices_a_change_of_value() -> None:
    reference = np.full(100, 3.0)
    edges = quantile_edges(reference)
    same = counts_in_bins(np.full(80, 3.0), edges)
    moved = counts_in_bins(np.full(80, 3.5), edges)
    assert population_stability_index(counts_in_bins(reference, edges), same) == 0.0
    assert population_stability_index(counts_in_bins(reference, edges), moved) > 1.0


def test_continuous_reference_fills_its_bins_equally() -> None:
    reference = np.sort(np.random.default_rng(401).normal(size=10_000))
    edges = quantile_edges(reference, 10)
    assert edges.size == 9
    assert counts_in_bins(reference, edges).tolist() == [1000] * 10


@pytest.mark.parametrize("n_bins", [2, 5, 10, 20])
@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 500),
    distinct=st.sampled_from([1, 2, 3, 10, None]),
)
def test_edges_are_increasing_interior_and_counts_add_up(
    n_bins: int, seed: int, n: int, distinct: int | None
) -> None:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=n) if distinct is None else rng.integers(0, distinct, n) * 1.0
    reference = np.sort(values)
    edges = quantile_edges(reference, n_bins)
    assert np.all(np.diff(edges) > 0), "edges must be strictly increasing (ties removed)"
    counts = counts_in_bins(reference, edges)
    assert counts.size == edges.size + 1
    assert counts.sum() == n
    if edges[-1] == reference[-1]:
        # Every quantile is the maximum (a constant reference, or one mostly at its top
        # value): a bin below that value, one at it, one above.
        assert edges.tolist() == [np.nextafter(reference[-1], -np.inf), reference[-1]]
        return
    assert 1 <= edges.size <= n_bins - 1
    # No edge at the maximum: the last bin would be empty by construction.
    assert edges[-1] < reference[-1]
    # The outer bins hold the reference's extremes (interior bins may be empty when several
    # interpolated quantiles fall between the same two values of a small reference).
    assert counts[0] > 0 and counts[-1] > 0


def test_bins_are_right_closed_and_outer_bins_are_open() -> None:
    edges = np.array([1.0, 2.0])
    values = np.sort(np.array([-100.0, 1.0, 1.5, 2.0, 2.0000001, 100.0]))
    # (-inf, 1], (1, 2], (2, inf)
    assert counts_in_bins(values, edges).tolist() == [2, 2, 2]


def test_too_few_bins_is_an_error() -> None:
    with pytest.raises(ValueError, match="n_bins must be at least 2"):
        quantile_edges(np.arange(10.0), 1)
