"""Edge cases the kernels decide and document: empty, non-finite and constant samples.

An empty sample or one holding NaN or an infinity is an error naming the sample; two
samples holding one and the same value are "no difference": statistic 0 and p-value 1
(Mann-Whitney's U is then at its null centre n1 n2 / 2, as in SciPy); one category in
all is the same for the categorical tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from driftwise.stats import (
    TwoSampleResult,
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

NUMERIC_KERNELS = [
    pytest.param(ks_2samp, id="ks"),
    pytest.param(anderson_ksamp, id="anderson"),
    pytest.param(cramervonmises_2samp, id="cvm"),
    pytest.param(mannwhitneyu, id="mannwhitney"),
    pytest.param(wasserstein_distance, id="wasserstein"),
    pytest.param(energy_distance, id="energy"),
]
CATEGORICAL_KERNELS = [
    pytest.param(chi2_homogeneity, id="chi2"),
    pytest.param(g_test, id="g_test"),
    pytest.param(fisher_exact, id="fisher"),
]

GOOD = [0.3, 1.2, -0.7, 2.2, 0.9]


@pytest.mark.parametrize("kernel", NUMERIC_KERNELS)
@pytest.mark.parametrize("side", ["reference", "current"])
def test_empty_sample_is_an_error_naming_it(kernel: Callable[..., Any], side: str) -> None:
    args = ([], GOOD) if side == "reference" else (GOOD, [])
    with pytest.raises(ValueError, match=f"{side} sample is empty"):
        kernel(*args)


@pytest.mark.parametrize("kernel", NUMERIC_KERNELS)
@pytest.mark.parametrize("side", ["reference", "current"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_value_is_an_error_naming_the_sample(
    kernel: Callable[..., Any], side: str, bad: float
) -> None:
    tainted = [*GOOD[:2], bad, *GOOD[2:]]
    args = (tainted, GOOD) if side == "reference" else (GOOD, tainted)
    with pytest.raises(ValueError, match=f"{side} sample holds NaN or infinite"):
        kernel(*args)


@pytest.mark.parametrize(
    "kernel",
    [
        pytest.param(ks_2samp, id="ks"),
        pytest.param(anderson_ksamp, id="anderson"),
        pytest.param(cramervonmises_2samp, id="cvm"),
    ],
)
@pytest.mark.parametrize(("n_ref", "n_cur"), [(3, 3), (5, 40), (400, 30)])
def test_constant_equal_samples_give_statistic_zero_and_p_value_one(
    kernel: Callable[..., TwoSampleResult], n_ref: int, n_cur: int
) -> None:
    result = kernel(np.full(n_ref, 4.2), np.full(n_cur, 4.2))
    assert result.statistic == 0.0
    assert result.p_value == 1.0
    assert result.effect == 0.0


@pytest.mark.parametrize(("n_ref", "n_cur"), [(1, 1), (3, 3), (5, 40), (400, 30)])
def test_constant_equal_samples_mannwhitney_is_at_its_null_centre(n_ref: int, n_cur: int) -> None:
    # U = 0 would mean "every reference value lies below every current value": the
    # no-difference value of U is n1 n2 / 2, which is also what SciPy reports.
    result = mannwhitneyu(np.full(n_ref, -1.5), np.full(n_cur, -1.5))
    assert result.statistic == n_ref * n_cur / 2
    assert result.p_value == 1.0
    assert result.effect == 0.0


@pytest.mark.parametrize(
    "kernel",
    [
        pytest.param(ks_2samp, id="ks"),
        pytest.param(anderson_ksamp, id="anderson"),
        pytest.param(cramervonmises_2samp, id="cvm"),
        pytest.param(mannwhitneyu, id="mannwhitney"),
    ],
)
@pytest.mark.parametrize(
    ("ref", "cur"),
    [
        # The current sample is the reference with every value repeated: the two empirical
        # distributions are identical, only the sample sizes differ (a typical discrete
        # column, such as a count of items, checked on a bigger production window).
        pytest.param([1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0] * 8, id="5-vs-40"),
        pytest.param(
            np.repeat([0.0, 1.0, 2.0], [50, 50, 100]),
            np.repeat([0.0, 1.0, 2.0], [150, 150, 300]),
            id="200-vs-600",
        ),
    ],
)
def test_identical_empirical_distributions_are_no_evidence_of_drift(
    kernel: Callable[..., TwoSampleResult], ref: Any, cur: Any
) -> None:
    for args in ((ref, cur), (cur, ref)):
        result = kernel(*args)
        assert result.effect == 0.0
        assert result.p_value is not None
        # Anderson-Darling's interpolated p-value is capped at 0.25 (Scholz & Stephens' table).
        expected = 0.25 if kernel is anderson_ksamp else 1.0
        assert result.p_value >= expected - 1e-12, (
            f"{kernel.__name__} on samples with identical ECDFs: statistic "
            f"{result.statistic}, p-value {result.p_value}"
        )


@pytest.mark.parametrize("kernel", NUMERIC_KERNELS[4:])
def test_constant_equal_samples_are_at_distance_zero(kernel: Callable[..., float]) -> None:
    assert kernel(np.full(7, 3.0), np.full(2, 3.0)) == 0.0


@pytest.mark.parametrize(
    "kernel",
    [pytest.param(ks_2samp, id="ks"), pytest.param(anderson_ksamp, id="anderson")],
)
def test_constant_but_different_samples_are_a_difference(
    kernel: Callable[..., TwoSampleResult],
) -> None:
    # Both constant is not "no difference" when the two constants differ.
    result = kernel(np.full(30, 1.0), np.full(30, 2.0))
    assert result.statistic > 0
    assert result.p_value is not None and result.p_value < 0.01


def test_anderson_needs_four_values_in_all() -> None:
    with pytest.raises(ValueError, match="at least 4 values"):
        anderson_ksamp([1.0, 2.0], [3.0])


def test_cramervonmises_needs_two_values_per_sample() -> None:
    with pytest.raises(ValueError, match="at least 2 values in each sample"):
        cramervonmises_2samp([1.0], [2.0, 3.0, 4.0])


@pytest.mark.parametrize("kernel", CATEGORICAL_KERNELS)
@pytest.mark.parametrize(
    ("ref", "cur"),
    [
        pytest.param([12], [30], id="one-category"),
        # Categories seen in neither sample carry no information and no degree of freedom.
        pytest.param([0, 12, 0], [0, 30, 0], id="one-category-seen"),
    ],
)
def test_one_category_gives_p_value_one(
    kernel: Callable[..., TwoSampleResult], ref: list[int], cur: list[int]
) -> None:
    result = kernel(ref, cur)
    assert result.p_value == 1.0
    assert result.effect == 0.0
    if kernel is not fisher_exact:
        assert result.statistic == 0.0


@pytest.mark.parametrize("kernel", CATEGORICAL_KERNELS)
@pytest.mark.parametrize(
    ("ref", "cur", "message"),
    [
        pytest.param([1, 2, 3], [1, 2], "aligned", id="misaligned"),
        pytest.param([[1, 2]], [[1, 2]], "one-dimensional", id="two-dimensional"),
        pytest.param([3, -1], [1, 1], "non-negative", id="negative"),
        pytest.param([0, 0], [1, 1], "at least one observation", id="empty-reference"),
        pytest.param([1, 1], [0, 0], "at least one observation", id="empty-current"),
    ],
)
def test_categorical_kernel_rejects_unusable_counts(
    kernel: Callable[..., TwoSampleResult], ref: list[Any], cur: list[Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        kernel(ref, cur)


@pytest.mark.parametrize("kernel", CATEGORICAL_KERNELS)
@pytest.mark.parametrize(
    ("ref", "cur"),
    [
        # A NaN count fails "count > 0", so its category is dropped as unseen and the
        # kernel reports one category left: statistic 0, p-value 1, "no drift".
        pytest.param([np.nan, 40.0], [25.0, 25.0], id="nan-reference"),
        pytest.param([40.0, 10.0], [np.nan, 25.0], id="nan-current"),
        # An infinite count yields a NaN statistic and p-value.
        pytest.param([np.inf, 40.0], [25.0, 25.0], id="inf-reference"),
    ],
)
def test_categorical_kernel_rejects_non_finite_counts(
    kernel: Callable[..., TwoSampleResult], ref: list[float], cur: list[float]
) -> None:
    with np.errstate(all="ignore"), pytest.raises(ValueError):
        result = kernel(ref, cur)
        pytest.fail(f"{kernel.__name__}({ref}, {cur}) returned {result}")


def test_fisher_needs_exactly_two_categories() -> None:
    with pytest.raises(ValueError, match="exactly 2 categories, got 3"):
        fisher_exact([1, 2, 3], [3, 2, 1])


def test_fisher_with_an_empty_category_column_is_two_categories_less_one() -> None:
    # Three categories of which one is seen in neither sample is a valid 2x2 table.
    result = fisher_exact([10, 0, 20], [20, 0, 10])
    assert result.method == "exact"
    assert result.p_value is not None and result.p_value < 0.05


def test_result_serialises_non_finite_numbers_as_none() -> None:
    # An odds ratio of infinity (a zero cell) must still serialise to plain JSON.
    result = fisher_exact([10, 0], [0, 10])
    assert result.statistic == np.inf
    as_dict = result.to_dict()
    assert as_dict["statistic"] is None
    assert as_dict["p_value"] == result.p_value
    assert as_dict == {
        "test": "fisher",
        "statistic": None,
        "p_value": result.p_value,
        "effect": 1.0,
        "effect_name": "tvd",
        "method": "exact",
    }


def test_result_is_frozen() -> None:
    result = ks_2samp([1.0, 2.0], [3.0, 4.0])
    with pytest.raises(AttributeError):
        result.p_value = 0.0  # type: ignore[misc]
