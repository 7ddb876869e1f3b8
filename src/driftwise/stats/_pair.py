"""Sorted reference/current pair: the one-pass work shared by every numeric kernel.

Sorting dominates the cost of a numeric comparison. A ``SortedPair`` sorts each sample
once (or trusts an already sorted reference from a saved profile), merges them in linear
time, and derives the empirical CDFs, mid-ranks and tie groups lazily, so that a KS test,
its Wasserstein effect size and any other test on the same column share the work.

The KS statistic, the count of distinct pooled values and the Wasserstein distance come
from one compiled linear pass over the two sorted samples where the C extension was built
(``_scan.c``: no pooled array, no temporaries); the NumPy merge gives the same statistic
otherwise, and is still what mid-ranks, tie groups and the ECDF steps are built from.
"""

from __future__ import annotations

from functools import cached_property
from types import ModuleType

import numpy as np
from numpy.typing import ArrayLike, NDArray

_compiled_scan: ModuleType | None
try:  # the optional C build of the linear scan (declared in setup.py)
    from driftwise.stats import _scan as _compiled_scan
except ImportError:  # pragma: no cover - only where the install had no C compiler
    _compiled_scan = None
#: Whether the compiled scan over sorted pairs was built with this install.
SCAN_COMPILED = _compiled_scan is not None

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def _as_sample(values: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError(f"the {name} sample is empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"the {name} sample holds NaN or infinite values; remove them first")
    return arr


def distinct_upto(sorted_values: FloatArray, limit: int) -> int:
    """How many distinct values an ascending array holds, counted only up to ``limit + 1``
    (so that "more than ``limit``" costs a short scan on continuous data)."""
    if sorted_values.size == 0:
        return 0
    if _compiled_scan is not None:
        return int(_compiled_scan.distinct_upto(
            np.ascontiguousarray(sorted_values, dtype=np.float64), limit))
    changes = np.count_nonzero(sorted_values[1:] != sorted_values[:-1])
    return min(int(changes) + 1, limit + 1)


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
        #: Use the compiled scan where it was built (tests turn it off to check the NumPy
        #: path against it).
        self.compiled = SCAN_COMPILED

    @cached_property
    def _scan(self) -> tuple[int, float, float, float, float]:
        """Distinct pooled values, max and min of ``F_ref - F_cur`` over them, and the
        Wasserstein distance raw and in :attr:`unit` (compiled, one pass)."""
        assert _compiled_scan is not None
        distinct, gap_max, gap_min, raw, in_unit = _compiled_scan.ecdf_scan(
            np.ascontiguousarray(self.reference), np.ascontiguousarray(self.current), self.unit)
        return int(distinct), float(gap_max), float(gap_min), float(raw), float(in_unit)

    @property
    def n_distinct(self) -> int:
        """How many distinct values the pooled sample holds."""
        if self.compiled:
            return self._scan[0]
        return int(self._starts.size)

    @cached_property
    def ecdf_gap_extremes(self) -> tuple[float, float]:
        """``max`` and ``min`` over the pooled values of ``F_ref - F_cur`` (right-continuous
        ECDFs; the last gap is 0, so ``max >= 0 >= min``)."""
        if self.compiled:
            return self._scan[1], self._scan[2]
        _, cdf_ref, cdf_cur = self.steps
        diff = cdf_ref - cdf_cur
        return float(diff.max()), float(diff.min())

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
        top = max(abs(self._lowest), abs(self._highest))
        return top if top > 0 else 1.0

    @property
    def _lowest(self) -> float:
        return float(min(self.reference[0], self.current[0]))

    @property
    def _highest(self) -> float:
        return float(max(self.reference[-1], self.current[-1]))

    @cached_property
    def _reference_unit_std(self) -> float:
        """The reference's standard deviation, in :attr:`unit`."""
        if self.compiled:
            assert _compiled_scan is not None
            return float(_compiled_scan.scaled_std(np.ascontiguousarray(self.reference),
                                                   self.unit))
        return float(np.std(self.reference / self.unit))

    @property
    def reference_std(self) -> float:
        """Population standard deviation of the reference."""
        return self._reference_unit_std * self.unit

    @cached_property
    def _unit_scale(self) -> float:
        ref = self._reference_unit_std
        if ref > 0:
            return ref
        pooled = float(np.std(self.merged / self.unit))
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
        if self.compiled:
            return self._scan[3]
        values, cdf_ref, cdf_cur = self.steps
        # An elementwise sum, not np.dot: BLAS threads cost more than they save here. Near
        # the largest double the distance itself is infinite (its effect is not): IEEE inf.
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.sum(np.abs(cdf_ref[:-1] - cdf_cur[:-1]) * np.diff(values)))

    @cached_property
    def wasserstein_normed(self) -> float:
        """Wasserstein distance in units of the reference's standard deviation."""
        if np.isfinite(self.wasserstein) and np.isfinite(self.scale) and self.scale > 0 \
                and self.wasserstein > 1e-290:
            return self.wasserstein / self.scale
        if self.compiled:
            return self._scan[4] / self._unit_scale
        values, cdf_ref, cdf_cur = self.steps
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
        return self._lowest == self._highest
