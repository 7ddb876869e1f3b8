"""Every two-sample kernel equals SciPy's implementation of the same test to 1e-9 relative.

Inputs are drawn by hypothesis as a small recipe (seed, sizes, tie mode, shift, scale) and
built with NumPy, so that many examples stay cheap and a failure names a reproducible case.
The size regimes cover SciPy's exact paths (tiny samples), its asymptotic paths, very
unequal sizes and, in a separate slower test, the samples above 10,000 values where the
KS kernel computes Smirnov's limiting distribution itself.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy import stats as sps

from driftwise.stats import (
    anderson_ksamp,
    chi2_homogeneity,
    cramervonmises_2samp,
    energy_distance,
    fisher_exact,
    g_test,
    ks_2samp,
    mannwhitneyu,
    wasserstein_distance,
)
from driftwise.stats.numeric import KS_EXACT_MAX_N, KS_TIES_MAX_WORK

RTOL = 1e-9
# Only an exact zero on SciPy's side may be met by a value this close to zero.
ZERO_FLOOR = 1e-300

TIE_MODES = ("continuous", "rounded", "integers")
SHIFTS = (0.0, 0.25, 1.5)
SCALES = (1.0, 1e-3, 1e4)


@dataclass(frozen=True)
class NumericCase:
    """Recipe for a reference/current pair: reproducible from its repr alone."""

    seed: int
    n_ref: int
    n_cur: int
    ties: str = "continuous"
    shift: float = 0.0
    scale: float = 1.0

    def arrays(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        rng = np.random.default_rng(self.seed)
        ref = rng.normal(0.0, 1.0, self.n_ref)
        cur = rng.normal(self.shift, 1.0, self.n_cur)
        if self.ties == "rounded":
            ref, cur = np.round(ref, 1), np.round(cur, 1)
        elif self.ties == "integers":
            # About seven distinct integers: heavy ties.
            ref, cur = np.floor(1.5 * ref), np.floor(1.5 * cur)
        return ref * self.scale, cur * self.scale


@dataclass(frozen=True)
class CountCase:
    """Recipe for aligned category counts of a reference and a current sample."""

    seed: int
    k: int
    n_ref: int
    n_cur: int
    zeros: str = "none"

    def counts(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        rng = np.random.default_rng(self.seed)
        probs = rng.dirichlet(np.full(self.k, 0.7))
        ref_probs, cur_probs = probs.copy(), rng.dirichlet(np.full(self.k, 0.7) + 20 * probs)
        if self.zeros in ("unseen", "both"):
            # Categories that only the current sample has (new categories in production).
            ref_probs[: max(1, self.k // 3)] = 0.0
        if self.zeros == "both":
            # ... and a category that vanished from the current sample.
            cur_probs[-1] = 0.0
        ref = rng.multinomial(self.n_ref, ref_probs / ref_probs.sum())
        cur = rng.multinomial(self.n_cur, cur_probs / cur_probs.sum())
        return ref.astype(np.int64), cur.astype(np.int64)


def assert_matches(actual: float, expected: float, what: str, case: object) -> None:
    """``actual`` equals SciPy's ``expected`` to RTOL relative; the message names the case."""
    a, b = float(actual), float(expected)
    if math.isnan(b) or math.isinf(b):
        ok = a == b or (math.isnan(a) and math.isnan(b))
    else:
        ok = abs(a - b) <= max(RTOL * abs(b), ZERO_FLOOR)
    rel = abs(a - b) / abs(b) if b not in (0.0,) and math.isfinite(b) else float("nan")
    assert ok, f"{what}: driftwise {a!r} != scipy {b!r} (relative {rel:.3g}) for {case!r}"


def _seeds() -> st.SearchStrategy[int]:
    return st.integers(0, 2**32 - 1)


