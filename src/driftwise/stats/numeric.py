"""Two-sample tests for numeric samples: KS, Anderson–Darling, Cramér–von Mises, Mann–Whitney.

Each kernel takes a :class:`SortedPair` (sorted once, shared with the effect size) and
returns a :class:`TwoSampleResult` whose effect is the Wasserstein distance normed by the
reference's standard deviation. Where SciPy computes the same test, statistic and
p-value equal SciPy's: the large-sample paths are computed here on the sorted data, and
the small-sample exact distributions (cheap at those sizes) are SciPy's own. Two
departures, where SciPy's answer does not hold for the data: KS on tied samples gets the
exact conditional p-value, and Cramér–von Mises with ties is computed from its definition.
"""

from __future__ import annotations

import math
import warnings
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from driftwise._lazy import LazyModule
from driftwise.stats._pair import SortedPair
from driftwise.stats._result import TwoSampleResult

if TYPE_CHECKING:
    from scipy import special
    from scipy import stats as sps
else:  # imported on first use (driftwise._lazy.preload starts it early)
    special = LazyModule("scipy.special")
    sps = LazyModule("scipy.stats")

_compiled_ks_ties: ModuleType | None
try:  # the optional C build of the tied-KS path count (declared in setup.py)
    from driftwise.stats import _ks_ties as _compiled_ks_ties
except ImportError:  # pragma: no cover - only where the install had no C compiler
    _compiled_ks_ties = None
#: Whether the compiled tied-KS path count was built with this install.
KS_TIES_COMPILED = _compiled_ks_ties is not None

# scipy.stats.ks_2samp(method="auto") is exact up to this size of the larger sample.
KS_EXACT_MAX_N = 10_000
# Tied samples get the exact conditional p-value while (smaller size) x (total size), the
# path count's work, is at most this: 10,000 vs 10,000, or a window of 2,000 beside a
# reference of 98,000 (about 0.14 s compiled, 0.5 s with NumPy alone); above it, Smirnov's
# limit, conservative on ties.
KS_TIES_MAX_WORK = 200_000_000
# scipy.stats.cramervonmises_2samp(method="auto") is exact up to this size.
CVM_EXACT_MAX_N = 20
CVM_PERMUTATIONS = 9_999
CVM_PERMUTATION_SEED = 20_240_601
# scipy.stats.mannwhitneyu(method="auto") may be exact when a sample is this small.
MWU_EXACT_MAX_N = 8

EFFECT_NAME = "wasserstein_normed"


def _result(pair: SortedPair, test: str, statistic: float, p_value: float, method: str) -> (
    TwoSampleResult
):
    return TwoSampleResult(
        test=test,
        statistic=float(statistic),
        p_value=float(min(max(p_value, 0.0), 1.0)),
        effect=pair.wasserstein_normed,
        effect_name=EFFECT_NAME,
        method=method,
    )


