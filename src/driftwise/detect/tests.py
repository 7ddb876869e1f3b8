"""Which test a column gets, and running it.

``auto`` (documented in the README):

* numeric columns with more than :data:`MAX_CODED_CATEGORIES` distinct reference values:
  two-sample Kolmogorov–Smirnov (exact up to 10,000 values per sample, asymptotic above);
* numeric columns with fewer distinct values (discrete): chi-square test of homogeneity
  on the values, which sees any change of the value frequencies;
* categorical and boolean columns: chi-square test of homogeneity on the 2×k table.

Both chi-square tests take their p-value from the chi-square law while every expected
count is at least 5. Below that (a rare category beside a large reference, a small
window) the law's p-value is far too small, so the p-value is exact instead: Fisher's
exact test when there are two categories, otherwise the chi-square statistic's Monte
Carlo conditional p-value (:func:`~driftwise.stats.categorical.chi2_monte_carlo_p_value`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from driftwise.data.schema import MAX_CODED_CATEGORIES
from driftwise.stats import SortedPair, TwoSampleResult, counts_in_bins, quantile_edges
from driftwise.stats._pair import distinct_upto
from driftwise.stats.categorical import (
    chi2_homogeneity,
    fisher_exact,
    g_test,
    min_expected_count,
)
from driftwise.stats.distances import count_distance_result, energy_pair, wasserstein_pair
from driftwise.stats.numeric import anderson_pair, cvm_pair, ks_pair, mannwhitney_pair

PAIR_TESTS: dict[str, Callable[[SortedPair], TwoSampleResult]] = {
    "ks": ks_pair,
    "anderson": anderson_pair,
    "cvm": cvm_pair,
    "mannwhitney": mannwhitney_pair,
    "wasserstein": wasserstein_pair,
    "energy": energy_pair,
}
BINNED_TESTS = ("psi", "jensenshannon", "kl", "hellinger")
COUNT_TESTS: dict[str, Callable[[NDArray[np.int64], NDArray[np.int64]], TwoSampleResult]] = {
    "chi2": chi2_homogeneity,
    "g_test": g_test,
    "fisher": fisher_exact,
}
NUMERIC_TESTS = (*PAIR_TESTS, *BINNED_TESTS, "auto")
CATEGORICAL_TESTS = (*COUNT_TESTS, "psi", "jensenshannon", "tvd", "hellinger", "auto")

#: Drift thresholds of the distances (no p-value), applied to their effect:
#: Wasserstein and energy distances in reference standard deviations.
DEFAULT_THRESHOLDS = {
    "wasserstein": 0.1, "energy": 0.1, "psi": 0.2, "jensenshannon": 0.1, "kl": 0.1,
    "hellinger": 0.1, "tvd": 0.1,
}
#: Smallest effect that counts as practical drift for p-value tests: a Wasserstein
#: distance of 0.1 reference standard deviations; a total variation distance of 0.05.
DEFAULT_MIN_EFFECT = {"numeric": 0.1, "categorical": 0.05}
EFFECT_KIND = {"wasserstein_normed": "numeric", "energy_normed": "numeric", "tvd": "categorical"}
#: Smallest expected count at which the chi-square law's p-value is trusted (Cochran).
MIN_EXPECTED = 5.0


def align_counts(
    ref_labels: tuple[str, ...], ref_counts: NDArray[np.int64],
    cur_labels: tuple[str, ...], cur_counts: NDArray[np.int64],
) -> tuple[tuple[str, ...], NDArray[np.int64], NDArray[np.int64]]:
    """Count vectors over the union of categories: reference order, then new ones."""
    index = {label: i for i, label in enumerate(ref_labels)}
    labels = list(ref_labels)
    for label in cur_labels:
        if label not in index:
            index[label] = len(labels)
            labels.append(label)
    ref = np.zeros(len(labels), dtype=np.int64)
    ref[: len(ref_labels)] = ref_counts
    cur = np.zeros(len(labels), dtype=np.int64)
    cur[[index[label] for label in cur_labels]] = cur_counts
    return tuple(labels), ref, cur


def run_count_test(
    test: str, ref_counts: NDArray[np.int64], cur_counts: NDArray[np.int64]
) -> tuple[TwoSampleResult, str | None]:
    """Run a categorical test (or ``auto``) on aligned counts; returns result and a note."""
    note = None
    n_categories = int(np.count_nonzero((ref_counts + cur_counts) > 0))
    if test == "auto":
        return homogeneity_test(ref_counts, cur_counts), None
    if test == "fisher" and n_categories > 2:
        note = f"Fisher's exact test needs 2 categories, this column has {n_categories}: chi2 used"
        test = "chi2"
    if test in COUNT_TESTS:
        return COUNT_TESTS[test](ref_counts, cur_counts), note
    return count_distance_result(test, ref_counts, cur_counts), note


def homogeneity_test(ref_counts: NDArray[np.int64], cur_counts: NDArray[np.int64]) -> (
    TwoSampleResult
):
    """The ``auto`` test of aligned counts: chi-square, with an exact p-value when sparse.

    With an expected count below :data:`MIN_EXPECTED` the chi-square law's p-value is far
    too small: Fisher's exact test on two categories, the Monte Carlo conditional
    p-value of the chi-square statistic on more.
    """
    if min_expected_count(ref_counts, cur_counts) >= MIN_EXPECTED:
        return chi2_homogeneity(ref_counts, cur_counts)
    if int(np.count_nonzero((ref_counts + cur_counts) > 0)) == 2:
        return fisher_exact(ref_counts, cur_counts)
    return chi2_homogeneity(ref_counts, cur_counts, method="monte-carlo")


def _value_counts(sorted_values: NDArray[np.float64]) -> tuple[NDArray[np.float64],
                                                              NDArray[np.int64]]:
    is_first = np.empty(sorted_values.size, dtype=bool)
    is_first[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=is_first[1:])
    starts = np.flatnonzero(is_first)
    return sorted_values[starts], np.diff(np.append(starts, sorted_values.size))


def _discrete_counts(pair: SortedPair) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    ref_vals, ref_counts = _value_counts(pair.reference)
    cur_vals, cur_counts = _value_counts(pair.current)
    values = np.union1d(ref_vals, cur_vals)
    ref = np.zeros(values.size, dtype=np.int64)
    cur = np.zeros(values.size, dtype=np.int64)
    ref[np.searchsorted(values, ref_vals)] = ref_counts
    cur[np.searchsorted(values, cur_vals)] = cur_counts
    return ref, cur


def run_numeric_test(test: str, pair: SortedPair, bins: int) -> tuple[TwoSampleResult,
                                                                        str | None]:
    """Run a numeric test (or ``auto``) on a sorted pair; returns result and a note."""
    if test == "auto":
        n_distinct = distinct_upto(pair.reference, MAX_CODED_CATEGORIES)
        if n_distinct <= MAX_CODED_CATEGORIES:
            ref, cur = _discrete_counts(pair)
            result = homogeneity_test(ref, cur)
            note = (f"discrete values ({n_distinct} distinct in reference): {result.test} "
                    "on values")
            return result, note
        test = "ks"
    if test in PAIR_TESTS:
        return PAIR_TESTS[test](pair), None
    edges = quantile_edges(pair.reference, bins)
    ref_counts = counts_in_bins(pair.reference, edges)
    cur_counts = counts_in_bins(pair.current, edges)
    return count_distance_result(test, ref_counts, cur_counts), None
