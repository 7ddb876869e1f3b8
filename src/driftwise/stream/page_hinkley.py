"""Page-Hinkley test for a change in the mean (Page 1954; Mouss et al. 2004, with forgetting)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from driftwise.errors import ConfigError
from driftwise.stream._base import (
    StreamDetector,
    check_int,
    check_positive,
    not_a_number,
    reject_non_finite,
)

__all__ = ["PageHinkley", "calibrate_page_hinkley"]

#: Simulated streams behind :func:`calibrate_page_hinkley`, and how far (in multiples of
#: the target) each is followed: a run longer than 10 ARL0 has probability about e^-10.
_RUNS = 2000
_HORIZON = 10
_MAX_TARGET = 20_000.0


class PageHinkley(StreamDetector):
    """Page-Hinkley: cumulative deviations from the running mean, minus a tolerance ``delta``.

    With ``xbar_t`` the mean of the values so far (including ``x_t``),
    ``U_t = alpha * U_{t-1} + (x_t - xbar_t - delta)`` and
    ``D_t = alpha * D_{t-1} + (x_t - xbar_t + delta)``. An increase is signalled when
    ``U_t - min_{s<=t} U_s > threshold``, a decrease when ``max_{s<=t} D_s - D_t > threshold``,
    once ``min_instances`` values were seen. After an alarm the test restarts from scratch.
    Unlike the CUSUM it needs no reference: the running mean is its reference.

    Parameters
    ----------
    threshold : float
        Detection threshold (lambda; default 50, in the units of ``x``).
    delta : float
        Magnitude of change tolerated (default 0.005).
    alpha : float
        Forgetting factor for the cumulative sums, in (0, 1] (default 1 - 1e-4).
    min_instances : int
        Values seen before an alarm can be raised (default 30).
    mode : {"both", "up", "down"}
        Which direction of change to detect.

    Example
    -------
    >>> det = PageHinkley(threshold=5.0)
    >>> det.update_many([0.0] * 50 + [1.0] * 50).tolist()
    [55]
    """

    kind = "page_hinkley"
    _params = ("threshold", "delta", "alpha", "min_instances", "mode")
    _state = ("n", "mean", "up", "down", "up_min", "down_max")

    def __init__(self, threshold: float = 50.0, delta: float = 0.005,
                 alpha: float = 1 - 0.0001, min_instances: int = 30,
                 mode: str = "both") -> None:
        self.threshold = check_positive("threshold", threshold)
        self.delta = check_positive("delta", delta, allow_zero=True)
        self.alpha = check_positive("alpha", alpha)
        if self.alpha > 1.0:
            raise ConfigError(f"alpha must be in (0, 1], got {alpha!r}")
        self.min_instances = check_int("min_instances", min_instances, 1)
        if mode not in ("both", "up", "down"):
            raise ConfigError(f"mode must be 'both', 'up' or 'down', got {mode!r}")
        self.mode = mode
        self._up_on = mode != "down"
        self._down_on = mode != "up"
        self.reset()

    def reset(self) -> None:
        self._n = 0
        self._mean = 0.0
        self._up = 0.0
        self._down = 0.0
        self._up_min = math.inf
        self._down_max = -math.inf

    def update(self, x: float) -> bool:
        try:  # free unless it raises: a string, None or a complex number is no number
            if x - x != 0.0:
                return reject_non_finite(x)
            n = self._n + 1
            mean = self._mean + (x - self._mean) / n
            dev = x - mean
            up = self.alpha * self._up + dev - self.delta
            down = self.alpha * self._down + dev + self.delta
            up_min = up if up < self._up_min else self._up_min
            down_max = down if down > self._down_max else self._down_max
        except TypeError:
            raise not_a_number(x) from None
        if n >= self.min_instances and (
            (self._up_on and up - up_min > self.threshold)
            or (self._down_on and down_max - down > self.threshold)
        ):
            self.reset()
            return True
        self._n, self._mean, self._up, self._down = n, mean, up, down
        self._up_min, self._down_max = up_min, down_max
        return False


def calibrate_page_hinkley(target_arl0: float, delta: float = 0.005,
                           alpha: float = 1 - 0.0001, min_instances: int = 30,
                           mode: str = "both") -> float:
    """The ``threshold`` giving Page-Hinkley an in-control average run length of
    ``target_arl0`` on a standardised stream (independent values, sd 1; for a stream of sd
    ``s``, multiply the threshold by ``s``).

    Page-Hinkley's statistic has no closed-form run length (its reference is the running
    mean, and ``alpha`` forgets), so it is found by simulation: 2,000 N(0, 1) streams, each
    followed for 10 times the target, with a fixed seed (the answer is reproducible, and
    cached). For each stream the first time its statistic exceeds a threshold is read from
    the records of its running maximum, and the threshold whose mean first-passage time is
    the target is found by bisection. Its sampling error is about 2 % of the target; the
    cost grows with the target (about a second at 1,000), so targets are capped at 20,000.

    For example ``calibrate_page_hinkley(500)`` is 28.6 (tested in
    tests/stream/test_stream_arl.py, where the ARL0 it gives is simulated).
    """
    if isinstance(target_arl0, bool) or not isinstance(target_arl0, (int, float)) or \
            not 1.0 < float(target_arl0) <= _MAX_TARGET:
        raise ConfigError(f"page_hinkley target_arl0 must be a number in (1, "
                          f"{_MAX_TARGET:.0f}], got {target_arl0!r}")
    PageHinkley(delta=delta, alpha=alpha, min_instances=min_instances, mode=mode)  # checks
    return _threshold(float(target_arl0), float(delta), float(alpha), int(min_instances),
                      mode)


@lru_cache(maxsize=64)
def _threshold(target: float, delta: float, alpha: float, min_instances: int,
               mode: str) -> float:
    horizon = int(_HORIZON * target) + min_instances
    times, values = _records(horizon, delta, alpha, min_instances, mode)

    def arl(threshold: float) -> float:
        total = 0
        for t, v in zip(times, values, strict=True):
            i = int(np.searchsorted(v, threshold, side="right"))
            total += int(t[i]) if i < t.size else horizon
        return total / len(times)

    lo, hi = 0.0, 1.0
    while arl(hi) < target:
        lo, hi = hi, hi * 2.0
        if hi > 1e6:
            raise ConfigError(f"page_hinkley: no threshold gives an ARL0 of {target:g} "
                              f"with delta={delta}, alpha={alpha}")
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        if arl(mid) < target:
            lo = mid
        else:
            hi = mid
    return hi


def _records(horizon: int, delta: float, alpha: float, min_instances: int,
             mode: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """For each simulated stream, the times (1-based, the alarm's update) and values at
    which its statistic set a new maximum, from ``min_instances`` on."""
    rng = np.random.default_rng(20071)
    r = _RUNS
    mean = np.zeros(r)
    up = np.zeros(r)
    down = np.zeros(r)
    up_min = np.full(r, np.inf)
    down_max = np.full(r, -np.inf)
    best = np.full(r, -np.inf)
    times: list[list[int]] = [[] for _ in range(r)]
    values: list[list[float]] = [[] for _ in range(r)]
    block = 256
    for start in range(0, horizon, block):
        xs = rng.standard_normal((min(block, horizon - start), r))
        for j, x in enumerate(xs):
            n = start + j + 1
            mean += (x - mean) / n
            dev = x - mean
            up = alpha * up + dev - delta
            down = alpha * down + dev + delta
            np.minimum(up_min, up, out=up_min)
            np.maximum(down_max, down, out=down_max)
            if n < min_instances:
                continue
            stat = up - up_min if mode == "up" else down_max - down if mode == "down" \
                else np.maximum(up - up_min, down_max - down)
            for i in np.flatnonzero(stat > best).tolist():
                times[i].append(n)
                values[i].append(float(stat[i]))
            np.maximum(best, stat, out=best)
    return ([np.asarray(t, dtype=np.int64) for t in times],
            [np.asarray(v, dtype=np.float64) for v in values])
