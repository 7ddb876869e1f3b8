"""Two-sample tests for categorical samples given as aligned count vectors.

The tests are tests of *homogeneity* on the 2×k contingency table (reference row,
current row): both samples carry sampling noise. A goodness-of-fit test against the
reference's proportions would treat the reference as exact and fire far too often.
The effect size is the total variation distance (share of the population that moved).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from driftwise.stats._result import TwoSampleResult
from driftwise.stats.distances import total_variation_distance, validated_counts

EFFECT_NAME = "tvd"


def _table(reference_counts: ArrayLike, current_counts: ArrayLike) -> NDArray[np.float64]:
    ref, cur = validated_counts(reference_counts, current_counts)
    table: NDArray[np.float64] = np.vstack([ref, cur])
    # A category seen in neither sample carries no information (and no degree of freedom).
    kept: NDArray[np.float64] = table[:, table.sum(axis=0) > 0]
    return kept


def _expected(table: NDArray[np.float64]) -> NDArray[np.float64]:
    expected: NDArray[np.float64] = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    return expected


def _effect(table: NDArray[np.float64]) -> float:
    return total_variation_distance(table[0], table[1])


def chi2_homogeneity(reference_counts: ArrayLike, current_counts: ArrayLike) -> TwoSampleResult:
    """Pearson chi-square test of homogeneity on the 2×k table, no continuity correction.

    Equal to ``scipy.stats.chi2_contingency(table, correction=False)``.

    Examples
    --------
    >>> r = chi2_homogeneity([30, 70], [50, 50])
    >>> round(r.statistic, 3), r.p_value < 0.01
    (8.333, True)
    """
    table = _table(reference_counts, current_counts)
    dof = table.shape[1] - 1
    if dof == 0:
        return TwoSampleResult("chi2", 0.0, 1.0, 0.0, EFFECT_NAME, "constant")
    expected = _expected(table)
    stat = float(np.sum((table - expected) ** 2 / expected))
    p = float(sps.chi2.sf(stat, dof))
    return TwoSampleResult("chi2", stat, p, _effect(table), EFFECT_NAME, "asymptotic")


def g_test(reference_counts: ArrayLike, current_counts: ArrayLike) -> TwoSampleResult:
    """Likelihood-ratio (G) test of homogeneity on the 2×k table.

    Equal to ``scipy.stats.chi2_contingency(table, correction=False,
    lambda_="log-likelihood")``.
    """
    table = _table(reference_counts, current_counts)
    dof = table.shape[1] - 1
    if dof == 0:
        return TwoSampleResult("g_test", 0.0, 1.0, 0.0, EFFECT_NAME, "constant")
    expected = _expected(table)
    nonzero = table > 0
    stat = 2.0 * float(np.sum(table[nonzero] * np.log(table[nonzero] / expected[nonzero])))
    p = float(sps.chi2.sf(stat, dof))
    return TwoSampleResult("g_test", stat, p, _effect(table), EFFECT_NAME, "asymptotic")


def fisher_exact(reference_counts: ArrayLike, current_counts: ArrayLike) -> TwoSampleResult:
    """Fisher's exact test on a 2×2 table (two categories), two-sided.

    The statistic is the sample odds ratio, as in ``scipy.stats.fisher_exact``.
    """
    table = _table(reference_counts, current_counts)
    if table.shape[1] == 1:
        return TwoSampleResult("fisher", 1.0, 1.0, 0.0, EFFECT_NAME, "constant")
    if table.shape[1] != 2:
        raise ValueError(f"Fisher's exact test needs exactly 2 categories, got {table.shape[1]}")
    res = sps.fisher_exact(table.astype(np.int64))
    return TwoSampleResult(
        "fisher", float(res.statistic), float(res.pvalue), _effect(table), EFFECT_NAME, "exact"
    )


def min_expected_count(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """Smallest expected cell count of the 2×k table (the chi-square rule of thumb: ≥ 5)."""
    return float(_expected(_table(reference_counts, current_counts)).min())
