"""Shewhart individuals chart: an alarm for any value beyond mean ± L sd (Shewhart 1931)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from driftwise.stream._base import (
    EPISODE_STATE,
    ReferenceStreamDetector,
    check_positive,
    not_a_number,
)

__all__ = ["Shewhart"]


class Shewhart(ReferenceStreamDetector):
    """Alarm when ``|x - mean| > L * std``; memoryless, so its in-control ARL is ``1 / P(|Z| > L)``.

    Parameters
    ----------
    L : float
        Width of the limits in reference sds (default 3: ARL0 ≈ 370 for normal data).
    mean, std : float, optional
        The in-control mean and sd; otherwise learned by :meth:`fit`.
    after_alarm, relearn_n, self_starting, arm_after
        As for :class:`~driftwise.stream.CUSUM`.

    Example
    -------
    >>> Shewhart(L=3.0, mean=10.0, std=2.0, after_alarm="keep").update_many(
    ...     [11.0, 17.5, 3.0, 4.5]).tolist()
    [1, 2]
    """

    kind = "shewhart"
    state_version = 3
    _params = ("L", "mean", "std", "after_alarm", "relearn_n", "self_starting",
               "arm_after")
    _state = ("mu", "sd", *EPISODE_STATE)

    def __init__(self, L: float = 3.0, mean: float | None = None,
                 std: float | None = None, after_alarm: str = "relearn",
                 relearn_n: int = 500, self_starting: bool = False,
                 arm_after: int = 30) -> None:
        super().__init__(mean, std, after_alarm, relearn_n, self_starting, "ignore", arm_after)
        self.L = check_positive("L", L)

    def _chart_reset(self) -> None:
        """Nothing to forget: the chart has no memory."""

    def _chart_step(self, y: float) -> bool:
        return y > self.L or -y > self.L

    def _watch(self, x: float) -> bool:
        try:  # free unless it raises: a string, None or a complex number is no number
            d = x - self._mu
            if d - d != 0.0:
                return self._reject(x)
            limit = self.L * self._sd
            return d > limit or -d > limit
        except TypeError:
            raise not_a_number(x) from None

    def _watch_many(self, arr: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        return np.flatnonzero(np.abs(arr - self._mu) > self.L * self._sd).astype(np.int64)
