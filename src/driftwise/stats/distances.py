"""Distances between two distributions, with no p-value: decided against a threshold.

Probability-vector distances (PSI, Jensen–Shannon, KL, Hellinger, total variation,
L-infinity) work on aligned count vectors: category counts for categorical data, or
counts in reference-quantile bins for numeric data (see :mod:`driftwise.stats.binning`).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from driftwise.stats._pair import SortedPair
from driftwise.stats._result import TwoSampleResult

#: Proportions below this are raised to it before a logarithm, so that a bin or
#: category empty in one sample gives a large but finite PSI / KL (a common choice).
PROPORTION_FLOOR = 1e-4


def validated_counts(
    reference_counts: ArrayLike, current_counts: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two aligned, finite, non-negative count vectors, each with a positive total."""
    ref = np.asarray(reference_counts, dtype=np.float64)
    cur = np.asarray(current_counts, dtype=np.float64)
    if ref.shape != cur.shape or ref.ndim != 1:
        raise ValueError("count vectors must be one-dimensional and aligned")
    if not (np.all(np.isfinite(ref)) and np.all(np.isfinite(cur))):
        raise ValueError("counts must be finite")
    if np.any(ref < 0) or np.any(cur < 0):
        raise ValueError("counts must be non-negative")
    if ref.sum() <= 0 or cur.sum() <= 0:
        raise ValueError(
            "each count vector needs a positive total (each sample needs at least one observation)"
        )
    return ref, cur


def _proportions(
    reference_counts: ArrayLike, current_counts: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    ref, cur = validated_counts(reference_counts, current_counts)
    return ref / ref.sum(), cur / cur.sum()


def _floored(p: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.maximum(p, PROPORTION_FLOOR)


def population_stability_index(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """PSI = sum (q - p) ln(q / p), proportions floored at :data:`PROPORTION_FLOOR`.

    Examples
    --------
    >>> round(population_stability_index([50, 50], [60, 40]), 4)
    0.0405
    """
    p, q = _proportions(reference_counts, current_counts)
    p, q = _floored(p), _floored(q)
    return float(np.sum((q - p) * np.log(q / p)))


def kl_divergence(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """KL(reference ‖ current) in nats, proportions floored at :data:`PROPORTION_FLOOR`."""
    p, q = _proportions(reference_counts, current_counts)
    p, q = _floored(p), _floored(q)
    return float(np.sum(p * np.log(p / q)))


def jensen_shannon_distance(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """Jensen–Shannon distance with base-2 logarithms: 0 (equal) to 1 (disjoint).

    Per category, with ``s = p + q`` and ``x = (p - q) / s``, the divergence term is
    ``s/4 * g(x)``, ``g(x) = (1+x) log(1+x) + (1-x) log(1-x)``; near equal shares ``g`` is
    summed as its series ``sum_k x^(2k) / (k (2k - 1))``, so two almost equal distributions
    do not lose their small distance to cancellation (the difference of two entropies).
    """
    p, q = _proportions(reference_counts, current_counts)
    total = p + q
    keep = total > 0
    share, x = total[keep], (p[keep] - q[keep]) / total[keep]
    small = np.abs(x) < 1e-3
    g = np.empty_like(x)
    xs = x[small] ** 2
    g[small] = xs * (1.0 + xs * (1.0 / 6.0 + xs * (1.0 / 15.0 + xs / 28.0)))
    xl = x[~small]
    with np.errstate(divide="ignore", invalid="ignore"):
        plus = np.where(xl > -1.0, (1.0 + xl) * np.log1p(xl), 0.0)
        minus = np.where(xl < 1.0, (1.0 - xl) * np.log1p(-xl), 0.0)
    g[~small] = plus + minus
    divergence = float(np.sum(share * g)) / (4.0 * math.log(2.0))
    return math.sqrt(max(divergence, 0.0))


def hellinger_distance(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """Hellinger distance sqrt(1 - sum sqrt(p q)): 0 (equal) to 1 (disjoint)."""
    p, q = _proportions(reference_counts, current_counts)
    return math.sqrt(max(1.0 - float(np.sum(np.sqrt(p * q))), 0.0))


def total_variation_distance(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """Total variation distance: half the L1 distance, the share of mass that moved."""
    p, q = _proportions(reference_counts, current_counts)
    return float(np.abs(p - q).sum() / 2.0)


def linf_distance(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """L-infinity distance: the largest change of any single category's share."""
    p, q = _proportions(reference_counts, current_counts)
    return float(np.abs(p - q).max())


COUNT_DISTANCES = {
    "psi": population_stability_index,
    "jensenshannon": jensen_shannon_distance,
    "kl": kl_divergence,
    "hellinger": hellinger_distance,
    "tvd": total_variation_distance,
    "linf": linf_distance,
}


def count_distance_result(
    test: str, reference_counts: ArrayLike, current_counts: ArrayLike
) -> TwoSampleResult:
    """Distance ``test`` between aligned count vectors as a result (effect = statistic)."""
    value = COUNT_DISTANCES[test](reference_counts, current_counts)
    return TwoSampleResult(test, value, None, value, test, "distance")


def wasserstein_pair(pair: SortedPair) -> TwoSampleResult:
    """First Wasserstein distance (``scipy.stats.wasserstein_distance``); effect normed."""
    return TwoSampleResult(
        "wasserstein", pair.wasserstein, None, pair.wasserstein_normed,
        "wasserstein_normed", "distance",
    )


def energy_pair(pair: SortedPair) -> TwoSampleResult:
    """Energy distance (``scipy.stats.energy_distance``): sqrt(2 ∫ (F - G)²).

    Székely & Rizzo (2013), "Energy statistics", J. Stat. Planning and Inference
    143(8). The effect is the energy distance of the two samples measured in units of the
    reference's standard deviation (``value / sqrt(sd)``: the distance has the square root
    of the data's unit), so it does not change when the data are rescaled.
    """
    values, cdf_ref, cdf_cur = pair.steps
    # An elementwise sum, not np.dot: BLAS threads cost more than they save here. Near
    # the largest double the distance itself is infinite (its effect is not): IEEE inf.
    with np.errstate(over="ignore", invalid="ignore"):
        value = math.sqrt(2.0 * float(np.sum((cdf_ref[:-1] - cdf_cur[:-1]) ** 2
                                             * np.diff(values))))
    effect = math.sqrt(2.0 * pair.squared_cdf_gap_in_scale)
    return TwoSampleResult("energy", value, None, effect, "energy_normed", "distance")


def wasserstein_distance(reference: ArrayLike, current: ArrayLike) -> float:
    """First Wasserstein distance between two raw samples."""
    return SortedPair(reference, current).wasserstein


def energy_distance(reference: ArrayLike, current: ArrayLike) -> float:
    """Energy distance between two raw samples."""
    return energy_pair(SortedPair(reference, current)).statistic
