"""DDM, the drift detection method for error streams (Gama, Medas, Castillo & Rodrigues 2004)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from driftwise.errors import SchemaError
from driftwise.stream._base import (
    StreamDetector,
    as_finite_array,
    check_int,
    check_positive,
    reject_non_finite,
)

__all__ = ["DDM"]


_CONVERSION = (
    "To watch a real value (a per-row loss, a residual, a metric), turn it into errors "
    "first: driftwise.stream.error_indicator(values, above=... and/or below=..., or z=... with "
    "reference=...), or `binarize: {above: ...}` (or below, z) in a Monitor's checks.stream "
    "entry"
)


def reject_non_binary(x: object) -> bool:
    """Raise the error every error-stream detector gives for a value other than 0 or 1."""
    if isinstance(x, (int, float)) and x - x != 0.0:
        return reject_non_finite(x)
    raise SchemaError(
        f"update: error-stream detectors take 0 (correct) or 1 (error), got {x!r}; "
        f"the detector state is unchanged. {_CONVERSION}"
    )


def binary_batch(xs: Iterable[float] | npt.ArrayLike) -> npt.NDArray[np.float64]:
    """A batch for an error-stream detector, checked whole before any value is consumed."""
    arr = as_finite_array(xs)
    bad = (arr != 0.0) & (arr != 1.0)
    if bad.any():
        i = int(np.argmax(bad))
        raise SchemaError(
            f"update_many: error-stream detectors take 0 (correct) or 1 (error), got "
            f"{arr[i]!r} at position {i}; no value of this batch was consumed. {_CONVERSION}"
        )
    return arr


class DDM(StreamDetector):
    """DDM on a stream of 0 (correct prediction) / 1 (error) values.

    Real values (a per-row loss, a residual) are refused: turn them into errors with
    :func:`driftwise.stream.error_indicator` first.

    With ``p_i`` the error rate so far and ``s_i = sqrt(p_i (1 - p_i) / i)``, the minimum
    of ``p_i + s_i`` is tracked once more than ``warm_start`` values were seen; drift is
    signalled when ``p_i + s_i > p_min + drift_threshold * s_min`` (``warning`` is true
    above ``p_min + warning_threshold * s_min``). After an alarm it restarts from scratch.

    Parameters
    ----------
    warm_start : int
        Values seen before the minimum is tracked (default 30).
    warning_threshold, drift_threshold : float
        Multiples of ``s_min`` (defaults 2 and 3).

    Example
    -------
    >>> det = DDM()
    >>> det.update_many([0, 0, 0, 1] * 50 + [1, 1, 0, 1] * 20).tolist()
    [225]
    """

    kind = "ddm"
    _params = ("warm_start", "warning_threshold", "drift_threshold")
    _state = ("n", "errors", "ps_min", "p_min", "s_min", "warning")

    def __init__(self, warm_start: int = 30, warning_threshold: float = 2.0,
                 drift_threshold: float = 3.0) -> None:
        self.warm_start = check_int("warm_start", warm_start, 1)
        self.warning_threshold = check_positive("warning_threshold", warning_threshold)
        self.drift_threshold = check_positive("drift_threshold", drift_threshold)
        self.reset()

    def reset(self) -> None:
        self._n = 0
        self._errors = 0
        self._ps_min = math.inf
        self._p_min = math.inf
        self._s_min = math.inf
        self._warning = False

    @property
    def warning(self) -> bool:
        """Whether the last value put the detector in its warning zone."""
        return bool(self._warning)

    def update_many(self, xs: Iterable[float] | npt.ArrayLike) -> npt.NDArray[np.int64]:
        return super().update_many(binary_batch(xs))

    def update(self, x: float) -> bool:
        if x == 1:
            self._errors += 1
        elif x != 0:
            return reject_non_binary(x)
        n = self._n = self._n + 1
        if n <= self.warm_start:
            return False
        p = self._errors / n
        s = math.sqrt(p * (1.0 - p) / n)
        if p + s <= self._ps_min:
            self._p_min, self._s_min, self._ps_min = p, s, p + s
        if p + s > self._p_min + self.drift_threshold * self._s_min:
            self.reset()
            return True
        self._warning = p + s > self._p_min + self.warning_threshold * self._s_min
        return False
