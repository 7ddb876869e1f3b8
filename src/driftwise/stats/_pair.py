"""Sorted reference/current pair: the one-pass work shared by every numeric kernel.

Sorting dominates the cost of a numeric comparison. A ``SortedPair`` sorts each sample
once (or trusts an already sorted reference from a saved profile), merges them in linear
time, and derives the empirical CDFs, mid-ranks and tie groups lazily, so that a KS test,
its Wasserstein effect size and any other test on the same column share the work.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def _as_sample(values: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError(f"the {name} sample is empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"the {name} sample holds NaN or infinite values; remove them first")
    return arr


class SortedPair:
    """Two sorted, finite, non-empty samples and the quantities tests derive from them.

    Parameters
    ----------
    reference, current : array_like
        One-dimensional finite samples.
    assume_sorted : bool
        Skip sorting when both inputs are already in ascending order.
    """

    def __init__(self, reference: ArrayLike, current: ArrayLike, *, assume_sorted: bool = False):
        ref = _as_sample(reference, "reference")
        cur = _as_sample(current, "current")
        self.reference: FloatArray = ref if assume_sorted else np.sort(ref)
        self.current: FloatArray = cur if assume_sorted else np.sort(cur)
        self.n_reference = int(self.reference.size)
        self.n_current = int(self.current.size)

    @cached_property
    def _merge(self) -> tuple[FloatArray, NDArray[np.bool_]]:
        """The pooled sorted sample and which of its entries come from the reference.

        One binary search places every reference value among the current ones (reference
        first among equal values); the rest is a linear scatter, no further sorting.
        """
        n = self.n_reference + self.n_current
        positions = np.searchsorted(self.current, self.reference, side="left")
        positions += np.arange(self.n_reference)
        from_reference = np.zeros(n, dtype=bool)
        from_reference[positions] = True
        merged = np.empty(n)
        merged[positions] = self.reference
        merged[~from_reference] = self.current
        return merged, from_reference

    @property
    def merged(self) -> FloatArray:
        """Both samples in one ascending array."""
        return self._merge[0]

    @property
    def from_reference(self) -> NDArray[np.bool_]:
        """For each entry of :attr:`merged`, whether it comes from the reference."""
        return self._merge[1]

    @cached_property
    def _starts(self) -> IntArray:
        """First index of each run of equal values in the pooled sample."""
        merged = self.merged
        is_first = np.empty(merged.size, dtype=bool)
        is_first[0] = True
        np.not_equal(merged[1:], merged[:-1], out=is_first[1:])
        return np.flatnonzero(is_first)

    @cached_property
    def steps(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Distinct pooled values and both samples' right-continuous ECDFs at each of them."""
        merged, from_reference = self._merge
        starts = self._starts
        ends = np.append(starts[1:], merged.size) - 1
        ref_upto = np.cumsum(from_reference, dtype=np.int64)[ends]
        cur_upto = (ends + 1) - ref_upto
        return merged[starts], ref_upto / self.n_reference, cur_upto / self.n_current

    @property
    def ties(self) -> tuple[FloatArray, IntArray, IntArray]:
        """Distinct values of the pooled sample, index of their first occurrence, and counts."""
        starts = self._starts
        counts = np.diff(np.append(starts, self.merged.size))
        return self.merged[starts], starts, counts

    @cached_property
    def midranks(self) -> tuple[FloatArray, FloatArray]:
        """Mid-ranks (1-based, ties averaged) of each sample's values in the pooled sample."""
        _, from_reference = self._merge
        starts = self._starts
        counts = np.diff(np.append(starts, self.merged.size))
        rank_of_group = starts + (counts + 1) / 2.0
        group_of = np.repeat(np.arange(starts.size), counts)
        ranks = rank_of_group[group_of]
        return ranks[from_reference], ranks[~from_reference]

    @cached_property
    def unit(self) -> float:
        """The largest magnitude in either sample (1.0 when all are 0).

        Spreads and distances are computed on values divided by it, so that samples of
        1e300 (whose squares overflow) or 1e-300 (whose squares underflow to 0) still give
        finite, meaningful effect sizes; effects are ratios, so the unit cancels.
        """
        merged = self.merged
        top = max(abs(float(merged[0])), abs(float(merged[-1])))
        return top if top > 0 else 1.0

    @cached_property
    def _unit_std(self) -> tuple[float, float]:
        """Reference and pooled standard deviations, in :attr:`unit`."""
        unit = self.unit
        return float(np.std(self.reference / unit)), float(np.std(self.merged / unit))

    @property
    def reference_std(self) -> float:
        """Population standard deviation of the reference."""
        return self._unit_std[0] * self.unit

    @cached_property
    def _unit_scale(self) -> float:
        ref, pooled = self._unit_std
        if ref > 0:
            return ref
        return pooled if pooled > 0 else 1.0 / self.unit

    @property
    def scale(self) -> float:
        """The scale effect sizes are normed by.

        The reference's standard deviation; the pooled one when the reference is
        constant; 1.0 when both samples are constant (then any difference is absolute).
        """
        return self._unit_scale * self.unit

    @cached_property
    def wasserstein(self) -> float:
        """First Wasserstein (earth mover's) distance between the two empirical laws."""
        values, cdf_ref, cdf_cur = self.steps
        # An elementwise sum, not np.dot: BLAS threads cost more than they save here. Near
        # the largest double the distance itself is infinite (its effect is not): IEEE inf.
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.sum(np.abs(cdf_ref[:-1] - cdf_cur[:-1]) * np.diff(values)))

    @cached_property
    def wasserstein_normed(self) -> float:
        """Wasserstein distance in units of the reference's standard deviation."""
        values, cdf_ref, cdf_cur = self.steps
        if np.isfinite(self.wasserstein) and np.isfinite(self.scale) and self.scale > 0 \
                and self.wasserstein > 1e-290:
            return self.wasserstein / self.scale
        in_units = float(np.sum(np.abs(cdf_ref[:-1] - cdf_cur[:-1]) * np.diff(values / self.unit)))
        return in_units / self._unit_scale

    @cached_property
    def squared_cdf_gap_in_scale(self) -> float:
        """``∫ (F - G)² dx`` with ``x`` in units of :attr:`scale` (energy distance, normed)."""
        values, cdf_ref, cdf_cur = self.steps
        steps = np.diff(values / self.unit) / self._unit_scale
        return float(np.sum((cdf_ref[:-1] - cdf_cur[:-1]) ** 2 * steps))

    @cached_property
    def is_constant_and_equal(self) -> bool:
        """Both samples hold one and the same single value."""
        return bool(self.merged[0] == self.merged[-1])
