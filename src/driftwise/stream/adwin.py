"""ADWIN, adaptive windowing (Bifet & Gavaldà 2007, "Learning from time-changing data with
adaptive windowing", SDM; ADWIN2's exponential histogram of buckets)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from driftwise.stream._base import (
    StreamDetector,
    as_finite_array,
    check_int,
    check_positive,
    reject_non_finite,
)

__all__ = ["ADWIN"]


class ADWIN(StreamDetector):
    """ADWIN: drift when two sub-windows of the recent window have clearly different means.

    The window is kept as an exponential histogram: row ``i`` holds up to ``max_buckets``
    buckets of ``2**i`` values (their sum and sum of squared deviations). Every ``clock``
    values, once more than ``grace_period`` are held, each split of the window into an older
    part (``n0`` values, mean ``m0``) and a newer part (``n1``, ``m1``) at a bucket boundary,
    both at least ``min_window_length`` long, is tested:
    ``|m0 - m1| > sqrt(2 m sigma^2 ln(2 ln(W) / delta)) + 2/3 m ln(2 ln(W) / delta)`` with
    ``sigma^2`` the window variance, ``W`` its width and
    ``m = 1 / (n0 - min_window_length + 1) + 1 / (n1 - min_window_length + 1)``
    (the paper's bound with its ``delta' = delta / ln W`` union correction, in the form MOA
    and River use). An alarm restarts the detector with an empty window.

    Values are buffered and inserted into the histogram at the next check, which gives the
    same histogram as inserting them one by one (the window variance is updated per batch
    with Chan et al.'s pairwise formula, so it can differ from a value-by-value update in
    the last bits).

    Parameters
    ----------
    delta : float
        Confidence parameter in (0, 1) (default 0.002).
    clock : int
        Values between two checks (default 32).
    max_buckets : int
        Buckets per row before the two oldest merge (default 5).
    min_window_length : int
        Shortest sub-window tested (default 5).
    grace_period : int
        Values held before the first check (default 10).

    Example
    -------
    >>> det = ADWIN()
    >>> det.update_many([0.0, 1.0] * 500 + [3.0, 4.0] * 100).tolist()
    [1023]
    """

    kind = "adwin"
    _params = ("delta", "clock", "max_buckets", "min_window_length", "grace_period")
    _state = ("width", "total", "variance", "tick", "totals", "variances", "pending")

    def __init__(self, delta: float = 0.002, clock: int = 32, max_buckets: int = 5,
                 min_window_length: int = 5, grace_period: int = 10) -> None:
        self.delta = check_positive("delta", delta)
        self.clock = check_int("clock", clock, 1)
        self.max_buckets = check_int("max_buckets", max_buckets, 2)
        self.min_window_length = check_int("min_window_length", min_window_length, 1)
        self.grace_period = check_int("grace_period", grace_period, 0)
        self.reset()

    def reset(self) -> None:
        self._width = 0
        self._total = 0.0
        self._variance = 0.0
        self._tick = 0
        self._totals: list[list[float]] = [[]]
        self._variances: list[list[float]] = [[]]
        self._pending: list[float] = []

    @property
    def width(self) -> int:
        """Number of values in the current window."""
        return self._width + len(self._pending)

    @property
    def estimation(self) -> float:
        """Mean of the current window (0 when empty)."""
        self._flush()
        return self._total / self._width if self._width else 0.0

    def update(self, x: float) -> bool:
        if x - x != 0.0:
            return reject_non_finite(x)
        self._pending.append(x)
        tick = self._tick = self._tick + 1
        if tick % self.clock:
            return False
        self._flush()
        if self._width > self.grace_period and self._cut():
            self.reset()
            return True
        return False

    def update_many(self, xs: Iterable[float] | npt.ArrayLike) -> npt.NDArray[np.int64]:
        """:meth:`update` over a batch, one clock period at a time (the same alarms)."""
        values = as_finite_array(xs).tolist()
        alarms: list[int] = []
        i, n, clock = 0, len(values), self.clock
        while i < n:
            take = values[i:i + clock - self._tick % clock]
            self._pending.extend(take)
            self._tick += len(take)
            i += len(take)
            if self._tick % clock == 0:
                self._flush()
                if self._width > self.grace_period and self._cut():
                    alarms.append(i - 1)
                    self.reset()
        return np.asarray(alarms, dtype=np.int64)

    def _flush(self) -> None:
        """Insert the buffered values: window sums, then the histogram rows, in batch.

        Inserting one value at a time merges the two oldest buckets of a row whenever it
        holds ``max_buckets + 1``; the merged buckets reach the next row in order. Over a
        batch this pairs up the oldest ``2q`` buckets of the row, with
        ``q = (len + added - max_buckets + 1) // 2``, which is the same histogram.
        """
        chunk = self._pending
        m = len(chunk)
        if not m:
            return
        width = self._width
        mean_c = sum(chunk) / m
        m2_c = sum([(x - mean_c) * (x - mean_c) for x in chunk])
        if width:
            mean_w = self._total / width
            d = mean_c - mean_w
            self._variance += m2_c + d * d * width * m / (width + m)
        else:
            self._variance = m2_c
        self._total += sum(chunk)
        self._width = width + m
        self._totals[0].extend(chunk)
        self._variances[0].extend([0.0] * m)
        self._pending = []
        self._compress()

    def _compress(self) -> None:
        totals, variances, limit = self._totals, self._variances, self.max_buckets
        i, size = 0, 1.0
        while len(totals[i]) > limit:
            row_t, row_v = totals[i], variances[i]
            q = (len(row_t) - limit + 1) // 2
            if i + 1 == len(totals):
                totals.append([])
                variances.append([])
            old_t, old_v = row_t[:2 * q], row_v[:2 * q]
            a, b = old_t[0::2], old_t[1::2]
            totals[i + 1].extend([x + y for x, y in zip(a, b, strict=True)])
            if i == 0:
                variances[1].extend([(x - y) * (x - y) / 2.0 for x, y in zip(a, b, strict=True)])
            else:
                variances[i + 1].extend([
                    va + vb + (x - y) * (x - y) / (2.0 * size)
                    for x, y, va, vb in zip(a, b, old_v[0::2], old_v[1::2], strict=True)
                ])
            del row_t[:2 * q], row_v[:2 * q]
            i += 1
            size *= 2.0

    def _cut(self) -> bool:
        width, total = self._width, self._total
        dd = math.log(2.0 * math.log(width) / self.delta)
        c1 = 2.0 * (self._variance / width) * dd
        c2 = 2.0 / 3.0 * dd
        shift = self.min_window_length - 1
        n0, u0 = 0, 0.0
        last = len(self._totals) - 1
        for i in range(last, -1, -1):
            size = 1 << i
            row = self._totals[i]
            stop = len(row) - 1 if i == 0 else len(row)  # never test an empty newer part
            for k in range(stop):
                n0 += size
                u0 += row[k]
                n1 = width - n0
                if n0 > shift and n1 > shift:
                    m = 1.0 / (n0 - shift) + 1.0 / (n1 - shift)
                    diff = u0 / n0 - (total - u0) / n1
                    # diff^2 > c1 m is necessary; the square root is taken only then.
                    if diff * diff > c1 * m and abs(diff) > math.sqrt(c1 * m) + c2 * m:
                        return True
        return False