def ks_pair(pair: SortedPair) -> TwoSampleResult:
    """Two-sided two-sample Kolmogorov–Smirnov test, as ``scipy.stats.ks_2samp`` (auto).

    Exact null distribution when the larger sample has at most 10,000 values;
    otherwise Smirnov's limiting distribution with ``n = round(n1 n2 / (n1 + n2))``.

    With ties, the p-value is the exact *conditional* one (over every equally likely
    assignment of the pooled values to the two samples, see :func:`_ks_exact_ties_p_value`)
    whenever its work, (smaller size) x (total size), is at most ``KS_TIES_MAX_WORK``:
    SciPy's distributions assume continuous data and are conservative on ties (0.5 % false
    alarms at alpha = 0.05 on zero-inflated data). This departs from SciPy only on tied
    samples; method ``"exact-ties"``.
    """
    n1, n2 = pair.n_reference, pair.n_current
    tied = pair.n_distinct < n1 + n2
    if max(n1, n2) <= KS_EXACT_MAX_N:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            res = sps.ks_2samp(pair.reference, pair.current)
        if tied:
            return _result(pair, "ks", res.statistic,
                           _ks_exact_ties_p_value(pair, float(res.statistic)), "exact-ties")
        if any("Exact calculation unsuccessful" in str(w.message) for w in caught):
            # SciPy's exact recursion gave up (it then returns its asymptotic value); the
            # path count below is the same exact distribution and does not give up.
            return _result(pair, "ks", res.statistic,
                           _ks_exact_ties_p_value(pair, float(res.statistic)), "exact")
        return _result(pair, "ks", res.statistic, res.pvalue, "exact")
    gap_max, gap_min = pair.ecdf_gap_extremes
    d = float(min(max(gap_max, -gap_min, 0.0), 1.0))
    if tied and min(n1, n2) * (n1 + n2) <= KS_TIES_MAX_WORK:
        return _result(pair, "ks", d, _ks_exact_ties_p_value(pair, d), "exact-ties")
    big, small = max(n1, n2), min(n1, n2)
    en = float(big) * float(small) / (float(big) + float(small))
    p = float(sps.kstwo.sf(d, np.round(en)))
    return _result(pair, "ks", d, p, "asymptotic")


def _ks_exact_ties_p_value(pair: SortedPair, d: float) -> float:
    """P(D >= d) under random assignment of the pooled values to samples of the two sizes.

    Without ties it is the exact distribution of the continuous two-sample test (equal to
    SciPy's exact p-value where SciPy's recursion succeeds).

    The permutation (conditional) null for data with ties: the ECDF difference only moves
    at the end of each group of equal values, so only there is it compared with ``d`` (the
    lattice-path method of the exact two-sample test, checked at group boundaries only, as
    in Schröer & Trenkler 1995, "Exact and randomization distributions of
    Kolmogorov-Smirnov tests two or three samples", CSDA 20(2)). The pooled values are
    placed one by one: with ``x`` of the first ``s`` from the smaller sample (size ``a``,
    the other ``b``), the next one is from it with probability ``(a - x) / (a + b - s)``.
    Paths whose ``|x / a - (s - x) / b|`` reaches ``d`` at a boundary are absorbed; the
    p-value is the absorbed probability (a sum of positive terms: accurate when small).
    Work: ``(a + b)`` steps over ``a + 1`` states.
    """
    n1, n2 = pair.n_reference, pair.n_current
    a, b = min(n1, n2), max(n1, n2)
    total = a + b
    # D = |x b - y a| / (a b): compare integers, not rounded ratios.
    d_num = round(d * a * b)
    if d_num <= 0:
        return 1.0
    _, starts, counts = pair.ties
    boundary = np.zeros(total + 1, dtype=np.uint8)
    boundary[starts + counts] = 1
    if _compiled_ks_ties is not None:
        return min(float(_compiled_ks_ties.absorbed(boundary.tobytes(), a, b, d_num)), 1.0)
    return _ks_ties_absorbed_numpy(boundary, a, b, d_num)


def _ks_ties_absorbed_numpy(boundary: NDArray[np.uint8], a: int, b: int, d_num: int) -> float:
    """The path count of :func:`_ks_exact_ties_p_value` in NumPy (``_ks_ties.c`` compiled)."""
    total = a + b
    x = np.arange(a + 1, dtype=np.float64)
    x_int = np.arange(a + 1, dtype=np.int64)
    mass = np.zeros(a + 1)
    mass[0] = 1.0
    absorbed = 0.0
    for s in range(total):
        to_a = (a - x) * (1.0 / (total - s))  # as _ks_ties.c: one division per step
        moved = mass * to_a
        mass -= moved
        mass[1:] += moved[:-1]
        placed = s + 1
        if boundary[placed]:
            lo, hi = max(0, placed - b), min(placed, a)
            band = mass[lo:hi + 1]
            xs = x_int[lo:hi + 1]
            out = np.abs(xs * b - (placed - xs) * a) >= d_num
            if out.any():
                absorbed += float(band[out].sum())
                band[out] = 0.0
    return min(absorbed, 1.0)


