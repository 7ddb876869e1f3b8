"""Isotonic calibration of predicted probabilities (pool-adjacent-violators)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def _pava(y: FloatArray, w: FloatArray) -> FloatArray:
    """Weighted least-squares non-decreasing fit of ``y`` (already ordered by x)."""
    values: list[float] = []
    weights: list[float] = []
    sizes: list[int] = []
    for yi, wi in zip(y.tolist(), w.tolist(), strict=True):
        values.append(yi)
        weights.append(wi)
        sizes.append(1)
        # Merge backwards while the last two blocks violate monotonicity.
        while len(values) > 1 and values[-2] > values[-1]:
            w_sum = weights[-2] + weights[-1]
            merged = (values[-2] * weights[-2] + values[-1] * weights[-1]) / w_sum
            values[-2:] = [merged]
            weights[-2:] = [w_sum]
            sizes[-2:] = [sizes[-2] + sizes[-1]]
    return np.repeat(np.asarray(values), sizes)


class IsotonicCalibrator:
    """Maps a score to the observed positive rate, monotonically (Zadrozny & Elkan 2002).

    Between the distinct reference scores the map is linear; outside their range it is
    clipped to the end values.

    Examples
    --------
    >>> cal = IsotonicCalibrator().fit([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1])
    >>> cal.predict([0.1, 0.25, 0.4]).round(2).tolist()
    [0.0, 0.5, 1.0]
    """

    def fit(self, scores: NDArray[np.float64] | list[float],
            outcomes: NDArray[np.float64] | list[float]) -> IsotonicCalibrator:
        """Learn the map from reference ``scores`` and 0/1 ``outcomes``."""
        s = np.asarray(scores, dtype=np.float64)
        o = np.asarray(outcomes, dtype=np.float64)
        order = np.argsort(s, kind="mergesort")
        s, o = s[order], o[order]
        # Tied scores are one point with the mean outcome and their count as weight.
        uniq, first, counts = np.unique(s, return_index=True, return_counts=True)
        sums = np.add.reduceat(o, first)
        self.x_ = uniq
        self.y_ = _pava(sums / counts, counts.astype(np.float64))
        return self

    def predict(self, scores: NDArray[np.float64] | list[float]) -> FloatArray:
        """Calibrated probabilities of ``scores``."""
        result: FloatArray = np.interp(np.asarray(scores, dtype=np.float64), self.x_, self.y_)
        return result
