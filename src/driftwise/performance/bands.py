"""Sampling bands on estimated performance: how far a window's realized metric may fall
from its estimate.

An estimate of a window's performance without labels is uncertain for two reasons.

1. **Sampling.** Even with exactly calibrated probabilities a window's labels are random:
   under CBPE's own assumption each row's label is a draw with its calibrated
   probabilities, so the realized metric scatters around its expectation, the more the
   smaller the window. This spread is simulated: labels are drawn from the calibrated
   probabilities, the metric computed on each draw (a parametric bootstrap of the window
   as it is, its size, class mix and predictions included). For DLE, a row's realized
   loss scatters around its predicted loss; the scatter is the variance of the loss model's
   out-of-fold residuals on the reference, divided by the window's rows.
2. **Estimation.** The calibration map (or the loss model) is learned from a finite
   reference and is itself off by some amount that does not shrink with the window.
   This is measured by cross-fitting on the reference: each fold is estimated by an
   estimator fitted on the other folds and compared with its realized value; the mean
   squared gap beyond what sampling explains is the estimation variance.

The band is ``estimate ± k·σ`` with ``σ² = σ²_sampling + σ²_estimation`` (``k`` = 3 by
default), clipped to the metric's range. It holds while the relation between inputs and
labels is the reference's (covariate shift); under concept drift no label-free estimate
can be trusted, which is what the concept-drift checks are for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from driftwise.performance import metrics as m

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Simulated label draws per window, and the most cells (draws x rows x classes) drawn at
#: once: 200 draws give σ to about 5 %.
DRAWS = 200
MAX_CELLS = 4_000_000
#: Folds of the reference for the estimation term and for the calibration decision.
FOLDS = 5
#: Band half-width in standard deviations.
BAND_SIGMAS = 3.0

#: Each metric's range, for clipping a band.
RANGES: dict[str, tuple[float, float]] = {
    "roc_auc": (0.0, 1.0), "accuracy": (0.0, 1.0), "precision": (0.0, 1.0),
    "recall": (0.0, 1.0), "f1": (0.0, 1.0), "mae": (0.0, np.inf), "rmse": (0.0, np.inf),
    "cost": (0.0, np.inf), "value": (-np.inf, np.inf),
}


@dataclass(frozen=True)
class Band:
    """An estimate's band: ``sigma`` and the clipped ``lower``/``upper`` at ``k`` sigmas."""

    sigma: float
    lower: float
    upper: float

    @classmethod
    def around(cls, metric: str, estimate: float, sigma: float,
               k: float = BAND_SIGMAS) -> Band:
        low, high = RANGES.get(metric, (-np.inf, np.inf))
        return cls(float(sigma), float(max(low, estimate - k * sigma)),
                   float(min(high, estimate + k * sigma)))


def folds(n: int, k: int = FOLDS, seed: int = 0) -> list[IntArray]:
    """``k`` disjoint test index sets covering ``0..n-1`` (seeded shuffle)."""
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(part) for part in np.array_split(order, k)]


