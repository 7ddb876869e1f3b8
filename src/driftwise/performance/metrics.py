"""Realized model-performance metrics, computed with NumPy, equal to scikit-learn's.

Every function takes plain arrays that a caller has validated (labels as integers
``0..k-1``; probabilities in [0, 1]) and returns a float, or raises
:class:`UndefinedMetric` when the window cannot define the metric (a ROC AUC with one
class present, a precision with no positive prediction): the caller reports that as an
explicit "insufficient data" result, never as a silent NaN.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

ECE_BINS = 10


class UndefinedMetric(ValueError):
    """The metric is undefined on this window; the message says why."""


def _midranks(values: FloatArray) -> FloatArray:
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    is_first = np.empty(values.size, dtype=bool)
    is_first[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=is_first[1:])
    starts = np.flatnonzero(is_first)
    counts = np.diff(np.append(starts, values.size))
    ranks_sorted = np.repeat(starts + (counts + 1) / 2.0, counts)
    ranks = np.empty(values.size)
    ranks[order] = ranks_sorted
    return ranks


def accuracy(y_true: IntArray, y_pred: IntArray) -> float:
    """Share of correct predictions."""
    return float(np.mean(y_true == y_pred))


def _binary_counts(y_true: IntArray, y_pred: IntArray, positive: int = 1) -> tuple[int, int, int]:
    t = y_true == positive
    p = y_pred == positive
    return int(np.sum(t & p)), int(np.sum(~t & p)), int(np.sum(t & ~p))


def precision(y_true: IntArray, y_pred: IntArray, positive: int = 1) -> float:
    """TP / (TP + FP) for the positive class."""
    tp, fp, _ = _binary_counts(y_true, y_pred, positive)
    if tp + fp == 0:
        raise UndefinedMetric("precision: no positive predictions in the window")
    return tp / (tp + fp)


def recall(y_true: IntArray, y_pred: IntArray, positive: int = 1) -> float:
    """TP / (TP + FN) for the positive class."""
    tp, _, fn = _binary_counts(y_true, y_pred, positive)
    if tp + fn == 0:
        raise UndefinedMetric("recall: no positive labels in the window")
    return tp / (tp + fn)


def f1(y_true: IntArray, y_pred: IntArray, positive: int = 1) -> float:
    """Harmonic mean of precision and recall: 2 TP / (2 TP + FP + FN)."""
    tp, fp, fn = _binary_counts(y_true, y_pred, positive)
    if tp + fp + fn == 0:
        raise UndefinedMetric("f1: no positive labels or predictions in the window")
    return 2 * tp / (2 * tp + fp + fn)


def macro(metric: str, y_true: IntArray, y_pred: IntArray, n_classes: int) -> float:
    """Unweighted mean over classes of ``precision``, ``recall`` or ``f1`` (one-vs-rest).

    A class whose metric is undefined in the window counts as 0, as scikit-learn's
    ``zero_division=0``.
    """
    fn = {"precision": precision, "recall": recall, "f1": f1}[metric]
    values = []
    for k in range(n_classes):
        try:
            values.append(fn(y_true, y_pred, k))
        except UndefinedMetric:
            values.append(0.0)
    return float(np.mean(values))


def roc_auc(y_true: IntArray, score: FloatArray) -> float:
    """Binary ROC AUC: the Mann–Whitney probability that a positive outranks a negative."""
    positives = y_true == 1
    n_pos = int(positives.sum())
    n_neg = y_true.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise UndefinedMetric("roc_auc: only one class present in the window")
    ranks = _midranks(score.astype(np.float64))
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def roc_auc_ovr(y_true: IntArray, proba: FloatArray) -> float:
    """Multiclass ROC AUC: unweighted mean of one-vs-rest AUCs (scikit-learn ``ovr``/macro)."""
    present = np.unique(y_true)
    if present.size < proba.shape[1]:
        raise UndefinedMetric(
            f"roc_auc: only {present.size} of {proba.shape[1]} classes present in the window"
        )
    return float(np.mean([roc_auc((y_true == k).astype(np.int64), proba[:, k])
                          for k in range(proba.shape[1])]))


def average_precision(y_true: IntArray, score: FloatArray) -> float:
    """Area under the precision–recall curve as average precision: Σ (R_n − R_{n−1}) P_n."""
    n_pos = int(np.sum(y_true == 1))
    if n_pos == 0:
        raise UndefinedMetric("pr_auc: no positive labels in the window")
    order = np.argsort(-score, kind="mergesort")
    s = score[order]
    y = (y_true[order] == 1).astype(np.int64)
    last_of_group = np.append(s[1:] != s[:-1], True)
    tp = np.cumsum(y)[last_of_group]
    predicted = (np.flatnonzero(last_of_group) + 1).astype(np.float64)
    precision_at = tp / predicted
    recall_at = tp / n_pos
    return float(np.sum(np.diff(np.concatenate([[0.0], recall_at])) * precision_at))


def log_loss(y_true: IntArray, proba: FloatArray) -> float:
    """Mean negative log-likelihood; probabilities clipped to [eps, 1 − eps] (float64 eps).

    ``proba`` is the positive-class probability (1-D) or the class-probability matrix.
    """
    eps = float(np.finfo(np.float64).eps)
    if proba.ndim == 1:
        p = np.clip(proba, eps, 1 - eps)
        return float(-np.mean(np.where(y_true == 1, np.log(p), np.log(1 - p))))
    p = np.clip(proba[np.arange(y_true.size), y_true], eps, 1 - eps)
    return float(-np.mean(np.log(p)))


def brier(y_true: IntArray, proba: FloatArray) -> float:
    """Brier score: mean squared error of the probabilities.

    Binary (1-D ``proba``): mean of (p − y)². Multiclass: mean over rows of
    Σ_k (p_k − 1[y = k])² (Brier 1950), which lies in [0, 2].
    """
    if proba.ndim == 1:
        return float(np.mean((proba - (y_true == 1)) ** 2))
    onehot = np.zeros_like(proba)
    onehot[np.arange(y_true.size), y_true] = 1.0
    return float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


def expected_calibration_error(y_true: IntArray, proba: FloatArray, bins: int = ECE_BINS) -> (
    float
):
    """ECE over equal-width bins: Σ_b (n_b / n) |observed − predicted| (Guo et al. 2017).

    Binary: the positive-class probability against the positive rate. Multiclass: the
    top-label confidence against the accuracy of the top label.
    """
    if proba.ndim == 1:
        confidence = proba
        outcome = (y_true == 1).astype(np.float64)
    else:
        top = np.argmax(proba, axis=1)
        confidence = proba[np.arange(y_true.size), top]
        outcome = (top == y_true).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    gap = np.abs(np.bincount(which, outcome, bins) - np.bincount(which, confidence, bins))
    return float(gap.sum() / max(int(counts.sum()), 1))


def mae(y_true: FloatArray, y_pred: FloatArray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(y_true - y_pred)))


def rmse(y_true: FloatArray, y_pred: FloatArray) -> float:
    """Root mean squared error."""
    return math.sqrt(float(np.mean((y_true - y_pred) ** 2)))


def mape(y_true: FloatArray, y_pred: FloatArray) -> float:
    """Mean absolute percentage error as a fraction; |y| floored at float64 eps."""
    eps = float(np.finfo(np.float64).eps)
    return float(np.mean(np.abs(y_true - y_pred) / np.maximum(np.abs(y_true), eps)))


def r2(y_true: FloatArray, y_pred: FloatArray) -> float:
    """Coefficient of determination 1 − SS_res / SS_tot."""
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    if ss_tot == 0.0:
        raise UndefinedMetric("r2: the target is constant in the window")
    return 1.0 - float(np.sum((y_true - y_pred) ** 2)) / ss_tot
