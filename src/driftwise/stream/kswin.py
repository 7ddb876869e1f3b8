"""KSWIN: Kolmogorov-Smirnov test on a sliding window (Raab, Heusinger & Schleif 2020)."""

from __future__ import annotations

import random
from functools import lru_cache
from typing import Any

import numpy as np

from driftwise.errors import ConfigError
from driftwise.stats import ks_2samp
from driftwise.stream._base import (
    StreamDetector,
    check_int,
    check_positive,
    finite_number,
)

__all__ = ["KSWIN"]


@lru_cache(maxsize=64)
def _critical_count(stat_size: int, alpha: float) -> int:
    """Smallest ``j`` with KS p-value <= alpha for ``D = j / stat_size`` (equal sizes).

    The two-sample KS p-value depends on the samples only through D, so it is computed once
    for each of the ``stat_size`` possible values of D with the same kernel as ``ks_2samp``.
    """
    base = np.arange(stat_size, dtype=np.float64)
    for j in range(1, stat_size + 1):
        p = ks_2samp(base, base + j).p_value
        if p is not None and p <= alpha:
            return j
    return stat_size + 1


class KSWIN(StreamDetector):
    """KSWIN: compares the newest ``stat_size`` values with as many drawn from the older ones.

    Once ``window_size`` values are held, each update draws ``stat_size`` values uniformly
    without replacement from the oldest ``window_size - stat_size`` and runs a two-sample
    KS test against the newest ``stat_size``; drift when its p-value is at most ``alpha``.
    After an alarm the window restarts empty.

    Parameters
    ----------
    alpha : float
        Significance level of each test (default 0.005; tests run at every update, so the
        in-control run length is far below ``1 / alpha``).
    window_size, stat_size : int
        Sliding window length (default 100) and test sample size (default 30).
    seed : int
        Seed of the sampling (its generator state is part of the saved state).

    Example
    -------
    >>> det = KSWIN(seed=1)
    >>> hits = det.update_many([float(i % 7) for i in range(200)] + [50.0] * 40)
    >>> int(hits[0]) in range(200, 240)
    True
    """

    kind = "kswin"
    _params = ("alpha", "window_size", "stat_size", "seed")
    _state = ("window", "rng_state")

    def __init__(self, alpha: float = 0.005, window_size: int = 100, stat_size: int = 30,
                 seed: int = 0) -> None:
        self.alpha = check_positive("alpha", alpha)
        if self.alpha >= 1.0:
            raise ConfigError(f"alpha must be in (0, 1), got {alpha!r}")
        self.stat_size = check_int("stat_size", stat_size, 2)
        self.window_size = check_int("window_size", window_size, 2 * self.stat_size)
        self.seed = check_int("seed", seed, 0)
        self._critical = _critical_count(self.stat_size, self.alpha)
        self._rng = random.Random(self.seed)
        self._window: list[float] = []

    def reset(self) -> None:
        self._window = []

    @property
    def _rng_state(self) -> list[Any]:
        version, internal, gauss = self._rng.getstate()
        return [version, list(internal), gauss]

    @_rng_state.setter
    def _rng_state(self, value: list[Any]) -> None:
        version, internal, gauss = value
        self._rng.setstate((version, tuple(internal), gauss))

    def update(self, x: float) -> bool:
        x = finite_number(x)
        window = self._window
        window.append(x)
        w = self.window_size
        if len(window) < w:
            return False
        if len(window) > w:
            del window[0]
        r = self.stat_size
        old = sorted([window[i] for i in self._rng.sample(range(w - r), r)])
        new = sorted(window[w - r:])
        # KS distance of two equal-size samples, in counts: max |#old <= v - #new <= v|.
        i = j = d = 0
        while i < r and j < r:
            v = old[i] if old[i] < new[j] else new[j]
            while i < r and old[i] == v:
                i += 1
            while j < r and new[j] == v:
                j += 1
            if abs(i - j) > d:
                d = abs(i - j)
        if d >= self._critical:
            self._window = []
            return True
        return False
