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
    def merged(self) -> FloatArray:
        """Both samples in one ascending array (a linear-time merge of two sorted runs)."""
        # A stable sort of two concatenated sorted runs is a single timsort merge.
        return np.sort(np.concatenate([self.reference, self.current]), kind="stable")

    @cached_property
    def cdfs(self) -> tuple[FloatArray, FloatArray]:
        """Right-continuous empirical CDFs of both samples at every merged point."""
        merged = self.merged
        cdf_ref = np.searchsorted(self.reference, merged, side="right") / self.n_reference
        cdf_cur = np.searchsorted(self.current, merged, side="right") / self.n_current
        return cdf_ref, cdf_cur

    @cached_property
    def ties(self) -> tuple[FloatArray, IntArray, IntArray]:
        """Distinct values of the pooled sample, index of their first occurrence, and counts."""
        merged = self.merged
        is_first = np.empty(merged.size, dtype=bool)
        is_first[0] = True
        np.not_equal(merged[1:], merged[:-1], out=is_first[1:])
        starts = np.flatnonzero(is_first)
        counts = np.diff(np.append(starts, merged.size))
        return merged[starts], starts, counts

    @cached_property
    def midranks(self) -> tuple[FloatArray, FloatArray]:
        """Mid-ranks (1-based, ties averaged) of each sample's values in the pooled sample."""
        merged = self.merged

        def ranks(values: FloatArray) -> FloatArray:
            below = np.searchsorted(merged, values, side="left")
            upto = np.searchsorted(merged, values, side="right")
            return (below + upto + 1) / 2.0

        return ranks(self.reference), ranks(self.current)

    @cached_property
    def reference_std(self) -> float:
        """Population standard deviation of the reference."""
        return float(np.std(self.reference))

    @cached_property
    def scale(self) -> float:
        """The scale effect sizes are normed by.

        The reference's standard deviation; the pooled one when the reference is
        constant; 1.0 when both samples are constant (then any difference is absolute).
        """
        if self.reference_std > 0:
            return self.reference_std
        pooled = float(np.std(self.merged))
        return pooled if pooled > 0 else 1.0

    @cached_property
    def wasserstein(self) -> float:
        """First Wasserstein (earth mover's) distance between the two empirical laws."""
        cdf_ref, cdf_cur = self.cdfs
        widths = np.diff(self.merged)
        return float(np.dot(np.abs(cdf_ref[:-1] - cdf_cur[:-1]), widths))

    @property
    def wasserstein_normed(self) -> float:
        """Wasserstein distance in units of the reference's standard deviation."""
        return self.wasserstein / self.scale

    @cached_property
    def is_constant_and_equal(self) -> bool:
        """Both samples hold one and the same single value."""
        return bool(self.merged[0] == self.merged[-1])