# Scholz & Stephens (1987), "K-sample Anderson-Darling tests", JASA 82(399), Table 2:
# interpolation coefficients of the critical values t_m(alpha) = b0 + b1/sqrt(m) + b2/m.
_AD_SIGNIFICANCE = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
_AD_B0 = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
_AD_B1 = np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
_AD_B2 = np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])


def _ad_midrank_statistic(pair: SortedPair) -> float:
    """A²_akN of Scholz & Stephens (1987), eq. 7 (mid-rank version for ties), k = 2."""
    values, starts, counts = pair.ties
    n_total = pair.n_reference + pair.n_current
    lj = counts.astype(np.float64)
    bj = starts + lj / 2.0
    denom = bj * (n_total - bj) - n_total * lj / 4.0
    total = 0.0
    for sample in (pair.reference, pair.current):
        right = np.searchsorted(sample, values, side="right")
        left = np.searchsorted(sample, values, side="left")
        mij = right - (right - left) / 2.0
        inner = lj / n_total * (n_total * mij - bj * sample.size) ** 2 / denom
        total += float(inner.sum()) / sample.size
    return total * (n_total - 1.0) / n_total


def _ad_variance(n_reference: int, n_current: int) -> float:
    """Variance of A²_kN under the null, Scholz & Stephens (1987), eq. 4 with k = 2."""
    k = 2
    n_total = n_reference + n_current
    big_h = 1.0 / n_reference + 1.0 / n_current
    # Partial harmonic sums from 1/(N-1) down to 1/2, then h = sum_{i<N} 1/i and
    # g = sum_{i=1}^{N-2} sum_{j=i+1}^{N-1} 1 / ((N - i) j).
    tail = np.cumsum(1.0 / np.arange(n_total - 1, 1, -1))
    h = float(tail[-1]) + 1.0
    g = float((tail / np.arange(2, n_total)).sum())
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * big_h
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * big_h - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * big_h + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    n = float(n_total)
    return (a * n**3 + b * n**2 + c * n + d) / ((n - 1.0) * (n - 2.0) * (n - 3.0))


def anderson_pair(pair: SortedPair) -> TwoSampleResult:
    """k-sample Anderson–Darling test for k = 2, as ``scipy.stats.anderson_ksamp``.

    The statistic is the standardised mid-rank A² of Scholz & Stephens (1987). Its
    p-value is interpolated from their table of critical values (quadratic in log
    significance), so it is floored at 0.001 and capped at 0.25 like SciPy's.
    """
    if pair.is_constant_and_equal:
        return _result(pair, "anderson", 0.0, 1.0, "constant")
    if pair.n_reference + pair.n_current < 4:
        raise ValueError("the Anderson-Darling test needs at least 4 values in all")
    a2akn = _ad_midrank_statistic(pair)
    m = 1.0  # k - 1
    a2 = (a2akn - m) / math.sqrt(_ad_variance(pair.n_reference, pair.n_current))
    critical = _AD_B0 + _AD_B1 / math.sqrt(m) + _AD_B2 / m
    if a2 < critical.min():
        p = float(_AD_SIGNIFICANCE.max())
    elif a2 > critical.max():
        p = float(_AD_SIGNIFICANCE.min())
    else:
        coefficients = np.polyfit(critical, np.log(_AD_SIGNIFICANCE), 2)
        p = math.exp(float(np.polyval(coefficients, a2)))
    return _result(pair, "anderson", a2, p, "interpolated")


