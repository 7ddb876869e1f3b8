"""Multiple-testing corrections: many columns mean many tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from driftwise.stats import adjust, benjamini_hochberg, bonferroni

# p-values as a monitor produces them: exact zeros and ones, ties, and everything between.
P_VALUES = st.lists(
    st.one_of(
        st.floats(0.0, 1.0),
        st.sampled_from([0.0, 1e-300, 0.001, 0.01, 0.05, 0.5, 1.0]),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(p=P_VALUES)
def test_benjamini_hochberg_equals_scipy(p: list[float]) -> None:
    expected = sps.false_discovery_control(np.array(p), method="bh")
    # SciPy scales by m / i, driftwise by m then / i: one rounding apart at most.
    np.testing.assert_allclose(benjamini_hochberg(p), expected, rtol=1e-12, atol=0)


@settings(max_examples=300, deadline=None)
@given(p=P_VALUES)
def test_benjamini_hochberg_is_monotone_and_between_p_and_bonferroni(p: list[float]) -> None:
    raw = np.array(p)
    adjusted = benjamini_hochberg(raw)
    order = np.argsort(raw, kind="stable")
    assert np.all(np.diff(adjusted[order]) >= 0), "a smaller p-value got a larger adjusted one"
    # m p / m can round one ulp below p.
    assert np.all(adjusted >= raw * (1 - 1e-15))
    assert np.all(adjusted <= bonferroni(raw))
    assert np.all(adjusted <= 1.0)


def test_benjamini_hochberg_matches_its_documented_example() -> None:
    assert benjamini_hochberg([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.04, 0.04])


@settings(max_examples=200, deadline=None)
@given(p=P_VALUES)
def test_bonferroni_multiplies_by_the_number_of_tests_and_caps_at_one(p: list[float]) -> None:
    raw = np.array(p)
    adjusted = bonferroni(raw)
    assert np.all(adjusted <= 1.0)
    assert adjusted.tolist() == [min(x * len(p), 1.0) for x in p]


def test_bonferroni_caps_at_one() -> None:
    assert bonferroni([0.2, 0.5, 0.01]).tolist() == pytest.approx([0.6, 1.0, 0.03])


def test_corrections_keep_the_input_unchanged() -> None:
    p = np.array([0.04, 0.01, 0.2])
    for method in ("bonferroni", "fdr", "none"):
        adjust(p, method)
    assert p.tolist() == [0.04, 0.01, 0.2]


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("bonferroni", [0.12, 0.03, 0.6]),
        ("fdr", [0.06, 0.03, 0.2]),
        ("none", [0.04, 0.01, 0.2]),
    ],
)
def test_adjust_dispatches_by_name(method: str, expected: list[float]) -> None:
    p = np.array([0.04, 0.01, 0.2])
    adjusted = adjust(p, method)
    assert adjusted.tolist() == pytest.approx(expected)
    assert adjusted is not p


@pytest.mark.parametrize("method", ["BH", "holm", "", "Bonferroni"])
def test_adjust_with_an_unknown_method_names_the_choices(method: str) -> None:
    with pytest.raises(ValueError, match=r"unknown correction.*bonferroni, fdr, none"):
        adjust([0.01, 0.2], method)


@pytest.mark.parametrize("method", ["bonferroni", "fdr", "none"])
def test_no_tests_adjust_to_nothing(method: str) -> None:
    assert adjust([], method).size == 0
