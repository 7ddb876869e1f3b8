"""The harm a scenario does: the relative loss of the model's metric on the changed rows."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftwise.data.columns import category_label
from driftwise.errors import ConfigError

#: The harm metrics per task; the first is the default.
HARM_METRICS = {"binary": ("roc_auc", "accuracy", "f1", "log_loss"),
                "multiclass": ("accuracy", "log_loss"),
                "regression": ("mae", "rmse")}
_LOWER = frozenset({"log_loss", "mae", "rmse"})


def check_metric(metric: str | None, task: str) -> str:
    """``metric``, or the task's default, checked against :data:`HARM_METRICS`."""
    known = HARM_METRICS[task]
    if metric is None:
        return known[0]
    if metric not in known:
        raise ConfigError(f"--metric: {metric!r} is not a harm metric of a {task} model; "
                          f"known: {', '.join(known)}")
    return metric


def metric_value(metric: str, truth: NDArray[Any], scores: NDArray[np.float64],
                 classes: Sequence[Any] | None, positive: str | None) -> float | None:
    """The metric of the model's ``scores`` (probabilities, or predictions for regression)
    against ``truth`` (labels, or numbers); None where it is undefined (one class only)."""
    from sklearn import metrics

    if classes is None:
        y = truth.astype(np.float64)
        err = scores.reshape(-1) - y
        return float(np.mean(np.abs(err))) if metric == "mae" else \
            float(math.sqrt(np.mean(err ** 2)))
    labels = [category_label(c) for c in classes]
    predicted = np.asarray(labels, dtype=object)[scores.argmax(axis=1)]
    if metric == "accuracy":
        return float(np.mean(predicted == truth))
    if metric == "log_loss":
        index = {k: i for i, k in enumerate(labels)}
        known = np.array([t in index for t in truth])
        if not known.any():
            return None
        rows = np.flatnonzero(known)
        picked = scores[rows, [index[t] for t in truth[rows]]]
        return float(-np.mean(np.log(np.clip(picked, 1e-15, 1.0))))
    pos = labels.index(positive) if positive in labels else len(labels) - 1
    y = truth == labels[pos]
    if metric == "f1":
        return float(metrics.f1_score(y, predicted == labels[pos], zero_division=0.0))
    if y.all() or not y.any():
        return None
    return float(metrics.roc_auc_score(y, scores[:, pos]))


def relative_loss(metric: str, clean: float | None, changed: float | None) -> float | None:
    """How much worse ``changed`` is than ``clean``, relative to ``clean`` (0: no harm;
    positive: worse; a lower-is-better metric's rise counts as a loss)."""
    if clean is None or changed is None or clean == 0.0:
        return None
    loss = (changed - clean) if metric in _LOWER else (clean - changed)
    return float(loss / abs(clean))