@st.composite
def numeric_cases(draw: st.DrawFn, min_each: int = 1) -> NumericCase:
    regime = draw(st.sampled_from(["small", "medium", "unequal"]))
    if regime == "small":
        n_ref, n_cur = draw(st.integers(min_each, 60)), draw(st.integers(min_each, 60))
    elif regime == "medium":
        n_ref, n_cur = draw(st.integers(61, 3000)), draw(st.integers(61, 3000))
    else:
        few, many = draw(st.integers(min_each, 8)), draw(st.integers(3000, 5000))
        n_ref, n_cur = (few, many) if draw(st.booleans()) else (many, few)
    return NumericCase(
        seed=draw(_seeds()),
        n_ref=n_ref,
        n_cur=n_cur,
        ties=draw(st.sampled_from(TIE_MODES)),
        shift=draw(st.sampled_from(SHIFTS)),
        scale=draw(st.sampled_from(SCALES)),
    )


@st.composite
def large_numeric_cases(draw: st.DrawFn) -> NumericCase:
    """Above 10,000 values in the larger sample: the kernels' own large-sample paths."""
    many = draw(st.integers(10_001, 30_000))
    # A sample of 8 or fewer tie-free values sends SciPy's Mann-Whitney to its exact
    # distribution, which takes seconds to build beside 30,000 values.
    other = draw(st.one_of(st.integers(10_001, 30_000), st.integers(9, 60)))
    n_ref, n_cur = (many, other) if draw(st.booleans()) else (other, many)
    return NumericCase(
        seed=draw(_seeds()),
        n_ref=n_ref,
        n_cur=n_cur,
        ties=draw(st.sampled_from(TIE_MODES)),
        # Small shifts: large samples turn any bigger one into a p-value of 0.
        shift=draw(st.sampled_from((0.0, 0.01, 0.04))),
    )


@st.composite
def count_cases(draw: st.DrawFn, k: int | None = None) -> CountCase:
    return CountCase(
        seed=draw(_seeds()),
        k=draw(st.integers(2, 12)) if k is None else k,
        n_ref=draw(st.one_of(st.integers(1, 30), st.integers(31, 5000))),
        n_cur=draw(st.one_of(st.integers(1, 30), st.integers(31, 5000))),
        zeros=draw(st.sampled_from(("none", "unseen", "both"))),
    )


def _at_least_two_distinct(ref: NDArray[np.float64], cur: NDArray[np.float64]) -> bool:
    return np.unique(np.concatenate([ref, cur])).size >= 2


def _scipy_anderson(ref: NDArray[np.float64], cur: NDArray[np.float64]) -> tuple[float, float]:
    with warnings.catch_warnings():
        # SciPy warns whenever its interpolated p-value is capped or floored.
        warnings.simplefilter("ignore", UserWarning)
        res = sps.anderson_ksamp([ref, cur], variant="midrank")
    return float(res.statistic), float(res.pvalue)


