"""Two-sided CUSUM on a standardised statistic (Page 1954; tabular form of Montgomery, ch. 9)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from driftwise.stream._base import ReferenceStreamDetector, as_finite_array, check_positive

__all__ = ["CUSUM"]

_EPS = float(np.finfo(np.float64).eps)
_SHORT_RUN = 96  # mean run length below which update_many loops instead
_SCALAR_BLOCK = 4096


class CUSUM(ReferenceStreamDetector):
    """Two-sided tabular CUSUM of ``z = (x - mean) / std``.

    ``S+ = max(0, S+ + z - k)`` and ``S- = max(0, S- - z - k)``; an alarm is raised when
    either exceeds ``h``, after which both restart at 0. ``k`` is half the shift (in
    reference sds) the chart is tuned for; choose ``h`` for a target in-control average run
    length with :func:`driftwise.stream.calibrate_cusum`.

    Parameters
    ----------
    h : float
        Decision threshold, in reference sds (default 5).
    k : float
        Reference value (allowance), in reference sds (default 0.5: tuned for a 1-sd shift).
    mean, std : float, optional
        The in-control mean and sd; otherwise learned by :meth:`fit`.

    Example
    -------
    >>> det = CUSUM(h=5.0, k=0.5, mean=0.0, std=1.0)
    >>> det.update_many([0.1, -0.2, 0.3] + [2.0] * 10).tolist()
    [6, 10]
    """

    kind = "cusum"
    _params = ("h", "k", "mean", "std")
    _state = ("mu", "sd", "hi", "lo")

    def __init__(self, h: float = 5.0, k: float = 0.5, mean: float | None = None,
                 std: float | None = None) -> None:
        super().__init__(mean, std)
        self.h = check_positive("h", h)
        self.k = check_positive("k", k, allow_zero=True)
        self._hi = 0.0
        self._lo = 0.0

    def reset(self) -> None:
        self._hi = 0.0
        self._lo = 0.0

    @property
    def statistics(self) -> tuple[float, float]:
        """The current (S+, S-)."""
        return self._hi, self._lo

    def update(self, x: float) -> bool:
        y = (x - self._mu) / self._sd
        if y - y != 0.0:
            return self._reject(x)
        # Same operation order as update_many: S + (z - k), S + (-z - k).
        hi = self._hi + (y - self.k)
        lo = self._lo + (-y - self.k)
        if hi < 0.0:
            hi = 0.0
        if lo < 0.0:
            lo = 0.0
        if hi > self.h or lo > self.h:
            self._hi = self._lo = 0.0
            return True
        self._hi = hi
        self._lo = lo
        return False

    def update_many(self, xs: Iterable[float] | npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Vectorised :meth:`update` over a batch: the same alarms, 0-based positions in ``xs``.

        Between alarms the recursion ``S_t = max(0, S_{t-1} + a_t)`` has the closed form
        ``S_t = C_t - min(C_start - S_start, min_{start<j<=t} C_j)`` with ``C`` the cumulative
        sum of ``a`` (Lindley's recursion), so each run between alarms is one cumulative
        minimum. A value within rounding distance of ``h`` is decided by the scalar recursion.
        """
        arr = as_finite_array(xs)
        self._check_fitted()
        if arr.size == 0:
            return np.empty(0, dtype=np.int64)
        y = (arr - self._mu) / self._sd
        a = y - self.k
        b = -y - self.k
        ca = np.cumsum(a)
        cb = np.cumsum(b)
        # |C_t| <= n * max|a_t|: a bound on every partial sum, for the rounding tolerance.
        top = max(abs(float(y.max())), abs(float(y.min()))) + self.k
        tol = 1e-9 * (1.0 + self.h) + 64.0 * _EPS * (arr.size * top + self._hi + self._lo)
        alarms = self._segments(a, b, ca, cb, tol)
        return np.asarray(alarms, dtype=np.int64)

    def _segments(self, a: npt.NDArray[np.float64], b: npt.NDArray[np.float64],
                  ca: npt.NDArray[np.float64], cb: npt.NDArray[np.float64],
                  tol: float) -> list[int]:
        n = a.size
        h = self.h
        alarms: list[int] = []
        start = 0  # first index of the current run; its state (hi0, lo0) is exact
        hi0, lo0 = self._hi, self._lo
        base_a = -hi0  # min(C_{start-1} - S_{start-1}, ...) with C_{-1} = 0
        base_b = -lo0
        pos = 0
        chunk = 1024
        mean_run = 1024.0
        while pos < n:
            if pos == start and mean_run < _SHORT_RUN:
                # Alarms every few values: one closed form per run costs more than the loop.
                end = min(n, pos + _SCALAR_BLOCK)
                found, hi0, lo0 = self._loop_block(a, b, ca, cb, pos, end, hi0, lo0,
                                                   (base_a, base_b), tol)
                alarms.extend(found)
                mean_run = (end - pos) / len(found) if found else float(_SCALAR_BLOCK)
                base_a, base_b = float(ca[end - 1]) - hi0, float(cb[end - 1]) - lo0
                start = pos = end
                chunk = max(128, int(mean_run))
                continue
            end = min(n, pos + chunk)
            seg_a, seg_b = ca[pos:end], cb[pos:end]
            sa = np.minimum.accumulate(seg_a)
            np.minimum(sa, base_a, out=sa)
            last_a = float(sa[-1])
            np.subtract(seg_a, sa, out=sa)
            sb = np.minimum.accumulate(seg_b)
            np.minimum(sb, base_b, out=sb)
            last_b = float(sb[-1])
            np.subtract(seg_b, sb, out=sb)
            over = np.maximum(sa, sb)
            i = int(np.argmax(over > h - tol))
            if not over[i] > h - tol:
                base_a, base_b = last_a, last_b
                pos = end
                chunk = min(chunk * 2, 1 << 16)
                continue
            t = pos + i
            if over[i] > h + tol:
                alarm = True
            else:  # too close to call in closed form: the scalar recursion decides
                alarm, s_hi, s_lo = self._scalar(a, b, start, t, hi0, lo0)
            if alarm:
                alarms.append(t)
                mean_run += 0.25 * (t + 1 - start - mean_run)
                hi0 = lo0 = 0.0
                base_a, base_b = float(ca[t]), float(cb[t])
            else:
                hi0, lo0 = s_hi, s_lo
                base_a, base_b = float(ca[t]) - s_hi, float(cb[t]) - s_lo
            chunk = max(128, int(mean_run))
            start = pos = t + 1
        if start < n:
            self._hi = max(0.0, float(ca[-1]) - base_a)
            self._lo = max(0.0, float(cb[-1]) - base_b)
        else:
            self._hi, self._lo = hi0, lo0
        return alarms

    def _loop_block(self, a: npt.NDArray[np.float64], b: npt.NDArray[np.float64],
                    ca: npt.NDArray[np.float64], cb: npt.NDArray[np.float64], start: int,
                    stop: int, hi: float, lo: float, bases: tuple[float, float],
                    tol: float) -> tuple[list[int], float, float]:
        """The exact recursion over a[start:stop], one-sided where the other side is silent.

        Resets only lower a sum, so each side's sum without resets (a cumulative minimum)
        bounds it from above: a side whose bound stays below ``h`` cannot alarm in the block,
        the alarms are the other side's alone, and the silent side's final value is its
        recursion from the last alarm on.
        """
        h = self.h
        base_a, base_b = bases
        seg_b = cb[start:stop]
        if float((seg_b - np.minimum(np.minimum.accumulate(seg_b), base_b)).max()) <= h - tol:
            found, hi = self._one_side(a, start, stop, hi)
            lo = self._tail(b, (found[-1] + 1) if found else start, stop, 0.0 if found else lo)
            return found, hi, lo
        seg_a = ca[start:stop]
        if float((seg_a - np.minimum(np.minimum.accumulate(seg_a), base_a)).max()) <= h - tol:
            found, lo = self._one_side(b, start, stop, lo)
            hi = self._tail(a, (found[-1] + 1) if found else start, stop, 0.0 if found else hi)
            return found, hi, lo
        return self._scalar_block(a, b, start, stop, hi, lo)

    @staticmethod
    def _tail(steps: npt.NDArray[np.float64], start: int, stop: int, s: float) -> float:
        """A side that cannot alarm: its recursion over steps[start:stop]."""
        for step in steps[start:stop].tolist():
            s = s + step
            if s < 0.0:
                s = 0.0
        return s

    def _one_side(self, steps: npt.NDArray[np.float64], start: int, stop: int,
                  s: float) -> tuple[list[int], float]:
        h = self.h
        found = []
        for i, step in zip(range(start, stop), steps[start:stop].tolist(), strict=True):
            s = s + step
            if s < 0.0:
                s = 0.0
            elif s > h:
                found.append(i)
                s = 0.0
        return found, s

    def _scalar_block(self, a: npt.NDArray[np.float64], b: npt.NDArray[np.float64],
                      start: int, stop: int, hi: float, lo: float) -> tuple[list[int], float,
                                                                           float]:
        """The exact recursion with alarms over a[start:stop]."""
        h = self.h
        found = []
        for i, ai, bi in zip(range(start, stop), a[start:stop].tolist(),
                             b[start:stop].tolist(), strict=True):
            hi = hi + ai
            lo = lo + bi
            if hi < 0.0:
                hi = 0.0
            if lo < 0.0:
                lo = 0.0
            if hi > h or lo > h:
                found.append(i)
                hi = lo = 0.0
        return found, hi, lo

    def _scalar(self, a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], start: int,
                stop: int, hi: float, lo: float) -> tuple[bool, float, float]:
        """The exact recursion over a[start..stop]; alarms before ``stop`` cannot occur."""
        h = self.h
        for ai, bi in zip(a[start:stop + 1].tolist(), b[start:stop + 1].tolist(), strict=True):
            hi = hi + ai
            lo = lo + bi
            if hi < 0.0:
                hi = 0.0
            if lo < 0.0:
                lo = 0.0
        return (hi > h or lo > h), hi, lo
