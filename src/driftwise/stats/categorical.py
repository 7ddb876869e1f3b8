"""Two-sample tests for categorical samples given as aligned count vectors.

The tests are tests of *homogeneity* on the 2×k contingency table (reference row,
current row): both samples carry sampling noise. A goodness-of-fit test against the
reference's proportions would treat the reference as exact and fire far too often.
The effect size is the total variation distance (share of the population that moved).

Pearson's chi-square p-value from the chi-square law needs expected counts of about 5 or
more. A window beside a large reference makes the window's expected counts of rare
categories tiny (a code seen 10 times in 15,000 reference rows expects 0.3 in a 500-row
window), and one such row then adds about ``1 / expected`` to the statistic: the
asymptotic p-value fires far above its nominal level. ``method="monte-carlo"`` takes the
p-value from the statistic's exact conditional (permutation) law instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from driftwise._lazy import LazyModule
from driftwise.stats._result import TwoSampleResult
from driftwise.stats.distances import total_variation_distance, validated_counts

if TYPE_CHECKING:
    from scipy import stats as sps
else:  # imported on first use (driftwise._lazy.preload starts it early)
    sps = LazyModule("scipy.stats")

EFFECT_NAME = "tvd"
#: Most tables drawn for a Monte Carlo p-value; its smallest value is 1 / (this + 1).
MONTE_CARLO_DRAWS = 9_999
#: Simulated statistics at or above the observed one after which drawing stops.
MONTE_CARLO_EXCEEDANCES = 100
MONTE_CARLO_SEED = 20_240_601
# Cells of simulated tables held at once (rows x categories): bounds the memory.
_MONTE_CARLO_CELLS = 1_000_000


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


def chi2_homogeneity(reference_counts: ArrayLike, current_counts: ArrayLike, *,
                     method: str = "asymptotic") -> TwoSampleResult:
    """Pearson chi-square test of homogeneity on the 2×k table, no continuity correction.

    Parameters
    ----------
    reference_counts, current_counts : array_like
        Aligned category counts.
    method : {"asymptotic", "monte-carlo"}
        ``"asymptotic"``: the chi-square law with ``k - 1`` degrees of freedom, equal to
        ``scipy.stats.chi2_contingency(table, correction=False)``; too small (fires too
        often) when expected counts are below 5. ``"monte-carlo"``: the same statistic, its
        p-value from tables drawn under the conditional null, see
        :func:`chi2_monte_carlo_p_value`; valid at every size.

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
    if method == "monte-carlo":
        p = chi2_monte_carlo_p_value(table[0], table[1])
        return TwoSampleResult("chi2", stat, p, _effect(table), EFFECT_NAME, "monte-carlo")
    if method != "asymptotic":
        raise ValueError(f"unknown chi2 method {method!r}; choose 'asymptotic' or 'monte-carlo'")
    p = float(sps.chi2.sf(stat, dof))
    return TwoSampleResult("chi2", stat, p, _effect(table), EFFECT_NAME, "asymptotic")


def _chi2_of_current_rows(current_rows: NDArray[np.float64], totals: NDArray[np.float64],
                          n_reference: float, n_current: float) -> NDArray[np.float64]:
    """Pearson's X² of 2×k tables with fixed margins, from their current rows alone.

    Both rows' residuals are equal and opposite, so
    ``X² = N² / (n_ref n_cur) · Σ_j (c_j − n_cur T_j / N)² / T_j``.
    """
    n_total = n_reference + n_current
    gaps = current_rows - totals * (n_current / n_total)
    stat: NDArray[np.float64] = (gaps * gaps / totals).sum(axis=-1)
    return stat * (n_total * n_total / (n_reference * n_current))


def chi2_monte_carlo_p_value(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """P(X² ≥ observed) under the conditional null of the 2×k table, by simulation.

    Under "one distribution", given both margins, the current row is multivariate
    hypergeometric: the current sample is a random subset of the pooled one (the
    permutation null, as R's ``chisq.test(simulate.p.value = TRUE)``). At most
    :data:`MONTE_CARLO_DRAWS` tables are drawn (fixed seed: one table, one p-value),
    stopping once :data:`MONTE_CARLO_EXCEEDANCES` of them reach the observed statistic:
    after ``L`` draws the p-value is then ``h / L``, otherwise ``(g + 1) / (B + 1)`` with
    ``g`` exceedances in ``B`` draws. Both are valid p-values (Besag & Clifford 1991,
    "Sequential Monte Carlo p-values", Biometrika 78(2)): ``P(p ≤ a) ≤ a`` for every ``a``.
    A column without drift (large p) costs a few hundred draws; the smallest attainable
    p-value is ``1 / (B + 1)``.
    """
    ref, cur = validated_counts(reference_counts, current_counts)
    kept = (ref + cur) > 0
    ref, cur = ref[kept], cur[kept]
    if ref.size < 2:
        return 1.0
    if np.any(ref != np.round(ref)) or np.any(cur != np.round(cur)):
        raise ValueError("a Monte Carlo p-value needs whole counts")
    totals = ref + cur
    n_reference, n_current = float(ref.sum()), float(cur.sum())
    observed = float(_chi2_of_current_rows(cur, totals, n_reference, n_current))
    # Simulated and observed X² are computed alike; equal tables may still differ in the
    # last bits, so "reaches" allows for rounding.
    reach = observed * (1.0 - 1e-9)
    colors = totals.astype(np.int64)
    rng = np.random.default_rng(MONTE_CARLO_SEED)
    most_rows = max(1, _MONTE_CARLO_CELLS // colors.size)
    seen = drawn = 0
    chunk = 128
    while drawn < MONTE_CARLO_DRAWS:
        size = min(chunk, most_rows, MONTE_CARLO_DRAWS - drawn)
        rows = rng.multivariate_hypergeometric(colors, int(n_current), size=size)
        simulated = _chi2_of_current_rows(rows.astype(np.float64), totals, n_reference,
                                          n_current)
        hits = np.flatnonzero(simulated >= reach)
        if seen + hits.size >= MONTE_CARLO_EXCEEDANCES:
            at = drawn + int(hits[MONTE_CARLO_EXCEEDANCES - seen - 1]) + 1
            return MONTE_CARLO_EXCEEDANCES / at
        seen += int(hits.size)
        drawn += size
        chunk *= 2
    return (seen + 1) / (MONTE_CARLO_DRAWS + 1)


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
