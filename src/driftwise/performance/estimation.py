"""Performance without labels: confidence-based performance estimation (CBPE).

On the reference (labelled) data the model's scores are calibrated with isotonic
regression, so that a calibrated probability p_i is the chance that row i is positive.
On an unlabelled window, each confusion-matrix cell is then an expectation: for a row
predicted positive, it is a true positive with probability p_i and a false positive
with probability 1 − p_i, and so on. Metrics follow from the expected cells; the ROC
AUC from the expected true- and false-positive rates at every score threshold. (The
method of NannyML's CBPE, described in its documentation "Estimating Performance for
Binary Classification" and "How it works: CBPE".)

Calibration is applied only where it helps (``calibrate="auto"``, the default): on
the reference, per class (one-vs-rest for a multiclass model), the raw scores are tested
for miscalibration (their expected calibration error against its distribution under
labels drawn from the scores themselves), and the class is calibrated when they fail the
test and isotonic regression fitted out of fold lowers the held-out error. NannyML's
documentation ("Appendix: Probability calibration") compares the held-out errors only. Every
estimate carries a sampling band (:mod:`driftwise.performance.bands`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from driftwise.performance import bands as b
from driftwise.performance.calibration import IsotonicCalibrator
from driftwise.performance.metrics import UndefinedMetric, expected_calibration_error

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


@dataclass(frozen=True)
class CalibrationChoice:
    """Whether one class's scores are calibrated, and the held-out evidence that decided it:
    the expected calibration error of the raw scores and of out-of-fold calibrated ones,
    and the p-value of the raw error under the hypothesis that the scores are calibrated."""

    calibrated: bool
    raw_ece: float | None = None
    calibrated_ece: float | None = None
    p_value: float | None = None
    decided_by: str = "configured"

    def to_dict(self) -> dict[str, object]:
        return {"calibrated": self.calibrated, "raw_ece": self.raw_ece,
                "calibrated_ece": self.calibrated_ece, "p_value": self.p_value,
                "decided_by": self.decided_by}


#: Level of the test that raw scores are miscalibrated, and its simulated label draws.
CALIBRATION_ALPHA = 0.05
CALIBRATION_DRAWS = 400


def _bins(score: FloatArray, bins: int = 10) -> NDArray[np.int64]:
    edges = np.linspace(0.0, 1.0, bins + 1)
    found: NDArray[np.int64] = np.clip(np.searchsorted(edges, score, side="right") - 1, 0,
                                       bins - 1)
    return found


def miscalibration_p(score: FloatArray, positive: FloatArray, rng: np.random.Generator,
                     draws: int = CALIBRATION_DRAWS) -> float:
    """P-value of the scores' expected calibration error (10 equal-width bins) under the
    hypothesis that they are calibrated: labels are drawn as Bernoulli(score), and the
    share of draws whose ECE reaches the observed one is the p-value (Monte Carlo, with
    the observed counted among the draws)."""
    which = _bins(score)
    n = score.size
    expected = np.bincount(which, score, 10)
    observed = float(np.abs(np.bincount(which, positive, 10) - expected).sum() / n)
    onehot = np.zeros((n, 10))
    onehot[np.arange(n), which] = 1.0
    reached = 0
    for size in b._blocks(draws, n):
        y = (rng.random((size, n)) < score).astype(np.float64)
        null = np.abs(y @ onehot - expected).sum(axis=1) / n
        reached += int(np.sum(null >= observed - 1e-15))
    return (1 + reached) / (draws + 1)


def _decide(score: FloatArray, positive: FloatArray, parts: list[NDArray[np.int64]],
            rng: np.random.Generator) -> CalibrationChoice:
    """Calibrate one score column when the raw scores are detectably miscalibrated (the
    test of :func:`miscalibration_p` at ``CALIBRATION_ALPHA``) and isotonic regression
    fitted out of fold lowers the held-out calibration error. A lower held-out error alone
    is not enough: on calibrated scores it comes out lower about as often as not."""
    if positive.min() == positive.max():
        return CalibrationChoice(False, decided_by="one class in the reference")
    oof = np.empty(score.size)
    everything = np.ones(score.size, dtype=bool)
    for test in parts:
        train = everything.copy()
        train[test] = False
        if positive[train].min() == positive[train].max() or test.size == 0:
            return CalibrationChoice(True, decided_by="too few rows to compare; calibrated")
        oof[test] = IsotonicCalibrator().fit(score[train], positive[train]).predict(score[test])
    outcome = positive.astype(np.int64)
    raw = expected_calibration_error(outcome, score)
    cal = expected_calibration_error(outcome, oof)
    p = miscalibration_p(score, positive, rng)
    return CalibrationChoice(p < CALIBRATION_ALPHA and cal < raw, raw, cal, p,
                             "held-out calibration error")


class CBPE:
    """Confidence-based performance estimation for binary and multiclass classifiers.

    Parameters
    ----------
    metrics : names
        Among ``roc_auc``, ``accuracy``, ``precision``, ``recall``, ``f1`` (multiclass:
        macro averages, one-vs-rest calibration).
    calibrate : ``"auto"``, bool
        ``"auto"`` (default): calibrate each class's scores with isotonic regression where
        that lowers the held-out calibration error on the reference; ``True``: always;
        ``False``: never (scores known to be calibrated).
    value : array, optional
        A k x k value matrix (rows: true class, columns: predicted class, in class order):
        the estimate then includes ``value``, the expected value of a prediction.
    seed : int
        Seed of the reference folds and of the band's simulated label draws.
    """

    def __init__(self, metrics: Sequence[str] = CBPE_METRICS, *,
                 calibrate: bool | Literal["auto"] = "auto",
                 value: NDArray[np.float64] | None = None, seed: int = 0) -> None:
        self.metrics = metrics
        self.calibrate = calibrate
        self.value = None if value is None else np.asarray(value, dtype=np.float64)
        self.seed = seed

    def fit(self, y_true: NDArray[np.int64], proba: FloatArray,
            y_pred: NDArray[np.int64] | None = None) -> CBPE:
        """Learn the calibration, and the estimator's own error for the bands, from labelled
        reference data.

        ``proba`` is the positive-class probability (binary) or the class matrix;
        ``y_pred`` the model's predictions (default: threshold 0.5 / the top class).
        """
        unknown = set(self.metrics) - set(CBPE_METRICS)
        if unknown:
            raise ValueError(f"CBPE cannot estimate {sorted(unknown)}; choose from "
                             f"{', '.join(CBPE_METRICS)}")
        self.n_classes_ = 2 if proba.ndim == 1 else proba.shape[1]
        if self.value is not None and self.value.shape != (self.n_classes_, self.n_classes_):
            raise ValueError(f"value matrix: expected {self.n_classes_} x {self.n_classes_} "
                             f"(true x predicted class), got {self.value.shape}")
        y_pred = _default_prediction(proba) if y_pred is None else y_pred
        columns = [proba] if proba.ndim == 1 else [proba[:, k] for k in range(self.n_classes_)]
        positives = [(y_true == 1) if proba.ndim == 1 else (y_true == k)
                     for k in range(len(columns))]
        parts = b.folds(y_true.size, seed=self.seed)
        if self.calibrate == "auto":
            rng = np.random.default_rng((self.seed, 3))
            self.calibration_ = [_decide(col, pos.astype(np.float64), parts, rng)
                                 for col, pos in zip(columns, positives, strict=True)]
        else:
            self.calibration_ = [CalibrationChoice(bool(self.calibrate))] * len(columns)
        self.calibrators_ = [
            IsotonicCalibrator().fit(col, pos.astype(np.float64)) if choice.calibrated
            else None
            for col, pos, choice in zip(columns, positives, self.calibration_, strict=True)
        ]
        self._fit_estimation_error(y_true, proba, y_pred, parts)
        return self

    def _fit_estimation_error(self, y_true: NDArray[np.int64], proba: FloatArray,
                              y_pred: NDArray[np.int64],
                              parts: list[NDArray[np.int64]]) -> None:
        """Each metric's estimation variance, from folds estimated by a CBPE fitted on the
        other folds (:func:`bands.estimation_variance`)."""
        gaps: dict[str, list[float]] = {}
        sampled: dict[str, list[float]] = {}
        rng = np.random.default_rng((self.seed, 1))
        everything = np.ones(y_true.size, dtype=bool)
        for test in parts:
            train = everything.copy()
            train[test] = False
            if test.size < 20 or np.unique(y_true[train]).size < 2:
                continue
            sub = CBPE(self.metrics, calibrate=False, value=self.value, seed=self.seed)
            sub.n_classes_ = self.n_classes_
            sub.calibration_ = self.calibration_
            cols = [proba[train]] if proba.ndim == 1 else \
                [proba[train][:, k] for k in range(self.n_classes_)]
            sub.calibrators_ = [
                IsotonicCalibrator().fit(col, ((y_true[train] == (1 if proba.ndim == 1 else k))
                                               .astype(np.float64))) if choice.calibrated
                else None
                for k, (col, choice) in enumerate(zip(cols, self.calibration_, strict=True))]
            estimate = sub.estimate(proba[test], y_pred[test])
            spreads = sub._spreads(proba[test], y_pred[test], rng, draws=100)
            for name, est in estimate.items():
                real = self._realized(name, y_true[test], y_pred[test], proba[test])
                spread = spreads.get(name)
                if est is None or real is None or spread is None:
                    continue
                gaps.setdefault(name, []).append(real - est)
                sampled.setdefault(name, []).append(spread**2)
        self.estimation_variance_ = {name: b.estimation_variance(gaps[name], sampled[name])
                                     for name in gaps}

    def _realized(self, name: str, y_true: NDArray[np.int64], y_pred: NDArray[np.int64],
                  proba: FloatArray) -> float | None:
        try:
            if name == "value":
                assert self.value is not None
                return b.value_per_prediction(self.value, y_true, y_pred)
            if proba.ndim == 1:
                return b.realized_binary(name, y_true, y_pred, proba)
            return b.realized_multiclass(name, y_true, y_pred, proba)
        except UndefinedMetric:
            return None

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
        """Estimated metrics on an unlabelled window; ``None`` where undefined. With a value
        matrix, also ``value``: the expected value of a prediction."""
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
            if self.value is not None:
                pos = y_pred == 1
                v = self.value
                out["value"] = float(np.mean(np.where(pos, p * v[1, 1] + (1 - p) * v[0, 1],
                                                      p * v[1, 0] + (1 - p) * v[0, 0])))
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
        if self.value is not None:
            # E[value] of row i = sum over true classes c of p_ic * value[c, predicted_i].
            out["value"] = float(np.mean(np.sum(p * self.value[:, y_pred].T, axis=1)))
        return out

    def _spreads(self, proba: FloatArray, y_pred: NDArray[np.int64], rng: np.random.Generator,
                 draws: int = b.DRAWS) -> dict[str, float | None]:
        p = self.calibrated(proba)
        if proba.ndim == 1:
            sims = b.simulate_binary(p, y_pred == 1, proba, self.metrics, rng, draws,
                                     self.value)
        else:
            sims = b.simulate_multiclass(p, y_pred, proba, self.metrics, rng, draws,
                                         self.value)
        return {name: b.spread(values) for name, values in sims.items()}

    def bands(self, proba: FloatArray, y_pred: NDArray[np.int64],
              estimates: dict[str, float | None] | None = None, *,
              k: float = b.BAND_SIGMAS) -> dict[str, b.Band]:
        """Each estimate's band on this window: the spread of the realized metric over label
        draws from the calibrated probabilities, widened by the estimator's own error on
        the reference (:mod:`driftwise.performance.bands`)."""
        estimates = self.estimate(proba, y_pred) if estimates is None else estimates
        rng = np.random.default_rng((self.seed, 2, proba.shape[0]))
        spreads = self._spreads(proba, y_pred, rng)
        out = {}
        for name, est in estimates.items():
            sampling = spreads.get(name)
            if est is None or sampling is None:
                continue
            sigma = float(np.sqrt(sampling**2 + self.estimation_variance_.get(name, 0.0)))
            out[name] = b.Band.around(name, est, sigma, k)
        return out


def _default_prediction(proba: FloatArray) -> NDArray[np.int64]:
    predicted: NDArray[np.int64] = (proba >= 0.5).astype(np.int64) if proba.ndim == 1 \
        else np.argmax(proba, axis=1).astype(np.int64)
    return predicted