def _scipy_ks_was_exact(ref: NDArray[np.float64], cur: NDArray[np.float64]) -> bool:
    """Whether SciPy's exact KS recursion succeeded (when it gives up it warns and returns
    its asymptotic p-value, which bounds nothing: e.g. 0.99996 where the exact is 1)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        sps.ks_2samp(ref, cur)
    return not any("Exact calculation unsuccessful" in str(w.message) for w in caught)


def _check_numeric(name: str, case: NumericCase) -> None:
    ref, cur = case.arrays()
    if name == "ks":
        ours = ks_2samp(ref, cur)
        theirs = sps.ks_2samp(ref, cur)
        expected = (theirs.statistic, theirs.pvalue)
        tied = np.unique(np.concatenate([ref, cur])).size < ref.size + cur.size
        if tied and ours.method == "exact-ties":
            # The exact conditional null checks the ECDF difference at tie-group ends only,
            # so its p-value is at most SciPy's exact continuous one (tests/stats/
            # test_ks_ties.py checks it against enumeration); SciPy's asymptotic value is
            # another approximation, compared with nothing here.
            assert_matches(ours.statistic, expected[0], "ks statistic", case)
            assert ours.p_value is not None and 0.0 <= ours.p_value <= 1.0
            if max(ref.size, cur.size) <= KS_EXACT_MAX_N and _scipy_ks_was_exact(ref, cur):
                assert ours.p_value <= expected[1] * (1 + 1e-9) + 1e-15
            return
    elif name == "anderson":
        assume(ref.size + cur.size >= 4 and _at_least_two_distinct(ref, cur))
        ours = anderson_ksamp(ref, cur)
        expected = _scipy_anderson(ref, cur)
    elif name == "cvm":
        assume(min(ref.size, cur.size) >= 2)
        # Tie-free samples only: with ties SciPy's statistic (Anderson's rank formula with
        # mid-ranks) is not the Cramér-von Mises distance between the two ECDFs, and it
        # fires on identical samples; see test_kernel_edge_cases and the calibration test.
        ref, cur = replace(case, ties="continuous").arrays()
        ours = cramervonmises_2samp(ref, cur)
        theirs = sps.cramervonmises_2samp(ref, cur)
        expected = (theirs.statistic, theirs.pvalue)
    elif name == "mannwhitney":
        # A tie-free sample of 8 or fewer values beside thousands sends both sides to
        # SciPy's exact distribution, which costs 0.1 s per new pair of sizes; the explicit
        # examples cover that path.
        assume(not (min(ref.size, cur.size) <= 8 and max(ref.size, cur.size) > 1000))
        ours = mannwhitneyu(ref, cur)
        theirs = sps.mannwhitneyu(ref, cur)
        expected = (theirs.statistic, theirs.pvalue)
    elif name == "wasserstein":
        value = wasserstein_distance(ref, cur)
        assert_matches(value, sps.wasserstein_distance(ref, cur), name, case)
        return
    else:
        value = energy_distance(ref, cur)
        assert_matches(value, sps.energy_distance(ref, cur), name, case)
        return
    assert_matches(ours.statistic, expected[0], f"{name} statistic", case)
    assert ours.p_value is not None
    assert_matches(ours.p_value, expected[1], f"{name} p-value", case)


NUMERIC = ("ks", "anderson", "cvm", "mannwhitney", "wasserstein", "energy")


@pytest.mark.parametrize("name", NUMERIC)
@settings(max_examples=120, deadline=None)
@given(case=numeric_cases())
@example(case=NumericCase(seed=1, n_ref=1, n_cur=1))
@example(case=NumericCase(seed=2, n_ref=2, n_cur=3, ties="integers"))
@example(case=NumericCase(seed=3, n_ref=8, n_cur=9))
@example(case=NumericCase(seed=4, n_ref=20, n_cur=21, shift=1.5))
@example(case=NumericCase(seed=5, n_ref=3, n_cur=5000, ties="rounded"))
@example(case=NumericCase(seed=6, n_ref=10_000, n_cur=9_999, shift=0.05))
def test_numeric_kernel_equals_scipy(name: str, case: NumericCase) -> None:
    _check_numeric(name, case)


@pytest.mark.parametrize("name", NUMERIC)
@settings(max_examples=25, deadline=None)
@given(case=large_numeric_cases())
@example(case=NumericCase(seed=7, n_ref=10_001, n_cur=10_001, shift=0.03))
@example(case=NumericCase(seed=8, n_ref=9, n_cur=30_000))
@example(case=NumericCase(seed=9, n_ref=12_345, n_cur=10_001, ties="integers", shift=0.04))
def test_numeric_kernel_equals_scipy_on_large_samples(name: str, case: NumericCase) -> None:
    ref, cur = case.arrays()
    if name == "ks":
        # This test is about the kernel's own Smirnov path; guard against a silent change.
        # (Tied samples within KS_TIES_MAX_WORK get the exact conditional p-value instead.)
        tied = np.unique(np.concatenate([ref, cur])).size < ref.size + cur.size
        small_work = min(ref.size, cur.size) * (ref.size + cur.size) <= KS_TIES_MAX_WORK
        expected = "exact-ties" if tied and small_work else "asymptotic"
        assert ks_2samp(ref, cur).method == expected
    _check_numeric(name, case)


def _cvm_from_definition(ref: NDArray[np.float64], cur: NDArray[np.float64]) -> float:
    """T = nm/N² Σ (F_n - G_m)² over all N pooled values (Anderson 1962, eq. 1)."""
    pooled = np.concatenate([ref, cur])
    ecdf_ref = np.searchsorted(np.sort(ref), pooled, side="right") / ref.size
    ecdf_cur = np.searchsorted(np.sort(cur), pooled, side="right") / cur.size
    n_total = ref.size + cur.size
    return float(ref.size * cur.size / n_total**2 * np.sum((ecdf_ref - ecdf_cur) ** 2))


@settings(max_examples=30, deadline=None)
@given(case=numeric_cases(min_each=2))
def test_cvm_definition_used_below_equals_scipy_without_ties(case: NumericCase) -> None:
    ref, cur = replace(case, ties="continuous").arrays()
    expected = sps.cramervonmises_2samp(ref, cur).statistic
    assert abs(_cvm_from_definition(ref, cur) - expected) <= 1e-9 * abs(expected)


@settings(max_examples=100, deadline=None)
@given(case=numeric_cases(min_each=2), ties=st.sampled_from(["rounded", "integers"]))
def test_cvm_statistic_on_tied_data_is_the_ecdf_distance(case: NumericCase, ties: str) -> None:
    # With ties SciPy's rank formula departs from the Cramér-von Mises distance (and fires
    # on identical samples); the kernel's statistic must stay the distance itself.
    tied = replace(case, ties=ties)
    ref, cur = tied.arrays()
    assert_matches(
        cramervonmises_2samp(ref, cur).statistic, _cvm_from_definition(ref, cur), "cvm T", tied
    )


def _scipy_table(ref: NDArray[np.int64], cur: NDArray[np.int64]) -> NDArray[np.int64]:
    table = np.vstack([ref, cur])
    # SciPy refuses a zero expected count; a category seen in neither sample is dropped.
    return table[:, table.sum(axis=0) > 0]


@settings(max_examples=300, deadline=None)
@given(case=count_cases())
@example(case=CountCase(seed=10, k=2, n_ref=1, n_cur=1))
@example(case=CountCase(seed=11, k=12, n_ref=5000, n_cur=3, zeros="both"))
def test_chi2_homogeneity_equals_scipy(case: CountCase) -> None:
    ref, cur = case.counts()
    ours = chi2_homogeneity(ref, cur)
    theirs = sps.chi2_contingency(_scipy_table(ref, cur), correction=False)
    assert_matches(ours.statistic, theirs.statistic, "chi2 statistic", case)
    assert ours.p_value is not None
    assert_matches(ours.p_value, theirs.pvalue, "chi2 p-value", case)


@settings(max_examples=300, deadline=None)
@given(case=count_cases())
@example(case=CountCase(seed=12, k=2, n_ref=1, n_cur=1))
@example(case=CountCase(seed=13, k=12, n_ref=5000, n_cur=3, zeros="both"))
def test_g_test_equals_scipy(case: CountCase) -> None:
    ref, cur = case.counts()
    ours = g_test(ref, cur)
    theirs = sps.chi2_contingency(
        _scipy_table(ref, cur), correction=False, lambda_="log-likelihood"
    )
    assert_matches(ours.statistic, theirs.statistic, "G statistic", case)
    assert ours.p_value is not None
    assert_matches(ours.p_value, theirs.pvalue, "G p-value", case)


@settings(max_examples=300, deadline=None)
@given(
    table=st.lists(st.integers(0, 400), min_size=4, max_size=4).filter(
        # Each sample needs an observation and each category a count, else there is no 2x2.
        lambda t: t[0] + t[1] > 0 and t[2] + t[3] > 0 and t[0] + t[2] > 0 and t[1] + t[3] > 0
    )
)
@example(table=[0, 5, 7, 0])
@example(table=[1, 0, 0, 1])
@example(table=[400, 1, 399, 2])
def test_fisher_exact_equals_scipy(table: list[int]) -> None:
    ref, cur = table[:2], table[2:]
    ours = fisher_exact(ref, cur)
    theirs = sps.fisher_exact([ref, cur])
    assert_matches(ours.statistic, theirs.statistic, "odds ratio", table)
    assert ours.p_value is not None
    assert_matches(ours.p_value, theirs.pvalue, "fisher p-value", table)
