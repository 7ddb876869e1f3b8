"""KS on tied data: the exact conditional p-value, checked against full enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.stats as sps
from hypothesis import given, settings
from hypothesis import strategies as st

from driftwise.stats import ks_2samp
from driftwise.stats.numeric import _ks_exact_ties_p_value, _pair


def _enumerated_p_value(ref: np.ndarray, cur: np.ndarray) -> float:
    """Share of all assignments of the pooled values to samples of these sizes with
    D at least the observed one."""
    pool = np.concatenate([ref, cur])
    observed = sps.ks_2samp(ref, cur).statistic
    hits = total = 0
    for chosen in itertools.combinations(range(pool.size), ref.size):
        mask = np.zeros(pool.size, dtype=bool)
        mask[list(chosen)] = True
        hits += sps.ks_2samp(pool[mask], pool[~mask]).statistic >= observed - 1e-12
        total += 1
    return hits / total


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(0, 3), min_size=4, max_size=11), split=st.integers(2, 9))
def test_p_value_equals_full_enumeration(values: list[int], split: int) -> None:
    pool = np.asarray(values, dtype=np.float64)
    split = min(split, pool.size - 2)
    ref, cur = pool[:split], pool[split:]
    result = ks_2samp(ref, cur)
    assert result.p_value == pytest.approx(_enumerated_p_value(ref, cur), abs=1e-12)
    if np.unique(pool).size < pool.size:
        assert result.method == "exact-ties"


@pytest.mark.parametrize(("n_ref", "n_cur", "shift"), [(30, 40, 0.0), (200, 150, 0.4),
                                                       (7, 1000, 0.3), (500, 500, 0.1)])
def test_without_ties_the_path_count_equals_scipy_exact(n_ref: int, n_cur: int,
                                                        shift: float) -> None:
    rng = np.random.default_rng(n_ref + n_cur)
    ref, cur = rng.normal(size=n_ref), rng.normal(shift, 1.0, n_cur)
    theirs = sps.ks_2samp(ref, cur, method="exact")
    ours = _ks_exact_ties_p_value(_pair(ref, cur), float(theirs.statistic))
    assert ours == pytest.approx(theirs.pvalue, rel=1e-9, abs=1e-300)


def test_tied_data_gains_power_over_the_continuous_null() -> None:
    # Zero-inflated amounts whose non-zero part grows by 40 %: the continuous null hardly
    # ever fires; the exact conditional one does, at the same 5 % level under no drift.
    rng = np.random.default_rng(3)

    def amounts(n: int, scale: float) -> np.ndarray:
        x = rng.exponential(scale, n)
        x[rng.random(n) < 0.7] = 0.0
        return x

    ours = scipys = 0
    for _ in range(200):
        ref, cur = amounts(600, 1.0), amounts(400, 1.4)
        ours += ks_2samp(ref, cur).p_value < 0.05
        scipys += sps.ks_2samp(ref, cur).pvalue < 0.05
    assert ours >= 2 * scipys + 20  # measured: 40 of 200 against 8


def test_identical_samples_and_a_single_value_give_p_one() -> None:
    same = np.array([1.0, 1.0, 2.0, 2.0, 3.0])
    assert ks_2samp(same, same.copy()).p_value == 1.0
    assert ks_2samp(np.zeros(20), np.zeros(30)).p_value == 1.0


def test_when_scipys_exact_recursion_gives_up_the_path_count_answers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import warnings

    from driftwise.stats import numeric

    rng = np.random.default_rng(8)
    ref, cur = rng.normal(size=300), rng.normal(0.2, 1.0, 250)
    exact = sps.ks_2samp(ref, cur, method="exact")
    real = sps.ks_2samp

    def giving_up(*args, **kwargs):  # SciPy's behaviour when its recursion fails
        warnings.warn("ks_2samp: Exact calculation unsuccessful. Switching to method=asymp.",
                      RuntimeWarning, stacklevel=2)
        return real(*args, method="asymp")

    monkeypatch.setattr(numeric.sps, "ks_2samp", giving_up)
    result = ks_2samp(ref, cur)
    assert result.method == "exact"
    assert result.p_value == pytest.approx(exact.pvalue, rel=1e-9)
    assert result.p_value != pytest.approx(real(ref, cur, method="asymp").pvalue, rel=1e-6)


def test_compiled_and_numpy_path_counts_agree() -> None:
    from driftwise.stats import numeric

    assert numeric.KS_TIES_COMPILED, "driftwise.stats._ks_ties was not built"
    rng = np.random.default_rng(21)
    for n_ref, n_cur, values in ((40, 30, 3), (900, 700, 25), (6000, 800, 60)):
        ref = rng.integers(0, values, n_ref).astype(float)
        cur = rng.integers(0, values, n_cur).astype(float)
        pair = _pair(ref, cur)
        a, b = min(n_ref, n_cur), max(n_ref, n_cur)
        _, starts, counts = pair.ties
        boundary = np.zeros(a + b + 1, dtype=np.uint8)
        boundary[starts + counts] = 1
        d_num = round(float(sps.ks_2samp(ref, cur).statistic) * a * b)
        compiled = numeric._compiled_ks_ties.absorbed(boundary.tobytes(), a, b, d_num)
        assert compiled == pytest.approx(numeric._ks_ties_absorbed_numpy(boundary, a, b, d_num),
                                         rel=1e-12, abs=1e-300)


def test_a_large_reference_beside_a_small_window_gets_the_exact_tied_p_value() -> None:
    # Ages in whole years: a reference of 12,000 beside windows of 400. Beyond SciPy's exact
    # range, yet within the path count's budget: calibrated, not conservative.
    rng = np.random.default_rng(22)

    def ages(n: int) -> np.ndarray:
        return np.clip(np.round(rng.normal(45, 15, n)), 18, 90)

    rates = []
    for _ in range(2):  # two references: the rate given one reference varies a little
        reference = ages(12_000)
        assert ks_2samp(reference, ages(400)).method == "exact-ties"
        hits = sum(ks_2samp(reference, ages(400)).p_value < 0.05 for _ in range(400))
        rates.append(hits / 400)
    assert 0.03 <= float(np.mean(rates)) <= 0.07, rates


def test_the_least_statistic_has_p_one_where_no_assignment_gives_zero() -> None:
    # Seven values each; the value 2.0 occurs once, so no assignment of the pooled values
    # splits every tie group evenly: D >= 1/7 always, and P(D >= 1/7) is exactly 1. (SciPy's
    # exact recursion gives up here and returns its asymptotic 0.99996.)
    ref = np.array([0.0, 0.0, -1.0, -2.0, -1.0, -2.0, 0.0])
    cur = np.array([2.0, -1.0, -1.0, 0.0, 0.0, 0.0, -2.0])
    result = ks_2samp(ref, cur)
    assert result.statistic == pytest.approx(1 / 7)
    assert (result.method, result.p_value) == ("exact-ties", 1.0)
