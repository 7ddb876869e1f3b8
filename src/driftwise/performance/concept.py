"""Concept drift: has the relation between the inputs and the outcome changed?

Three views, each a plain function on arrays:

* :func:`relation_change`: a feature's relation with the target, reference vs current:
  a chi-square test of independence of (binned) feature and target in each sample, and a
  test of whether the target's distribution *within each feature bin* changed (the sum
  of per-bin chi-square homogeneity statistics, whose degrees of freedom add up);
* :func:`label_shift`: the target's own distribution (prior) changed;
* the model-based view (realized vs estimated performance, loss distributions) is
  assembled by the Monitor from :mod:`driftwise.performance`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from driftwise.stats import chi2_homogeneity

MIN_BIN_ROWS = 5


@dataclass(frozen=True)
class RelationChange:
    """How the feature–target relation looks in each sample, and whether it changed."""

    feature: str
    p_value_reference: float
    p_value_current: float
    cramers_v_reference: float
    cramers_v_current: float
    change_statistic: float
    change_dof: int
    change_p_value: float
    bins_compared: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)


def _independence(table: NDArray[np.float64]) -> tuple[float, float]:
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        return 1.0, 0.0
    res = sps.chi2_contingency(table, correction=False)
    v = np.sqrt(res.statistic / (table.sum() * (min(table.shape) - 1)))
    return float(res.pvalue), float(v)


def _table(bins: NDArray[np.int64], target: NDArray[np.int64], n_bins: int, n_classes: int) -> (
    NDArray[np.float64]
):
    flat = np.bincount(bins * n_classes + target, minlength=n_bins * n_classes)
    return flat.reshape(n_bins, n_classes).astype(np.float64)


def relation_change(
    feature: str,
    bins_reference: NDArray[np.int64], target_reference: NDArray[np.int64],
    bins_current: NDArray[np.int64], target_current: NDArray[np.int64],
    n_bins: int, n_classes: int,
) -> RelationChange:
    """Compare the feature–target relation of two samples (feature already binned).

    Bins with fewer than 5 rows in either sample are left out of the change test.
    """
    ref = _table(bins_reference, target_reference, n_bins, n_classes)
    cur = _table(bins_current, target_current, n_bins, n_classes)
    p_ref, v_ref = _independence(ref)
    p_cur, v_cur = _independence(cur)
    statistic, dof, compared = 0.0, 0, 0
    for b in range(n_bins):
        if ref[b].sum() < MIN_BIN_ROWS or cur[b].sum() < MIN_BIN_ROWS:
            continue
        res = chi2_homogeneity(ref[b], cur[b])
        k = int(np.count_nonzero(ref[b] + cur[b]))
        compared += 1
        if k > 1:
            statistic += res.statistic
            dof += k - 1
    p_change = float(sps.chi2.sf(statistic, dof)) if dof else 1.0
    return RelationChange(feature, p_ref, p_cur, v_ref, v_cur, statistic, dof, p_change,
                          compared)


def label_shift(target_reference: NDArray[np.int64], target_current: NDArray[np.int64],
                n_classes: int) -> dict[str, float]:
    """Change of the target's class mix: chi-square of homogeneity and the class shares."""
    ref = np.bincount(target_reference, minlength=n_classes)
    cur = np.bincount(target_current, minlength=n_classes)
    res = chi2_homogeneity(ref, cur)
    return {"p_value": float(res.p_value or 1.0), "tvd": res.effect,
            "positive_rate_reference": float(ref[-1] / ref.sum()),
            "positive_rate_current": float(cur[-1] / cur.sum())}


def row_losses(y_true: NDArray[np.int64], proba: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per-row log loss (the error distribution of a probabilistic classifier)."""
    eps = float(np.finfo(np.float64).eps)
    if proba.ndim == 1:
        p = np.where(y_true == 1, proba, 1.0 - proba)
    else:
        p = proba[np.arange(y_true.size), y_true]
    losses: NDArray[np.float64] = -np.log(np.clip(p, eps, 1.0))
    return losses


def error_shift(reference: NDArray[np.float64], current: NDArray[np.float64]) -> (
    dict[str, float]
):
    """Has the model's error distribution changed? KS test and the change of the mean."""
    from driftwise.stats import ks_2samp

    res = ks_2samp(reference, current)
    return {"ks_p_value": float(res.p_value if res.p_value is not None else 1.0),
            "mean_change": float(np.mean(current) - np.mean(reference))}
