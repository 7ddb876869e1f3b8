"""Realized performance of one window: metric values with bootstrap confidence intervals."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftwise.performance import metrics as m

TASKS = ("binary", "multiclass", "regression")
BINARY_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss",
                  "brier", "ece")
MULTICLASS_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "brier",
                      "ece")
REGRESSION_METRICS = ("mae", "rmse", "mape", "r2")
DEFAULT_METRICS = {"binary": BINARY_METRICS, "multiclass": MULTICLASS_METRICS,
                   "regression": REGRESSION_METRICS}
NEEDS_PROBA = frozenset({"roc_auc", "pr_auc", "log_loss", "brier", "ece"})


@dataclass(frozen=True)
class MetricResult:
    """A metric on one window: value and percentile-bootstrap interval, or why it is missing."""

    value: float | None
    lower: float | None = None
    upper: float | None = None
    n: int = 0
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)


Arrays = tuple[NDArray[Any], NDArray[Any], NDArray[Any] | None]


def _metric_fn(task: str, name: str, n_classes: int) -> Callable[[Arrays], float]:
    if task == "regression":
        reg = {"mae": m.mae, "rmse": m.rmse, "mape": m.mape, "r2": m.r2}[name]
        return lambda a: reg(a[0], a[1])
    if name == "accuracy":
        return lambda a: m.accuracy(a[0], a[1])
    if name in ("precision", "recall", "f1"):
        if task == "binary":
            single = {"precision": m.precision, "recall": m.recall, "f1": m.f1}[name]
            return lambda a: single(a[0], a[1])
        return lambda a: m.macro(name, a[0], a[1], n_classes)
    proba_fn: Callable[[NDArray[Any], NDArray[Any]], float] = {
        "roc_auc": m.roc_auc if task == "binary" else m.roc_auc_ovr,
        "pr_auc": m.average_precision, "log_loss": m.log_loss, "brier": m.brier,
        "ece": m.expected_calibration_error,
    }[name]

    def with_proba(a: Arrays) -> float:
        assert a[2] is not None
        return proba_fn(a[0], a[2])

    return with_proba


def _bootstrap(fn: Callable[[Arrays], float], arrays: Arrays, n_boot: int, level: float,
               seed: int) -> tuple[float | None, float | None]:
    n = arrays[0].shape[0]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        sample: Arrays = (arrays[0][idx], arrays[1][idx],
                          None if arrays[2] is None else arrays[2][idx])
        try:
            values.append(fn(sample))
        except m.UndefinedMetric:
            continue
    if len(values) < n_boot // 2:
        return None, None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def realized_metrics(
    task: str,
    y_true: NDArray[Any],
    y_pred: NDArray[Any],
    proba: NDArray[Any] | None = None,
    *,
    metrics: Sequence[str] | None = None,
    n_classes: int = 2,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, MetricResult]:
    """Compute each metric on one window, with a percentile bootstrap interval.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}
    y_true, y_pred : arrays
        Labels encoded as ``0..n_classes-1`` (classification) or floats (regression).
    proba : array, optional
        Positive-class probability (binary, 1-D) or class-probability matrix.
    metrics : names, optional
        Defaults to every metric of the task; probability metrics need ``proba``.
    n_boot : int
        Bootstrap resamples (0 for no interval); the seed makes intervals reproducible.
    """
    names = tuple(metrics) if metrics is not None else DEFAULT_METRICS[task]
    arrays: Arrays = (y_true, y_pred, proba)
    out: dict[str, MetricResult] = {}
    for name in names:
        if name in NEEDS_PROBA and proba is None:
            out[name] = MetricResult(None, n=y_true.size, reason=f"{name}: needs predicted "
                                     "probabilities; none configured")
            continue
        fn = _metric_fn(task, name, n_classes)
        try:
            value = fn(arrays)
        except m.UndefinedMetric as exc:
            out[name] = MetricResult(None, n=y_true.size, reason=str(exc))
            continue
        low, high = _bootstrap(fn, arrays, n_boot, level, seed) if n_boot else (None, None)
        out[name] = MetricResult(value, low, high, y_true.size)
    return out
