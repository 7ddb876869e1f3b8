"""Distances between count vectors, and the numeric effect sizes: the properties users read.

Zero when nothing moved, bounded where the definition says so, at the maximum on disjoint
supports, PSI symmetric and equal to its hand-computed formula (with the documented 1e-4
proportion floor), Jensen-Shannon equal to its exact value (and to SciPy's, which loses
digits near zero), and effect sizes that measure how far
the distribution moved rather than how many values were collected.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from driftwise.stats import (
    SortedPair,
    chi2_homogeneity,
    energy_distance,
    hellinger_distance,
    jensen_shannon_distance,
    kl_divergence,
    ks_2samp,
    linf_distance,
    population_stability_index,
    total_variation_distance,
    wasserstein_distance,
)
from driftwise.stats.distances import PROPORTION_FLOOR, energy_pair

CountDistance = Callable[[Any, Any], float]

ALL_DISTANCES = [
    pytest.param(population_stability_index, id="psi"),
    pytest.param(jensen_shannon_distance, id="jensenshannon"),
    pytest.param(kl_divergence, id="kl"),
    pytest.param(hellinger_distance, id="hellinger"),
    pytest.param(total_variation_distance, id="tvd"),
    pytest.param(linf_distance, id="linf"),
]
BOUNDED_DISTANCES = [
    pytest.param(jensen_shannon_distance, id="jensenshannon"),
    pytest.param(hellinger_distance, id="hellinger"),
    pytest.param(total_variation_distance, id="tvd"),
    pytest.param(linf_distance, id="linf"),
]


@st.composite
def count_pairs(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """Two aligned count vectors with positive totals, zeros allowed in either."""
    k = draw(st.integers(1, 12))
    counts = st.lists(st.integers(0, 10_000), min_size=k, max_size=k).filter(lambda c: sum(c) > 0)
    return draw(counts), draw(counts)


@pytest.mark.parametrize("distance", ALL_DISTANCES)
@pytest.mark.parametrize(
    ("ref", "cur"),
    [
        pytest.param([10, 20, 30, 40], [10, 20, 30, 40], id="identical"),
        # Distances compare shares, so a bigger sample with the same mix has not moved.
        pytest.param([10, 20, 30, 40], [30, 60, 90, 120], id="proportional"),
        # A category empty in both carries no mass in either.
        pytest.param([5, 0, 7], [5, 0, 7], id="shared-zero"),
    ],
)
def test_distance_is_zero_when_the_mix_is_unchanged(
    distance: CountDistance, ref: list[int], cur: list[int]
) -> None:
    assert distance(ref, cur) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("distance", ALL_DISTANCES)
def test_distance_is_positive_when_the_mix_changes(distance: CountDistance) -> None:
    assert distance([50, 30, 20], [40, 30, 30]) > 0.01


@pytest.mark.parametrize("distance", BOUNDED_DISTANCES)
@settings(max_examples=150, deadline=None)
@given(pair=count_pairs())
def test_bounded_distance_lies_in_unit_interval(
    distance: CountDistance, pair: tuple[list[int], list[int]]
) -> None:
    value = distance(*pair)
    assert 0.0 <= value <= 1.0, f"{distance.__name__}{pair} = {value}"


@pytest.mark.parametrize("distance", BOUNDED_DISTANCES[:3])
@pytest.mark.parametrize(
    ("ref", "cur"),
    [
        pytest.param([7, 0], [0, 3], id="two-categories"),
        pytest.param([5, 9, 0, 0], [0, 0, 1, 4], id="four-categories"),
    ],
)
def test_bounded_distance_is_one_on_disjoint_supports(
    distance: CountDistance, ref: list[int], cur: list[int]
) -> None:
    assert distance(ref, cur) == pytest.approx(1.0, rel=1e-12)


def test_linf_is_one_only_when_all_mass_leaves_one_category() -> None:
    # L-infinity is the largest single share change: 1 when one category empties completely.
    assert linf_distance([7, 0], [0, 3]) == 1.0
    assert linf_distance([5, 9, 0, 0], [0, 0, 1, 4]) == pytest.approx(0.8, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(pair=count_pairs())
def test_psi_is_symmetric(pair: tuple[list[int], list[int]]) -> None:
    ref, cur = pair
    assert population_stability_index(ref, cur) == pytest.approx(
        population_stability_index(cur, ref), rel=1e-12, abs=1e-15
    )


def test_psi_matches_the_hand_computed_formula_with_the_floor() -> None:
    # Shares p = (.5, .3, .2, 0) and q = (.4, .3, .25, .05); the empty reference category
    # is raised to the documented floor of 1e-4 before the logarithm.
    assert PROPORTION_FLOOR == 1e-4
    expected = (
        (0.40 - 0.50) * math.log(0.40 / 0.50)
        + (0.30 - 0.30) * math.log(0.30 / 0.30)
        + (0.25 - 0.20) * math.log(0.25 / 0.20)
        + (0.05 - 1e-4) * math.log(0.05 / 1e-4)
    )
    assert population_stability_index([50, 30, 20, 0], [40, 30, 25, 5]) == pytest.approx(
        expected, rel=1e-12
    )


def test_psi_matches_its_documented_example() -> None:
    expected = (0.6 - 0.5) * math.log(0.6 / 0.5) + (0.4 - 0.5) * math.log(0.4 / 0.5)
    assert population_stability_index([50, 50], [60, 40]) == pytest.approx(expected, rel=1e-12)
    assert round(expected, 4) == 0.0405


def test_kl_divergence_matches_the_hand_computed_formula() -> None:
    # KL(reference || current) in nats; the category the current sample lacks is floored.
    expected = 0.5 * math.log(0.5 / 0.25) + 0.25 * math.log(0.25 / 0.75) + 0.25 * math.log(
        0.25 / 1e-4
    )
    assert kl_divergence([2, 1, 1], [1, 3, 0]) == pytest.approx(expected, rel=1e-12)


def test_kl_divergence_is_not_symmetric_but_never_negative() -> None:
    forward, backward = kl_divergence([9, 1], [5, 5]), kl_divergence([5, 5], [9, 1])
    assert forward > 0 and backward > 0
    assert forward != pytest.approx(backward, rel=1e-3)


def _exact_js(ref: list[int], cur: list[int]) -> float:
    """The Jensen-Shannon distance in 50-digit arithmetic (the definition, no shortcut)."""
    mpmath.mp.dps = 50
    p = [mpmath.mpf(x) / sum(ref) for x in ref]
    q = [mpmath.mpf(x) / sum(cur) for x in cur]
    m = [(a + b) / 2 for a, b in zip(p, q, strict=True)]

    def kl(a: list[Any]) -> Any:
        return sum(x * mpmath.log(x / y, 2) for x, y in zip(a, m, strict=True) if x > 0)

    return float(mpmath.sqrt((kl(p) + kl(q)) / 2))


@settings(max_examples=200, deadline=None)
@given(pair=count_pairs())
def test_jensen_shannon_distance_equals_scipy_and_the_exact_value(
        pair: tuple[list[int], list[int]]) -> None:
    ref, cur = pair
    ours = jensen_shannon_distance(ref, cur)
    assert ours == pytest.approx(_exact_js(ref, cur), rel=1e-12, abs=1e-15)
    # SciPy subtracts entropies, losing digits when the two distributions are almost
    # equal ([1, 1] vs [9989, 9990]: 9e-9 relative); away from that it agrees to 1e-9.
    assert ours == pytest.approx(float(jensenshannon(ref, cur, base=2)), rel=1e-6, abs=1e-12)


def test_jensen_shannon_keeps_the_digits_of_nearly_equal_distributions() -> None:
    for ref, cur in (([9937, 9936], [9993, 9992]), ([1, 1], [9989, 9990])):
        assert jensen_shannon_distance(ref, cur) == pytest.approx(_exact_js(ref, cur),
                                                                  rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(pair=count_pairs())
def test_hellinger_tvd_linf_equal_their_textbook_forms(pair: tuple[list[int], list[int]]) -> None:
    ref, cur = (np.asarray(c, dtype=float) for c in pair)
    p, q = ref / ref.sum(), cur / cur.sum()
    hellinger = float(np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)))
    # sqrt(1 - BC) loses digits when the Bhattacharyya coefficient is near 1.
    assert hellinger_distance(ref, cur) == pytest.approx(hellinger, abs=1e-7)
    assert total_variation_distance(ref, cur) == pytest.approx(
        0.5 * float(np.abs(p - q).sum()), rel=1e-12, abs=1e-15
    )
    assert linf_distance(ref, cur) == pytest.approx(float(np.abs(p - q).max()), rel=1e-12)


@pytest.mark.parametrize("distance", ALL_DISTANCES)
@pytest.mark.parametrize(
    ("ref", "cur", "message"),
    [
        pytest.param([1, 2, 3], [1, 2], "aligned", id="misaligned"),
        pytest.param([[1, 2], [3, 4]], [[1, 2], [3, 4]], "one-dimensional", id="two-dimensional"),
        pytest.param([0, 0], [1, 2], "positive total", id="empty-reference"),
        pytest.param([1, 2], [0, 0], "positive total", id="empty-current"),
    ],
)
def test_distance_rejects_unusable_count_vectors(
    distance: CountDistance, ref: list[Any], cur: list[Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        distance(ref, cur)


@pytest.mark.parametrize(
    "bad_pairs",
    [
        pytest.param([([3, -1], [1, 1]), ([1, 1], [-2, 4])], id="negative"),
        pytest.param(
            [([np.nan, 1], [1, 1]), ([1, 1], [np.inf, 1]), ([1, -np.inf], [1, 1])],
            id="non-finite",
        ),
    ],
)
def test_distance_rejects_counts_that_are_not_counts(
    bad_pairs: list[tuple[list[float], list[float]]],
) -> None:
    # The categorical tests refuse negative counts; the distances on the same vectors must
    # not turn them into a confident number (PSI 5.36 and TVD 1.0 for [3, -1] vs [1, 1])
    # or a silent NaN.
    accepted = []
    for param in ALL_DISTANCES:
        distance = param.values[0]
        for ref, cur in bad_pairs:
            try:
                with np.errstate(all="ignore"):
                    value = distance(ref, cur)
            except ValueError:
                continue
            accepted.append(f"{param.id}({ref}, {cur}) = {value}")
    assert not accepted, "accepted without a ValueError: " + "; ".join(accepted)


def test_wasserstein_effect_does_not_grow_with_sample_size() -> None:
    rng = np.random.default_rng(301)
    effects = {
        n: ks_2samp(rng.normal(0.0, 1.0, n), rng.normal(0.5, 1.0, n)).effect
        for n in (1_000, 100_000)
    }
    # Both estimate the true distance, half a reference sd; the small sample within noise.
    assert effects[100_000] == pytest.approx(0.5, abs=0.02)
    assert effects[1_000] == pytest.approx(effects[100_000], abs=0.1)


def test_tvd_effect_does_not_grow_with_sample_size() -> None:
    rng = np.random.default_rng(302)
    probs_ref, probs_cur = [0.5, 0.3, 0.2], [0.4, 0.3, 0.3]
    effects = {
        n: chi2_homogeneity(rng.multinomial(n, probs_ref), rng.multinomial(n, probs_cur)).effect
        for n in (1_000, 100_000)
    }
    assert effects[100_000] == pytest.approx(0.1, abs=0.01)
    assert effects[1_000] == pytest.approx(effects[100_000], abs=0.05)


def test_numeric_effect_is_wasserstein_in_reference_sd_and_scale_free() -> None:
    rng = np.random.default_rng(303)
    ref, cur = rng.normal(10.0, 2.0, 500), rng.normal(11.0, 3.0, 700)
    effect = ks_2samp(ref, cur).effect
    assert effect == pytest.approx(wasserstein_distance(ref, cur) / np.std(ref), rel=1e-12)
    # Changing units (say metres to millimetres) leaves the effect alone.
    assert ks_2samp(ref * 1000.0, cur * 1000.0).effect == pytest.approx(effect, rel=1e-9)


def test_energy_effect_is_energy_distance_in_reference_sd() -> None:
    rng = np.random.default_rng(304)
    ref, cur = rng.normal(0.0, 4.0, 300), rng.normal(1.0, 4.0, 300)
    result = energy_pair(SortedPair(ref, cur))
    assert result.statistic == pytest.approx(energy_distance(ref, cur), rel=1e-12)
    # The energy distance of the samples standardised by the reference's sd.
    sd = np.std(ref)
    assert result.effect == pytest.approx(energy_distance(ref / sd, cur / sd), rel=1e-10)
    assert result.p_value is None


@pytest.mark.parametrize("unit", [1e-300, 1e-150, 1e-5, 1.0, 1e5, 1e150, 1e300])
def test_effects_do_not_depend_on_the_unit_of_the_data(unit: float) -> None:
    rng = np.random.default_rng(305)
    ref, cur = rng.normal(0.0, 1.0, 400), rng.normal(0.5, 1.5, 400)
    base_w = SortedPair(ref, cur).wasserstein_normed
    base_e = energy_pair(SortedPair(ref, cur)).effect
    pair = SortedPair(ref * unit, cur * unit)
    assert np.isfinite(pair.wasserstein_normed) and np.isfinite(energy_pair(pair).effect)
    assert pair.wasserstein_normed == pytest.approx(base_w, rel=1e-9)
    assert energy_pair(pair).effect == pytest.approx(base_e, rel=1e-9)
