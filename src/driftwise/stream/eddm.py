"""EDDM, the early drift detection method (Baena-García et al. 2006, ECML-PKDD workshop)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from driftwise.errors import ConfigError
from driftwise.stream._base import StreamDetector, check_int, check_positive
from driftwise.stream.ddm import binary_batch, reject_non_binary

__all__ = ["EDDM"]


class EDDM(StreamDetector):
    """EDDM on a stream of 0 (correct) / 1 (error): watches the distance between errors.

    With ``p'`` and ``s'`` the mean and sd of the distances between consecutive errors,
    the maximum of ``p' + 2 s'`` is tracked; once ``min_errors`` errors were seen, drift is
    signalled when ``(p' + 2 s') / max < beta`` (``warning`` below ``alpha``): errors are
    coming closer together. After an alarm it restarts from scratch. Real values are
    refused: turn them into errors with :func:`driftwise.stream.error_indicator` first.

    Parameters
    ----------
    min_errors : int
        Errors seen before a drift can be signalled (default 30).
    alpha, beta : float
        Warning and drift levels, ``0 < beta <= alpha <= 1`` (defaults 0.95 and 0.9).

    Example
    -------
    >>> det = EDDM()
    >>> det.update_many(([0] * 19 + [1]) * 40 + [0, 1] * 200).tolist()
    [897]
    """

    kind = "eddm"
    _params = ("min_errors", "alpha", "beta")
    _state = ("n", "last_error", "n_errors", "mean", "m2", "max", "warning")

    def __init__(self, min_errors: int = 30, alpha: float = 0.95, beta: float = 0.9) -> None:
        self.min_errors = check_int("min_errors", min_errors, 1)
        self.alpha = check_positive("alpha", alpha)
        self.beta = check_positive("beta", beta)
        if not self.beta <= self.alpha <= 1.0:
            raise ConfigError(f"need 0 < beta <= alpha <= 1, got alpha={alpha!r}, beta={beta!r}")
        self.reset()

    def reset(self) -> None:
        self._n = 0
        self._last_error = 0
        self._n_errors = 0
        self._mean = 0.0
        self._m2 = 0.0
        self._max = -math.inf
        self._warning = False

    @property
    def warning(self) -> bool:
        """Whether the last error put the detector in its warning zone."""
        return bool(self._warning)

    def update_many(self, xs: Iterable[float] | npt.ArrayLike) -> npt.NDArray[np.int64]:
        return super().update_many(binary_batch(xs))

    def update(self, x: float) -> bool:
        if x == 0:
            self._n += 1
            return False
        if x != 1:
            return reject_non_binary(x)
        n = self._n = self._n + 1
        distance = n - self._last_error
        self._last_error = n
        k = self._n_errors = self._n_errors + 1
        delta = distance - self._mean
        self._mean += delta / k
        self._m2 += delta * (distance - self._mean)
        sd = math.sqrt(self._m2 / (k - 1)) if k > 1 else 0.0
        level = self._mean + 2.0 * sd
        if level > self._max:
            self._max = level
            self._warning = False
            return False
        if k < self.min_errors:
            return False
        ratio = level / self._max
        if ratio < self.beta:
            self.reset()
            return True
        self._warning = ratio < self.alpha
        return False
