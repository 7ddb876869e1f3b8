"""Two-sided CUSUM on a standardised statistic (Page 1954; tabular form of Montgomery, ch. 9)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from driftwise.stream._base import (
    EPISODE_STATE,
    ReferenceStreamDetector,
    check_positive,
    not_a_number,
)

__all__ = ["CUSUM"]

_EPS = float(np.finfo(np.float64).eps)
_SHORT_RUN = 96  # mean run length below which update_many loops instead
_SCALAR_BLOCK = 4096
_BLOCK = 1 << 16


class _Run:
    """The open run of update_many: where it started, its exact state there, its baselines."""

    __slots__ = ("base_a", "base_b", "chunk", "end_hi", "end_lo", "hi0", "lo0", "mean_run",
                 "start")

    def __init__(self, hi: float, lo: float) -> None:
        self.start = 0
        self.hi0, self.lo0 = hi, lo
        self.base_a, self.base_b = -hi, -lo  # min(C_{start-1} - S_{start-1}, ...), C_{-1} = 0
        self.end_hi, self.end_lo = hi, lo
        self.mean_run = 1024.0
        self.chunk = 1024


class CUSUM(ReferenceStreamDetector):
    """Two-sided tabular CUSUM of ``z = (x - mean) / std``.

    ``S+ = max(0, S+ + z - k)`` and ``S- = max(0, S- - z - k)``; an alarm is raised when
    either exceeds ``h``, after which both restart at 0 and the chart does what
    ``after_alarm`` says (re-learn the level by default; see
    :class:`~driftwise.stream.ReferenceStreamDetector`). ``k`` is half the shift (in
    reference sds) the chart is tuned for; choose ``h`` for a target in-control average run
    length with :func:`driftwise.stream.calibrate_cusum`.

    Parameters
    ----------
    h : float
        Decision threshold, in reference sds (default 5).
    k : float
        Reference value (allowance), in reference sds (default 0.5: tuned for a 1-sd shift).
    mean, std : float, optional
        The in-control mean and sd; otherwise learned by :meth:`fit` (or, with
        ``self_starting``, from the stream).
    after_alarm : {"relearn", "hold", "keep"}
        After an alarm: re-learn the level from the next ``relearn_n`` values (default),
        hold the alarm until :meth:`reset`, or keep the reference.
    relearn_n : int
        Values the level is re-learned from (default 500).
    self_starting : bool
        Start without a reference, learning it from the first ``relearn_n`` values.
    autocorrelation : {"auto", "ignore"}
        ``"auto"`` (default): a reference learned from serially correlated values
        standardises by their AR(1) long-run sd (see
        :class:`~driftwise.stream.ReferenceStreamDetector`); ``"ignore"``: by their sd.
    arm_after : int
        While learning, the chart is armed once this many values were learned (default 30).

    Example
    -------
    >>> det = CUSUM(h=5.0, k=0.5, mean=0.0, std=1.0)
    >>> det.update_many([0.1, -0.2, 0.3] + [2.0] * 10).tolist()
    [6]
    >>> CUSUM(h=5.0, k=0.5, mean=0.0, std=1.0, after_alarm="keep").update_many(
    ...     [0.1, -0.2, 0.3] + [2.0] * 10).tolist()
    [6, 10]
    """

    kind = "cusum"
    state_version = 3
    _params = ("h", "k", "mean", "std", "after_alarm", "relearn_n", "self_starting",
               "autocorrelation", "arm_after")
    _accumulates = True
    _state = ("mu", "sd", "hi", "lo", *EPISODE_STATE)

    def __init__(self, h: float = 5.0, k: float = 0.5, mean: float | None = None,
                 std: float | None = None, after_alarm: str = "relearn",
                 relearn_n: int = 500, self_starting: bool = False,
                 autocorrelation: str = "auto", arm_after: int = 30) -> None:
        super().__init__(mean, std, after_alarm, relearn_n, self_starting, autocorrelation,
                         arm_after)
        self.h = check_positive("h", h)
        self.k = check_positive("k", k, allow_zero=True)
        self._hi = 0.0
        self._lo = 0.0

    def _chart_reset(self) -> None:
        self._hi = 0.0
        self._lo = 0.0

    def _chart_step(self, y: float) -> bool:
        hi = self._hi + (y - self.k)
        lo = self._lo + (-y - self.k)
        hi = hi if hi > 0.0 else 0.0
        lo = lo if lo > 0.0 else 0.0
        if hi > self.h or lo > self.h:
            self._hi = self._lo = 0.0
            return True
        self._hi, self._lo = hi, lo
        return False

    @property
    def statistics(self) -> tuple[float, float]:
        """The current (S+, S-)."""
        return self._hi, self._lo

    def _watch(self, x: float) -> bool:
        try:  # free unless it raises: a string, None or a complex number is no number
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
        except TypeError:
            raise not_a_number(x) from None
        if hi > self.h or lo > self.h:
            self._hi = self._lo = 0.0
            return True
        self._hi = hi
        self._lo = lo
        return False

    def _watch_many(self, arr: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Vectorised :meth:`_watch` over a batch: the same alarms, 0-based positions.

        Between alarms the recursion ``S_t = max(0, S_{t-1} + a_t)`` has the closed form
        ``S_t = C_t - min(C_start - S_start, min_{start<j<=t} C_j)`` with ``C`` the cumulative
        sum of ``a`` (Lindley's recursion), so each run between alarms is one cumulative
        minimum. A value within rounding distance of ``h`` is decided by the scalar recursion.
        """
        n = arr.size
        if n == 0:
            return np.empty(0, dtype=np.int64)
        # Bound on every step |a_t| and so on the partial sums of a block, for the tolerance.
        top = max(abs(float(arr.max()) - self._mu), abs(float(arr.min()) - self._mu)) / self._sd
        scale = min(n, _BLOCK) * (top + self.k) + self.h + self._hi + self._lo
        tol = 1e-9 * (1.0 + self.h) + 64.0 * _EPS * scale
        run = _Run(self._hi, self._lo)
        alarms: list[int] = []
        # Blocks keep the temporaries small (in cache, no fresh pages for each call).
        for off in range(0, n, _BLOCK):
            a, b = self._steps(arr[off:off + _BLOCK])
            self._block(arr, off, a, b, tol, run, alarms)
        self._hi, self._lo = run.end_hi, run.end_lo
        return np.asarray(alarms, dtype=np.int64)

    def _steps(self, x: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64],
                                                          npt.NDArray[np.float64]]:
        """``z - k`` and ``-z - k``, with the same operations as :meth:`update`."""
        y = x - self._mu
        y /= self._sd
        a = y - self.k
        np.negative(y, out=y)
        y -= self.k
        return a, y

    def _block(self, arr: npt.NDArray[np.float64], off: int, a: npt.NDArray[np.float64],
               b: npt.NDArray[np.float64], tol: float, run: _Run, alarms: list[int]) -> None:
        """Alarms of one block; ``run`` carries the open run across blocks.

        Cumulative sums restart at 0 in each block; the run's baselines are moved into the
        block's frame at its end.
        """
        ca = np.cumsum(a)
        cb = np.cumsum(b)
        n = a.size
        h = self.h
        pos = 0
        while pos < n:
            if off + pos == run.start and run.mean_run < _SHORT_RUN:
                # Alarms every few values: one closed form per run costs more than the loop.
                end = min(n, pos + _SCALAR_BLOCK)
                found, run.hi0, run.lo0 = self._loop_block(
                    a, b, ca, cb, pos, end, run.hi0, run.lo0, (run.base_a, run.base_b), tol)
                alarms.extend([off + i for i in found])
                run.mean_run = (end - pos) / len(found) if found else float(_SCALAR_BLOCK)
                run.base_a = float(ca[end - 1]) - run.hi0
                run.base_b = float(cb[end - 1]) - run.lo0
                run.start = off + end
                run.chunk = max(128, int(run.mean_run))
                pos = end
                continue
            end = min(n, pos + run.chunk)
            seg_a, seg_b = ca[pos:end], cb[pos:end]
            sa = np.minimum.accumulate(seg_a)
            np.minimum(sa, run.base_a, out=sa)
            last_a = float(sa[-1])
            np.subtract(seg_a, sa, out=sa)
            sb = np.minimum.accumulate(seg_b)
            np.minimum(sb, run.base_b, out=sb)
            last_b = float(sb[-1])
            np.subtract(seg_b, sb, out=sb)
            over = np.maximum(sa, sb)
            i = int(np.argmax(over > h - tol))
            if not over[i] > h - tol:
                run.base_a, run.base_b = last_a, last_b
                pos = end
                run.chunk = min(run.chunk * 2, _BLOCK)
                continue
            t = pos + i
            if over[i] > h + tol:
                alarm = True
            else:  # too close to call in closed form: the scalar recursion decides
                alarm, s_hi, s_lo = self._scalar(arr, run.start, off + t, run.hi0, run.lo0)
            if alarm:
                alarms.append(off + t)
                run.mean_run += 0.25 * (off + t + 1 - run.start - run.mean_run)
                run.hi0 = run.lo0 = 0.0
                run.base_a, run.base_b = float(ca[t]), float(cb[t])
            else:
                run.hi0, run.lo0 = s_hi, s_lo
                run.base_a, run.base_b = float(ca[t]) - s_hi, float(cb[t]) - s_lo
            run.chunk = max(128, int(run.mean_run))
            run.start = off + t + 1
            pos = t + 1
        last_a, last_b = float(ca[-1]), float(cb[-1])
        if run.start < off + n:  # an open run: its sums in closed form
            run.end_hi = max(0.0, last_a - run.base_a)
            run.end_lo = max(0.0, last_b - run.base_b)
        else:
            run.end_hi, run.end_lo = run.hi0, run.lo0
        run.base_a -= last_a
        run.base_b -= last_b

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

    def _scalar(self, arr: npt.NDArray[np.float64], start: int, stop: int, hi: float,
                lo: float) -> tuple[bool, float, float]:
        """The exact recursion over arr[start..stop]; alarms before ``stop`` cannot occur."""
        a, b = self._steps(arr[start:stop + 1])
        hi = self._tail(a, 0, a.size, hi)  # the two sides are independent until an alarm
        lo = self._tail(b, 0, b.size, lo)
        return (hi > self.h or lo > self.h), hi, lo
