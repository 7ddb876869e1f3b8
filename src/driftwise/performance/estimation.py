"""Performance without labels: confidence-based performance estimation (CBPE).

On the reference (labelled) data the model's scores are calibrated with isotonic
regression, so that a calibrated probability p_i is the chance that row i is positive.
On an unlabelled window, each confusion-matrix cell is then an expectation: for a row
predicted positive, it is a true positive with probability p_i and a false positive
with probability 1 − p_i, and so on. Metrics follow from the expected cells; the ROC
AUC from the expected true- and false-positive rates at every score threshold. (The
method of NannyML's CBPE, described in its documentation "Estimating Performance for
Binary Classification" and "How it works: CBPE".)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from driftwise.performance.calibration import IsotonicCalibrator
from driftwise.performance.metrics import UndefinedMetric

FloatArray = NDArray[np.float64]
CBPE_METRICS = ("roc_auc", "accuracy", "precision", "recall", "f1")


def _binary_expected(p: FloatArray, y_pred: NDArray[np.int64], positive: NDArray[np.bool_]
                     | None = None) -> dict[str, float]:
    predicted = y_pred == 1 if positive is None else positive
    tp = float(np.sum(p[predicted]))
    fp = float(np.sum(1.0 - p[predicted]))
    fn = float(np.sum(p[~predicted]))
    tn = float(np.sum(1.0 - p[~predicted]))
    out = {"accuracy": (tp + tn) / p.size}
    out["precision"] = tp / (tp + fp) if tp + fp > 0 else float("nan")
    out["recall"] = tp / (tp + fn) if tp + fn > 0 else float("nan")
    out["f1"] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else float("nan")
    return out


def expected_roc_auc(scores: FloatArray, p: FloatArray) -> float:
    """ROC AUC from expected TPR/FPR at every distinct score threshold (trapezoid rule)."""
    total_pos = float(p.sum())
    total_neg = float((1.0 - p).sum())
    if total_pos <= 0 or total_neg <= 0:
        raise UndefinedMetric("roc_auc: calibrated probabilities are all 0 or all 1")
    order = np.argsort(-scores, kind="mergesort")
    s = scores[order]
    last_of_group = np.append(s[1:] != s[:-1], True)
    tpr = np.concatenate([[0.0], np.cumsum(p[order])[last_of_group] / total_pos])
    fpr = np.concatenate([[0.0], np.cumsum(1.0 - p[order])[last_of_group] / total_neg])
    return float(np.trapezoid(tpr, fpr))


class CBPE:
    """Confidence-based performance estimation for binary and multiclass classifiers.

    Parameters
    ----------
    metrics : names
        Among ``roc_auc``, ``accuracy``, ``precision``, ``recall``, ``f1`` (multiclass:
        macro averages, one-vs-rest calibration).
    calibrate : bool
        Calibrate the scores on the reference with isotonic regression (default). Turn
        it off only for scores known to be calibrated.
    """

    def __init__(self, metrics: Sequence[str] = CBPE_METRICS, *, calibrate: bool = True) -> None:
        self.metrics = metrics
        self.calibrate = calibrate

    def fit(self, y_true: NDArray[np.int64], proba: FloatArray) -> CBPE:
        """Learn the calibration from labelled reference data.

        ``proba`` is the positive-class probability (binary) or the class matrix.
        """
        unknown = set(self.metrics) - set(CBPE_METRICS)
        if unknown:
            raise ValueError(f"CBPE cannot estimate {sorted(unknown)}; choose from "
                             f"{', '.join(CBPE_METRICS)}")
        self.n_classes_ = 2 if proba.ndim == 1 else proba.shape[1]
        columns = [proba] if proba.ndim == 1 else [proba[:, k] for k in range(self.n_classes_)]
        positives = [y_true == 1] if proba.ndim == 1 else [y_true == k
                                                           for k in range(self.n_classes_)]
        self.calibrators_ = [
            IsotonicCalibrator().fit(col, pos.astype(np.float64)) if self.calibrate else None
            for col, pos in zip(columns, positives, strict=True)
        ]
        return self

    def calibrated(self, proba: FloatArray) -> FloatArray:
        """Calibrated probabilities (rows renormalised to 1 for multiclass)."""
        if proba.ndim == 1:
            cal = self.calibrators_[0]
            return proba if cal is None else cal.predict(proba)
        cols = [proba[:, k] if cal is None else cal.predict(proba[:, k])
                for k, cal in enumerate(self.calibrators_)]
        out = np.column_stack(cols)
        sums = out.sum(axis=1, keepdims=True)
        result: FloatArray = np.divide(out, sums, out=np.full_like(out, 1.0 / out.shape[1]),
                                       where=sums > 0)
        return result

    def estimate(self, proba: FloatArray, y_pred: NDArray[np.int64]) -> dict[str, float | None]:
        """Estimated metrics on an unlabelled window; ``None`` where undefined."""
        if proba.shape[0] == 0:
            raise ValueError("cannot estimate performance on an empty window")
        p = self.calibrated(proba)
        out: dict[str, float | None] = {}
        if proba.ndim == 1:
            expected = _binary_expected(p, y_pred)
            for name in self.metrics:
                if name == "roc_auc":
                    try:
                        out[name] = expected_roc_auc(proba, p)
                    except UndefinedMetric:
                        out[name] = None
                else:
                    out[name] = expected[name] if np.isfinite(expected[name]) else None
            return out
        per_class = [_binary_expected(p[:, k], y_pred, y_pred == k)
                     for k in range(self.n_classes_)]
        for name in self.metrics:
            if name == "accuracy":
                out[name] = float(np.mean(p[np.arange(p.shape[0]), y_pred]))
            elif name == "roc_auc":
                try:
                    out[name] = float(np.mean([expected_roc_auc(proba[:, k], p[:, k])
                                               for k in range(self.n_classes_)]))
                except UndefinedMetric:
                    out[name] = None
            else:
                values = [c[name] for c in per_class]
                out[name] = float(np.mean(np.nan_to_num(values, nan=0.0)))
        return out
