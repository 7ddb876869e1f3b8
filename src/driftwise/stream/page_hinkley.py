"""Page-Hinkley test for a change in the mean (Page 1954; Mouss et al. 2004, with forgetting)."""

from __future__ import annotations

import math

from driftwise.errors import ConfigError
from driftwise.stream._base import (
    StreamDetector,
    check_int,
    check_positive,
    not_a_number,
    reject_non_finite,
)

__all__ = ["PageHinkley"]


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
