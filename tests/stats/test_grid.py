"""Grid summaries: exact merges, statistics within their stated bounds, nominal false alarms.

The false-alarm property is checked at 1M, 10M and 100M rows per sample without drawing
that many values, by the multinomial simulation of benchmarks/grid_calibration.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from benchmarks.grid_calibration import null_pair
from scipy import stats as sps

from driftwise.stats import SortedPair
from driftwise.stats.grid import (
    DEFAULT_GRID_CELLS,
    GridSample,
    check_edges,
    grid_edges,
    sorted_grid_sample,
)
from driftwise.stats.grid_tests import GridPair
from driftwise.stats.numeric import ks_pair, mannwhitney_pair

SAMPLES = {
    "normal": lambda rng, n: rng.normal(size=n),
    "lognormal": lambda rng, n: rng.lognormal(size=n),
    "zero_inflated": lambda rng, n: np.where(rng.random(n) < 0.3, 0.0, rng.normal(size=n)),
    "integers": lambda rng, n: np.floor(rng.exponential(3.0, size=n)),
}


def _pair(reference: np.ndarray, current: np.ndarray, cells: int = DEFAULT_GRID_CELLS) -> (
    GridPair
):
    edges = grid_edges(np.sort(reference), cells)
    return GridPair(edges, GridSample.of(edges, reference), GridSample.of(edges, current))


def test_merging_summaries_equals_summarising_the_union() -> None:
    rng = np.random.default_rng(3)
    values = rng.lognormal(size=30_000)
    edges = grid_edges(np.sort(values[:5_000]), 256)
    parts = np.split(rng.permutation(values), [1, 7_000, 7_001, 19_000])
    merged = GridSample.empty(edges.size)
    for part in parts:
        merged = merged.merge(GridSample.of(edges, part))
    whole = GridSample.of(edges, values)
    assert np.array_equal(merged.counts, whole.counts)
    assert merged.below == whole.below and merged.n == whole.n
    assert merged.minimum == whole.minimum and merged.maximum == whole.maximum
    np.testing.assert_allclose(merged.sums, whole.sums, rtol=1e-12, atol=1e-9)
    assert merged.mean == pytest.approx(whole.mean, rel=1e-12)
    assert merged.m2 == pytest.approx(whole.m2, rel=1e-10)
    assert merged.std == pytest.approx(float(np.std(values)), rel=1e-10)
    from_sorted = sorted_grid_sample(edges, np.sort(values))
    assert np.array_equal(from_sorted.counts, whole.counts) and from_sorted.below == whole.below
    np.testing.assert_allclose(from_sorted.sums, whole.sums, rtol=1e-9, atol=1e-9)


def test_summaries_on_different_grids_do_not_merge() -> None:
    a = GridSample.of(np.array([0.0, 1.0]), [0.5])
    b = GridSample.of(np.array([0.0, 1.0, 2.0]), [0.5])
    with pytest.raises(ValueError, match="different grids"):
        a.merge(b)


def test_grid_spans_the_reference_and_keeps_every_value_when_few() -> None:
    rng = np.random.default_rng(0)
    values = np.sort(rng.normal(size=50_000))
    edges = grid_edges(values, 100)
    assert edges[0] == values[0] and edges[-1] == values[-1] and edges.size == 101
    assert np.all(np.isin(edges, values))
    few = np.sort(rng.integers(0, 40, size=10_000).astype(float))
    assert np.array_equal(grid_edges(few, 100), np.unique(few))
    for bad in ([], [np.nan], [1.0, 1.0], [2.0, 1.0]):
        with pytest.raises(ValueError):
            check_edges(bad)


@pytest.mark.parametrize("name", list(SAMPLES))
@pytest.mark.parametrize("shift", [0.0, 0.02, 0.3])
def test_statistics_lie_within_their_stated_bounds(name: str, shift: float) -> None:
    rng = np.random.default_rng(11)
    reference = SAMPLES[name](rng, 120_000)
    current = SAMPLES[name](rng, 80_000) + shift
    grid = _pair(reference, current)
    exact = SortedPair(reference, current)
    d_grid, d_exact = grid.ks().statistic, ks_pair(exact).statistic
    assert d_grid <= d_exact + 1e-12
    assert d_exact <= d_grid + grid.max_cell_mass + 1e-12
    w = exact.wasserstein
    assert grid.wasserstein <= w * (1 + 1e-9) + 1e-12
    assert w <= (grid.wasserstein + grid.wasserstein_error) * (1 + 1e-9) + 1e-12


def test_an_exact_grid_gives_the_exact_paths_statistics() -> None:
    rng = np.random.default_rng(5)
    reference = np.floor(rng.exponential(3.0, size=60_000))
    current = np.floor(rng.exponential(3.2, size=40_000))
    current = current[np.isin(current, reference)]
    grid = _pair(reference, current)
    assert grid.exact and grid.max_cell_mass == 0.0
    exact = SortedPair(reference, current)
    ks = grid.ks()
    assert ks.method == "grid-exact"
    assert ks.statistic == pytest.approx(ks_pair(exact).statistic, abs=1e-12)
    en = round(reference.size * current.size / (reference.size + current.size))
    assert ks.p_value == pytest.approx(float(sps.kstwo.sf(ks.statistic, en)), rel=1e-12)
    assert grid.wasserstein == pytest.approx(exact.wasserstein, rel=1e-9)
    assert grid.wasserstein_error == pytest.approx(0.0, abs=1e-9)
    mw = grid.mannwhitney()
    assert mw.statistic == pytest.approx(mannwhitney_pair(exact).statistic, rel=1e-12)
    assert mw.p_value == pytest.approx(mannwhitney_pair(exact).p_value, rel=1e-9)


def test_coarse_bins_are_reference_quantiles_of_whole_cells() -> None:
    rng = np.random.default_rng(2)
    reference = rng.normal(size=100_000)
    grid = _pair(reference, rng.normal(size=50_000))
    ref, cur = grid.coarse_counts(10)
    assert ref.size == 10 and ref.sum() == 100_000 and cur.sum() == 50_000
    np.testing.assert_allclose(ref / 100_000, 0.1, atol=1.0 / DEFAULT_GRID_CELLS + 1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("n", [1_000_000, 10_000_000, 100_000_000])
@pytest.mark.parametrize("own_edges", [True, False])
def test_grid_ks_false_alarm_rate_is_nominal_at_every_size(n: int, own_edges: bool) -> None:
    rng = np.random.default_rng(n + own_edges)
    draws = 1_000
    p = np.array([null_pair(rng, n, own_edges).ks().p_value for _ in range(draws)])
    assert 0.03 <= np.mean(p < 0.05) <= 0.07
    assert np.mean(p < 0.01) <= 0.01 + 3 * np.sqrt(0.01 * 0.99 / draws)


@pytest.mark.slow
def test_grid_ks_keeps_the_exact_paths_power_on_a_small_shift() -> None:
    rng = np.random.default_rng(8)
    hits_grid = hits_exact = 0
    draws = 60
    for _ in range(draws):
        reference = rng.lognormal(size=100_000)
        current = rng.lognormal(size=100_000) * 1.012
        hits_grid += _pair(reference, current).ks().p_value < 0.05
        hits_exact += ks_pair(SortedPair(reference, current)).p_value < 0.05
    assert 0.3 < hits_exact / draws < 0.95
    assert hits_grid / draws >= hits_exact / draws - 0.1
