"""Unusual confidence: predictions whose margin is improbably low against the reference's,
and a fall of the confidence distribution from one window to the reference.

The margin of a prediction is its top-1 probability minus its top-2 (for a binary model
``|2 p - 1|``). Inputs that an attacker pushed to the decision boundary, and inputs the model
has never seen, both get small margins; a window whose confidence fell (the "sudden 15 %
drop in average prediction confidence") is a population the model is unsure about.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from driftwise.errors import ConfigError, InsufficientDataError, NotFittedError, SchemaError

__all__ = ["ConfidenceMonitor", "ConfidenceShift", "margins"]

MIN_REFERENCE = 50


def margins(probabilities: Any, what: str = "probabilities") -> NDArray[np.float64]:
    """Top-1 minus top-2 probability per row.

    ``probabilities`` is a 1-D array of positive-class probabilities (binary: the margin is
    ``|2 p - 1|``) or an (n, classes) array of class probabilities.

    Raises
    ------
    SchemaError
        Not numeric, not finite, outside [0, 1], or rows of a 2-D array that do not sum to 1
        (within 1e-6).
    """
    try:
        p = np.asarray(probabilities, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{what}: expected probabilities, got values that are not numbers "
                          f"({exc})") from None
    if p.ndim not in (1, 2) or p.size == 0:
        raise SchemaError(f"{what}: expected a 1-D array of positive-class probabilities or "
                          f"an (n, classes) array, got shape {p.shape}")
    bad = ~np.isfinite(p) | (p < 0.0) | (p > 1.0)
    if bad.any():
        row = int(np.flatnonzero(bad.reshape(p.shape[0], -1).any(axis=1))[0])
        raise SchemaError(f"{what}: row {row} holds a value outside [0, 1] or not finite")
    if p.ndim == 1:
        return np.asarray(np.abs(2.0 * p - 1.0), dtype=np.float64)
    if p.shape[1] < 2:
        raise SchemaError(f"{what}: an (n, classes) array needs at least 2 classes")
    off = np.abs(p.sum(axis=1) - 1.0) > 1e-6
    if off.any():
        raise SchemaError(f"{what}: row {int(np.flatnonzero(off)[0])} does not sum to 1 "
                          "(give class probabilities, e.g. predict_proba's)")
    top2 = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return np.asarray(top2[:, 1] - top2[:, 0], dtype=np.float64)


@dataclass(frozen=True)
class ConfidenceShift:
    """One window's confidence against the reference's.

    ``statistic``/``p_value``: the one-sided Mann-Whitney U test that the window's margins
    are stochastically smaller than the reference's (SciPy's ``mannwhitneyu``,
    ``alternative="less"``). ``relative_change``: the window's mean margin over the
    reference's, minus 1 (-0.15: a 15 % drop). ``drift_detected``: the p-value is below
    ``alpha`` and the drop at least ``min_drop``.
    """

    rows: int
    reference_mean: float
    current_mean: float
    relative_change: float
    statistic: float
    p_value: float
    alpha: float
    min_drop: float
    low_margin_share: float
    drift_detected: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ConfidenceMonitor:
    """Calibrated low-margin p-values per prediction, and per-window confidence shifts.

    Parameters
    ----------
    alpha : float
        Level of the window test (default 0.01).
    min_drop : float
        Smallest relative fall of the mean margin a window must show to be called a shift
        (default 0.05): with thousands of predictions per window a harmless 1 % dip is
        significant, and a monitor that reports it is switched off.
    low_level : float
        The per-prediction level whose share ``low_margin_share`` reports (default 0.01).

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> mon = ConfidenceMonitor().fit(rng.beta(8, 2, 5000))
    >>> bool(mon.p_values(np.array([0.5]))[0] < 0.01)  # a coin-flip prediction
    True
    """

    def __init__(self, alpha: float = 0.01, min_drop: float = 0.05,
                 low_level: float = 0.01) -> None:
        self.alpha = alpha
        self.min_drop = min_drop
        self.low_level = low_level

    def fit(self, probabilities: Any) -> ConfidenceMonitor:
        """Learn the reference margins (from positive-class or class probabilities)."""
        for name, value in (("alpha", self.alpha), ("low_level", self.low_level)):
            if not 0.0 < value < 1.0:
                raise ConfigError(f"{name} must be in (0, 1), got {value!r}")
        if not 0.0 <= self.min_drop < 1.0:
            raise ConfigError(f"min_drop must be in [0, 1), got {self.min_drop!r}")
        m = margins(probabilities, "reference probabilities")
        if m.size < MIN_REFERENCE:
            raise InsufficientDataError(f"confidence: need at least {MIN_REFERENCE} reference "
                                        f"predictions, got {m.size}")
        self.reference_margins_ = np.sort(m)
        self.reference_mean_ = float(m.mean())
        return self

    def _reference(self) -> NDArray[np.float64]:
        ref: NDArray[np.float64] | None = getattr(self, "reference_margins_", None)
        if ref is None:
            raise NotFittedError("this ConfidenceMonitor is not fitted: call fit first")
        return ref

    def p_values_of_margins(self, m: NDArray[np.float64]) -> NDArray[np.float64]:
        """Lower-tail conformal p-values: (1 + #{reference margins <= m}) / (n + 1)."""
        ref = self._reference()
        at_most = np.searchsorted(ref, m, side="right")
        return np.asarray((1.0 + at_most) / (ref.size + 1.0), dtype=np.float64)

    def p_values(self, probabilities: Any) -> NDArray[np.float64]:
        """Per prediction, how improbably low its margin is (small = unusually unsure)."""
        return self.p_values_of_margins(margins(probabilities))

    def compare(self, probabilities: Any) -> ConfidenceShift:
        """Has this window's confidence fallen from the reference's?"""
        ref = self._reference()
        m = margins(probabilities)
        test = stats.mannwhitneyu(m, ref, alternative="less")
        current = float(m.mean())
        change = current / self.reference_mean_ - 1.0 if self.reference_mean_ > 0 else 0.0
        low = float(np.mean(self.p_values_of_margins(m) <= self.low_level))
        detected = bool(test.pvalue < self.alpha and -change >= self.min_drop)
        return ConfidenceShift(int(m.size), self.reference_mean_, current, change,
                               float(test.statistic), float(test.pvalue), self.alpha,
                               self.min_drop, low, detected)