def _cvm_limit_cdf(x: float) -> float:
    """CDF of the limiting Cramér–von Mises distribution.

    Series of Csörgő & Faraway (1996), "The exact and asymptotic distributions of
    Cramér-von Mises statistics", JRSS B 58(1), eq. 1.3, summed until a term is below 1e-7.
    """
    total = 0.0
    k = 0
    while True:
        y = 4 * k + 1
        q = y * y / (16.0 * x)
        u = math.exp(special.gammaln(k + 0.5) - special.gammaln(k + 1)) / (
            math.pi**1.5 * math.sqrt(x)
        )
        # NumPy's vectorised exp, not math.exp: the two can differ in the last bit, which
        # 1 - CDF turns into a visible relative difference for p-values near 1e-11.
        decay = float(np.exp(np.array([-q]))[0])
        term = u * math.sqrt(y) * decay * float(special.kv(0.25, q))
        total += float(term)
        if abs(term) < 1e-7:
            return total
        k += 1


def _cvm_limit_p_value(t: float, nx: int, ny: int) -> float:
    """p-value of T from its limiting distribution, normalised as in Anderson (1962)."""
    k, n = nx * ny, nx + ny
    # Mean and variance of T under the null, Anderson (1962) eqs. 11 and 14.
    et = (1 + 1 / n) / 6
    vt = (n + 1) * (4 * k * n - 3 * (nx**2 + ny**2) - 2 * k) / (45 * n**2 * 4 * k)
    tn = 1 / 6 + (t - et) / math.sqrt(45 * vt)
    # Below 0.003 the limiting CDF is under 1e-18: the p-value is 1.
    return max(1.0 - _cvm_limit_cdf(tn), 0.0) if tn >= 0.003 else 1.0


def _cvm_ecdf_statistic(pair: SortedPair, from_reference: NDArray[np.bool_] | None = None) -> (
    NDArray[np.float64]
):
    """T = nm/N² Σ [F_n(x) - G_m(x)]² over the N pooled values (Anderson 1962, eq. 1).

    Right-continuous ECDFs, so a run of t equal values counts t times at its end. With
    ``from_reference`` (rows of reference/current labels over the pooled sorted values)
    the statistic is computed for each labelling at once.
    """
    nx, ny = pair.n_reference, pair.n_current
    n = nx + ny
    _, starts, counts = pair.ties
    ends = np.append(starts[1:], n) - 1
    labels = pair.from_reference[None, :] if from_reference is None else from_reference
    ref_upto = np.cumsum(labels, axis=1, dtype=np.int64)[:, ends]
    diff = ref_upto / nx - ((ends + 1) - ref_upto) / ny
    t: NDArray[np.float64] = nx * ny / n**2 * ((diff**2) @ counts)
    return t


def _cvm_permutation_p_value(pair: SortedPair, t: float) -> float:
    """Monte Carlo permutation p-value of T (fixed seed, so the same data give the same p)."""
    rng = np.random.default_rng(CVM_PERMUTATION_SEED)
    labels = np.tile(pair.from_reference, (CVM_PERMUTATIONS, 1))
    permuted = rng.permuted(labels, axis=1)
    null = _cvm_ecdf_statistic(pair, permuted)
    # Ties in T between labellings are exact in theory; allow for rounding in the sums.
    at_least = int(np.count_nonzero(null >= t * (1 - 1e-12)))
    return (1 + at_least) / (1 + CVM_PERMUTATIONS)


