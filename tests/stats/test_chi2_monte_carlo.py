"""The chi-square test's Monte Carlo p-value: the exact conditional p-value, within its error.

Its calibration under no drift is in test_kernels_calibration.py; here, its value.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from driftwise.stats import chi2_homogeneity
from driftwise.stats.categorical import (
    MONTE_CARLO_DRAWS,
    MONTE_CARLO_EXCEEDANCES,
    chi2_monte_carlo_p_value,
)


def exact_conditional_p_value(ref: list[int], cur: list[int]) -> float:
    """P(X² >= observed) summed over every current row with the table's margins."""
    totals = np.add(ref, cur)
    n_cur = int(np.sum(cur))
    law = sps.multivariate_hypergeom(m=totals, n=n_cur)

    def x2(row: np.ndarray) -> float:
        table = np.vstack([totals - row, row]).astype(float)
        expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
        return float(np.sum((table - expected) ** 2 / expected))

    observed = x2(np.asarray(cur))
    p = 0.0
    for head in itertools.product(*(range(min(t, n_cur) + 1) for t in totals[:-1])):
        last = n_cur - sum(head)
        if not 0 <= last <= totals[-1]:
            continue
        row = np.array([*head, last])
        if x2(row) >= observed * (1 - 1e-9):
            p += float(law.pmf(row))
    return p


def monte_carlo_tolerance(p: float) -> float:
    """Four standard errors of the sequential Monte Carlo p-value around ``p``."""
    if p * MONTE_CARLO_DRAWS > MONTE_CARLO_EXCEEDANCES:  # stops early: h / L
        se = p / math.sqrt(MONTE_CARLO_EXCEEDANCES)
    else:
        se = math.sqrt(p * (1 - p) / MONTE_CARLO_DRAWS)
    return 4 * se + 1 / (MONTE_CARLO_DRAWS + 1)


@pytest.mark.parametrize(("ref", "cur"), [
    # Sparse tables where the chi-square law is far off: a rare category seen in the window.
    ([300, 150, 2], [20, 10, 1]),
    ([500, 300, 0], [20, 10, 1]),  # a category new in the window: the law says 1e-6
    ([400, 200, 1, 1], [20, 10, 1, 0]),
    ([300, 150, 2, 1], [18, 12, 0, 1]),
    ([200, 100, 30, 3], [12, 4, 6, 1]),
    ([40, 40, 1], [10, 5, 0]),
    ([60, 30, 10], [5, 10, 5]),
    ([90, 5, 5], [15, 0, 3]),
])
def test_equals_the_exact_conditional_p_value(ref: list[int], cur: list[int]) -> None:
    exact = exact_conditional_p_value(ref, cur)
    ours = chi2_monte_carlo_p_value(ref, cur)
    assert abs(ours - exact) <= monte_carlo_tolerance(exact), (ref, cur, ours, exact)


def test_agrees_with_scipy_permutation_test_where_the_chi2_law_does_not() -> None:
    # Repayment codes -2..8 (PAY_4 of the Taiwan credit data) in a random 15,000-row
    # reference and a 500-row window of the other rows: codes 1 and 8, two rows each in
    # the 30,000, are absent from the reference and appear once each in the window. The
    # law's p-value is 1e-9, the permutation p-value about 1e-3.
    values = np.arange(11)
    ref = np.array([2180, 2800, 8228, 0, 1616, 92, 37, 17, 3, 27, 0])
    cur = np.array([72, 93, 266, 1, 59, 3, 2, 1, 0, 2, 1])
    asymptotic = chi2_homogeneity(ref, cur)
    ours = chi2_homogeneity(ref, cur, method="monte-carlo")
    assert ours.statistic == asymptotic.statistic
    assert ours.method == "monte-carlo"
    assert asymptotic.p_value is not None and asymptotic.p_value < 1e-6
    x = np.repeat(values, ref)
    y = np.repeat(values, cur)

    totals = (ref + cur).astype(float)
    n_ref, n_cur = float(ref.sum()), float(cur.sum())

    def statistic(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        # Pearson's X² from the window's counts (the margins do not change).
        rows = (b[..., None] == values).sum(axis=-2)
        e_cur, e_ref = totals * n_cur / (n_ref + n_cur), totals * n_ref / (n_ref + n_cur)
        return ((rows - e_cur) ** 2 / e_cur + (totals - rows - e_ref) ** 2 / e_ref).sum(-1)

    assert statistic(x, y) == pytest.approx(asymptotic.statistic, rel=1e-12)
    resamples = 4_000
    theirs = sps.permutation_test((x, y), statistic, permutation_type="independent",
                                  alternative="greater", vectorized=True,
                                  n_resamples=resamples, batch=200, random_state=1).pvalue
    assert ours.p_value is not None
    assert 0.0002 < theirs < 0.01
    # Both are Monte Carlo estimates of one p-value: four standard errors of SciPy's.
    assert abs(ours.p_value - theirs) <= 4 * math.sqrt(theirs / resamples) + 1 / resamples


def test_is_deterministic() -> None:
    ref, cur = [300, 150, 2, 1], [18, 12, 0, 1]
    assert chi2_monte_carlo_p_value(ref, cur) == chi2_monte_carlo_p_value(ref, cur)


def test_edge_cases() -> None:
    # Proportions equal in both rows: X² = 0, every table reaches it.
    assert chi2_monte_carlo_p_value([10, 20, 30], [1, 2, 3]) == 1.0
    # One category left once empty ones are dropped: nothing can differ.
    assert chi2_monte_carlo_p_value([10, 0, 0], [4, 0, 0]) == 1.0
    # Nothing simulated reaches a table this extreme: the smallest attainable p-value.
    assert chi2_monte_carlo_p_value([1000, 1000, 0], [0, 0, 500]) == 1 / (MONTE_CARLO_DRAWS + 1)
    with pytest.raises(ValueError, match="whole counts"):
        chi2_monte_carlo_p_value([1.5, 2.0, 3.0], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="monte-carlo"):
        chi2_homogeneity([1, 2], [2, 1], method="exact")
