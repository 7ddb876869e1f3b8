"""Multiple-testing corrections: many columns mean many tests."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

CORRECTIONS = ("bonferroni", "fdr", "none")


def bonferroni(p_values: ArrayLike) -> NDArray[np.float64]:
    """Bonferroni-adjusted p-values: ``min(m p, 1)``; controls the family-wise error rate."""
    p = np.asarray(p_values, dtype=np.float64)
    return np.minimum(p * p.size, 1.0)


def benjamini_hochberg(p_values: ArrayLike) -> NDArray[np.float64]:
    """Benjamini–Hochberg adjusted p-values (step-up); controls the false discovery rate.

    Benjamini & Hochberg (1995), JRSS B 57(1). The adjusted value of the i-th smallest
    p is ``min_{j >= i} m p_(j) / j``, capped at 1.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(adjusted_sorted, 1.0)
    return adjusted


def adjust(p_values: ArrayLike, method: str) -> NDArray[np.float64]:
    """Adjust ``p_values`` with ``method``: ``"bonferroni"``, ``"fdr"`` (BH) or ``"none"``."""
    if method == "bonferroni":
        return bonferroni(p_values)
    if method == "fdr":
        return benjamini_hochberg(p_values)
    if method == "none":
        return np.asarray(p_values, dtype=np.float64).copy()
    raise ValueError(f"unknown correction {method!r}; choose one of {', '.join(CORRECTIONS)}")