def _blocks(draws: int, cells_per_draw: int) -> Iterator[int]:
    step = max(1, MAX_CELLS // max(cells_per_draw, 1))
    for start in range(0, draws, step):
        yield min(step, draws - start)


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def simulate_binary(p: FloatArray, predicted: NDArray[np.bool_], scores: FloatArray | None,
                    metrics: Sequence[str], rng: np.random.Generator, draws: int = DRAWS,
                    value: FloatArray | None = None) -> dict[str, FloatArray]:
    """Each metric's realized value on ``draws`` windows whose labels are drawn from the
    calibrated positive-class probabilities ``p`` (NaN where a draw leaves it undefined).

    ``value``: the 2 x 2 value matrix (rows: true class 0/1, columns: predicted 0/1); its
    mean value per prediction is returned as ``value``."""
    n = p.size
    pred = predicted.astype(np.float64)
    n_pred = float(pred.sum())
    ranks = m._midranks(scores) if scores is not None and "roc_auc" in metrics else None
    out: dict[str, list[FloatArray]] = {name: [] for name in [*metrics, "value"]}
    for size in _blocks(draws, n):
        y = (rng.random((size, n)) < p).astype(np.float64)
        pos = y.sum(axis=1)
        tp = y @ pred
        fp, fn = n_pred - tp, pos - tp
        tn = n - n_pred - fn
        found = {
            "accuracy": (tp + tn) / n,
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, pos),
            "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        }
        if ranks is not None:
            found["roc_auc"] = _ratio(y @ ranks - pos * (pos + 1) / 2.0, pos * (n - pos))
        if value is not None:
            found["value"] = (tn * value[0, 0] + fp * value[0, 1] + fn * value[1, 0]
                              + tp * value[1, 1]) / n
        for name in out:
            if name in found:
                out[name].append(found[name])
    return {name: np.concatenate(parts) for name, parts in out.items() if parts}


def simulate_multiclass(p: FloatArray, y_pred: IntArray, proba: FloatArray,
                        metrics: Sequence[str], rng: np.random.Generator,
                        draws: int = DRAWS, value: FloatArray | None = None) -> (
        dict[str, FloatArray]):
    """:func:`simulate_binary` for ``k`` classes: labels drawn from the rows of the calibrated
    ``p``; macro averages as the realized metrics compute them (an undefined class counts
    0; the ROC AUC is undefined in a draw missing a class)."""
    n, k = p.shape
    cum = np.cumsum(p, axis=1)
    cum[:, -1] = 1.0
    ranks = [m._midranks(proba[:, c]) for c in range(k)] if "roc_auc" in metrics else []
    pred_onehot = np.zeros((n, k))
    pred_onehot[np.arange(n), y_pred] = 1.0
    n_pred = pred_onehot.sum(axis=0)
    out: dict[str, list[FloatArray]] = {name: [] for name in [*metrics, "value"]}
    for size in _blocks(draws, n * k):
        u = rng.random((size, n, 1))
        y = (u > cum[None, :, :]).sum(axis=2)
        y = np.minimum(y, k - 1)
        found: dict[str, FloatArray] = {"accuracy": (y == y_pred[None, :]).mean(axis=1)}
        tp = np.stack([((y == c) & (y_pred[None, :] == c)).sum(axis=1) for c in range(k)],
                      axis=1).astype(np.float64)
        pos = np.stack([(y == c).sum(axis=1) for c in range(k)], axis=1).astype(np.float64)
        fp, fn = n_pred[None, :] - tp, pos - tp
        found["precision"] = np.nan_to_num(_ratio(tp, tp + fp), nan=0.0).mean(axis=1)
        found["recall"] = np.nan_to_num(_ratio(tp, pos), nan=0.0).mean(axis=1)
        found["f1"] = np.nan_to_num(_ratio(2 * tp, 2 * tp + fp + fn), nan=0.0).mean(axis=1)
        if ranks:
            aucs = []
            for c in range(k):
                yc = (y == c).astype(np.float64)
                pc_ = yc.sum(axis=1)
                aucs.append(_ratio(yc @ ranks[c] - pc_ * (pc_ + 1) / 2.0, pc_ * (n - pc_)))
            found["roc_auc"] = np.mean(np.stack(aucs, axis=1), axis=1)  # NaN if one is
        if value is not None:
            found["value"] = value[y, y_pred[None, :]].mean(axis=1)
        for name in out:
            if name in found:
                out[name].append(found[name])
    return {name: np.concatenate(parts) for name, parts in out.items() if parts}


def spread(samples: FloatArray) -> float | None:
    """The standard deviation of the defined draws (``None`` with fewer than 10)."""
    defined = samples[np.isfinite(samples)]
    return float(np.std(defined, ddof=1)) if defined.size >= 10 else None


def estimation_variance(gaps: Sequence[float], sampling: Sequence[float]) -> float:
    """The variance of an estimator's own error, from cross-fitted folds: the mean squared
    gap between realized and estimated beyond the sampling variance, floored at 0."""
    if not gaps:
        return 0.0
    g = np.asarray(gaps, dtype=np.float64)
    s = np.asarray(sampling, dtype=np.float64)
    return max(0.0, float(np.mean(g**2) - np.mean(s)))


def realized_binary(metric: str, y_true: IntArray, y_pred: IntArray,
                    scores: FloatArray) -> float:
    """The realized value of a CBPE metric (binary), as :mod:`performance.metrics` defines it."""
    fn: dict[str, Callable[[], float]] = {
        "accuracy": lambda: m.accuracy(y_true, y_pred),
        "precision": lambda: m.precision(y_true, y_pred),
        "recall": lambda: m.recall(y_true, y_pred),
        "f1": lambda: m.f1(y_true, y_pred),
        "roc_auc": lambda: m.roc_auc(y_true, scores),
    }
    return fn[metric]()


def realized_multiclass(metric: str, y_true: IntArray, y_pred: IntArray,
                        proba: FloatArray) -> float:
    """The realized value of a CBPE metric (multiclass macro averages)."""
    if metric == "accuracy":
        return m.accuracy(y_true, y_pred)
    if metric == "roc_auc":
        return m.roc_auc_ovr(y_true, proba)
    return m.macro(metric, y_true, y_pred, proba.shape[1])


def value_per_prediction(matrix: FloatArray, y_true: IntArray, y_pred: IntArray) -> float:
    """The mean value of a prediction: ``matrix[true, predicted]`` averaged over rows."""
    return float(np.mean(matrix[y_true, y_pred]))