def cvm_pair(pair: SortedPair) -> TwoSampleResult:
    """Two-sample Cramér–von Mises test (Anderson 1962).

    Without ties this is ``scipy.stats.cramervonmises_2samp`` (auto) exactly: the rank
    form of T, the exact null up to 20 values per sample, the normalised limiting
    distribution above. With ties, SciPy's rank formula is biased (identical samples
    look different, and at unequal sizes it alarms on most tied samples under no
    drift), so T is computed from its definition over the ECDFs, where ties cannot
    inflate it; its p-value comes from the limiting distribution, or from 9,999
    label permutations (fixed seed) when a sample has at most 20 values.
    """
    nx, ny = pair.n_reference, pair.n_current
    if nx < 2 or ny < 2:
        raise ValueError("the Cramér-von Mises test needs at least 2 values in each sample")
    if pair.is_constant_and_equal:
        return _result(pair, "cvm", 0.0, 1.0, "constant")
    _, _, tie_counts = pair.ties
    small = max(nx, ny) <= CVM_EXACT_MAX_N
    if bool(np.any(tie_counts > 1)):
        t = float(_cvm_ecdf_statistic(pair)[0])
        if small:
            return _result(pair, "cvm", t, _cvm_permutation_p_value(pair, t), "permutation")
        return _result(pair, "cvm", t, _cvm_limit_p_value(t, nx, ny), "asymptotic")
    if small:
        res = sps.cramervonmises_2samp(pair.reference, pair.current)
        return _result(pair, "cvm", res.statistic, res.pvalue, "exact")
    ranks_x, ranks_y = pair.midranks
    u = nx * float(np.sum((ranks_x - np.arange(1, nx + 1)) ** 2)) + ny * float(
        np.sum((ranks_y - np.arange(1, ny + 1)) ** 2)
    )
    k, n = nx * ny, nx + ny
    t = u / (k * n) - (4 * k - 1) / (6 * n)
    return _result(pair, "cvm", t, _cvm_limit_p_value(t, nx, ny), "asymptotic")


def mannwhitney_pair(pair: SortedPair) -> TwoSampleResult:
    """Two-sided Mann–Whitney U test, as ``scipy.stats.mannwhitneyu`` (auto, continuity).

    The statistic is U of the reference sample. Normal approximation with tie and
    continuity corrections unless a sample has at most 8 values and there are no ties.
    """
    n1, n2 = pair.n_reference, pair.n_current
    _, _, tie_counts = pair.ties
    has_ties = bool(np.any(tie_counts > 1))
    if (n1 <= MWU_EXACT_MAX_N or n2 <= MWU_EXACT_MAX_N) and not has_ties:
        res = sps.mannwhitneyu(pair.reference, pair.current)
        return _result(pair, "mannwhitney", res.statistic, res.pvalue, "exact")
    ranks_ref, _ = pair.midranks
    u1 = float(ranks_ref.sum()) - n1 * (n1 + 1) / 2.0
    u2 = n1 * n2 - u1
    n = n1 + n2
    t = tie_counts.astype(np.float64)
    tie_term = float(np.sum(t**3 - t))
    s = math.sqrt(n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1))))
    if s == 0.0:
        return _result(pair, "mannwhitney", u1, 1.0, "constant")
    z = (max(u1, u2) - n1 * n2 / 2.0 - 0.5) / s
    p = 2.0 * float(special.ndtr(-z))
    return _result(pair, "mannwhitney", u1, p, "asymptotic")


def _pair(reference: ArrayLike, current: ArrayLike) -> SortedPair:
    return SortedPair(reference, current)


def ks_2samp(reference: ArrayLike, current: ArrayLike) -> TwoSampleResult:
    """Kolmogorov–Smirnov test on raw samples (see :func:`ks_pair`).

    Examples
    --------
    >>> r = ks_2samp([1.0, 2.0, 3.0, 4.0], [1.5, 2.5, 3.5, 4.5])
    >>> round(r.statistic, 2), r.p_value > 0.5
    (0.25, True)
    """
    return ks_pair(_pair(reference, current))


def anderson_ksamp(reference: ArrayLike, current: ArrayLike) -> TwoSampleResult:
    """Anderson–Darling k-sample test on raw samples (see :func:`anderson_pair`)."""
    return anderson_pair(_pair(reference, current))


def cramervonmises_2samp(reference: ArrayLike, current: ArrayLike) -> TwoSampleResult:
    """Cramér–von Mises test on raw samples (see :func:`cvm_pair`)."""
    return cvm_pair(_pair(reference, current))


def mannwhitneyu(reference: ArrayLike, current: ArrayLike) -> TwoSampleResult:
    """Mann–Whitney U test on raw samples (see :func:`mannwhitney_pair`)."""
    return mannwhitney_pair(_pair(reference, current))
