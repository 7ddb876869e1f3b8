"""What to do about a drifting model: nothing, recalibrate, or retrain (DESIGN job 9), with
the reasons, and the built-in recalibration of a scikit-learn classifier's probabilities.

The decision reads the evidence a Monitor window gives (how much of the input drifted, the
estimated performance loss before labels, the realized loss and the calibration error once
labels arrive, how many labels there are) and follows documented rules, first match wins:

1. **retrain** when the realized loss (or, without enough labels, the estimated loss) is
   at least ``retrain_loss``, or when the model's ranking got worse (AUC down by at least
   ``auc_drop``): recalibration cannot fix a model that orders cases wrongly. Retraining
   needs ``min_labels_retrain`` labels; with fewer the decision is still retrain, marked
   ``waiting_for_labels`` so a pipeline can schedule it when they arrive.
2. **recalibrate** when the ranking held (AUC within ``auc_drop``) but the probabilities
   went wrong (expected calibration error up by at least ``ece_rise``, or a loss between
   ``recalibrate_loss`` and ``retrain_loss``), and there are ``min_labels_recalibrate``
   labels to fit the calibration on.
3. **none** otherwise; input drift alone (``drift_share``) is reported, not acted on: a
   shift that does not cost performance is watched, not retrained for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftwise.errors import ConfigError, InsufficientDataError, SchemaError

__all__ = ["ACTIONS", "LOWER_IS_BETTER", "Decision", "Evidence", "Recalibration",
           "RetrainPolicy", "evidence_from_window", "expected_calibration_error",
           "recalibrate"]

ACTIONS = ("none", "recalibrate", "retrain")


@dataclass(frozen=True)
class Evidence:
    """What the decision reads; every field is optional (None: not measured).

    Losses are reference metric minus current (positive = worse), in the metric's units
    (accuracy points, AUC points); ``ece_rise`` is the current expected calibration error
    minus the reference's.
    """

    drift_share: float | None = None
    estimated_loss: float | None = None
    realized_loss: float | None = None
    auc_drop: float | None = None
    ece_rise: float | None = None
    labels: int = 0
    # Value lost against the reference per ``business_value.per`` predictions (positive:
    # worse; realized where the window is labelled, else estimated; docs/impact.md).
    value_loss: float | None = None


@dataclass(frozen=True)
class Decision:
    action: str
    reasons: list[str]
    waiting_for_labels: bool = False
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RetrainPolicy:
    """The thresholds of the decision (see the module notes)."""

    retrain_loss: float = 0.05
    recalibrate_loss: float = 0.01
    auc_drop: float = 0.02
    ece_rise: float = 0.03
    min_labels_recalibrate: int = 200
    min_labels_retrain: int = 1000
    #: Retrain when the value lost against the reference reaches this (per
    #: ``business_value.per`` predictions); ``None``: value is not part of the decision.
    value_loss: float | None = None

    def __post_init__(self) -> None:
        for name in ("retrain_loss", "recalibrate_loss", "auc_drop", "ece_rise"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0.0 < value < 1.0):
                raise ConfigError(f"{name} must be in (0, 1), got {value!r}")
        if self.recalibrate_loss >= self.retrain_loss:
            raise ConfigError("recalibrate_loss must be below retrain_loss")
        if self.value_loss is not None and not self.value_loss > 0:
            raise ConfigError(f"value_loss must be above 0, got {self.value_loss!r}")

    def decide(self, evidence: Evidence) -> Decision:
        """None, recalibrate or retrain, with the reasons in words."""
        e = evidence
        labelled = e.labels >= self.min_labels_recalibrate
        loss, source = (e.realized_loss, "realized") if e.realized_loss is not None and \
            labelled else (e.estimated_loss, "estimated")
        notes = [] if e.drift_share is None else [f"{e.drift_share:.0%} of the features drifted"]
        ranking_broke = e.auc_drop is not None and e.auc_drop >= self.auc_drop
        costly = self.value_loss is not None and e.value_loss is not None and \
            e.value_loss >= self.value_loss
        if (loss is not None and loss >= self.retrain_loss) or ranking_broke or costly:
            why = [f"{source} performance loss {loss:.3f} >= {self.retrain_loss}"] \
                if loss is not None and loss >= self.retrain_loss else []
            if costly:
                why.append(f"value lost against the reference {e.value_loss:,.4g} >= "
                           f"{self.value_loss:,.4g} per the configured number of "
                           "predictions")
            if ranking_broke:
                why.append(f"AUC fell by {e.auc_drop:.3f} (>= {self.auc_drop}): the model "
                           "ranks cases worse, which recalibration cannot fix")
            waiting = e.labels < self.min_labels_retrain
            if waiting:
                why.append(f"{e.labels} labels so far; retraining needs "
                           f"{self.min_labels_retrain}: scheduled for when they arrive")
            return Decision("retrain", why + notes, waiting, asdict(e))
        miscalibrated = e.ece_rise is not None and e.ece_rise >= self.ece_rise
        small_loss = loss is not None and loss >= self.recalibrate_loss
        if (miscalibrated or small_loss) and labelled:
            why = []
            if miscalibrated:
                why.append(f"calibration error rose by {e.ece_rise:.3f} (>= {self.ece_rise})")
            if small_loss:
                why.append(f"{source} performance loss {loss:.3f} between "
                           f"{self.recalibrate_loss} and {self.retrain_loss}")
            why.append("the ranking held (AUC drop below "
                       f"{self.auc_drop}): refitting the probabilities is enough")
            return Decision("recalibrate", why + notes, False, asdict(e))
        why = ["no performance loss or calibration change worth acting on"]
        if (miscalibrated or small_loss) and not labelled:
            why = [f"calibration or a small loss suggests recalibrating, but {e.labels} "
                   f"labels are fewer than {self.min_labels_recalibrate}: waiting"]
            return Decision("none", why + notes, True, asdict(e))
        if e.drift_share:
            why.append("input drift without a performance cost is watched, not acted on")
        return Decision("none", why + notes, False, asdict(e))


#: Metrics where a smaller value is better (a loss is the rise, not the fall).
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece", "mae", "rmse", "mape"})


def _loss(metric: str, reference: float | None, current: Any) -> float | None:
    if reference is None or not isinstance(current, int | float) or \
            isinstance(current, bool) or current != current:
        return None
    change = float(current) - float(reference)
    return change if metric in LOWER_IS_BETTER else -change


def evidence_from_window(metrics: Mapping[str, Any], reference: Mapping[str, float],
                         metric: str = "accuracy") -> Evidence:
    """The decision's evidence from one window's Monitor metrics and the model's
    performance on the reference (``Monitor.reference_performance_``): losses on
    ``metric`` realized (``performance.<metric>``) and estimated (``estimated.<metric>``),
    the AUC drop (realized, else estimated), the calibration error's rise (``ece``), the
    drifted share of the features and the window's labelled rows."""
    def current(name: str) -> Any:
        real = metrics.get(f"performance.{name}")
        return real if real is not None else metrics.get(f"estimated.{name}")

    share = metrics.get("drift.dataset.share")
    labels = metrics.get("performance.labelled_rows")
    return Evidence(
        drift_share=float(share) if isinstance(share, int | float) else None,
        estimated_loss=_loss(metric, reference.get(metric),
                             metrics.get(f"estimated.{metric}")),
        realized_loss=_loss(metric, reference.get(metric),
                            metrics.get(f"performance.{metric}")),
        auc_drop=_loss("roc_auc", reference.get("roc_auc"), current("roc_auc")),
        ece_rise=_loss("ece", reference.get("ece"), metrics.get("performance.ece")),
        labels=int(labels) if isinstance(labels, int | float) else 0,
        value_loss=_value_loss(metrics))


def _value_loss(metrics: Mapping[str, Any]) -> float | None:
    """Value lost against the reference: realized (``business.change``) where measured,
    else estimated (``business.estimated_change``); positive is worse."""
    for name in ("business.change", "business.estimated_change"):
        change = metrics.get(name)
        if isinstance(change, int | float) and not isinstance(change, bool) and \
                change == change:
            return -float(change)
    return None


def expected_calibration_error(y: NDArray[Any], p: NDArray[np.float64], bins: int = 10
                               ) -> float:
    """Binary ECE: the row-weighted mean |observed rate - mean probability| over equal-width
    probability bins (Naeini, Cooper & Hauskrecht 2015)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    idx = np.minimum((p * bins).astype(np.int64), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.sum() * abs(y[mask].mean() - p[mask].mean())
    return float(total / max(y.size, 1))


@dataclass(frozen=True)
class Recalibration:
    """A recalibrated model and what the recalibration did on held-out labelled rows."""

    model: Any
    method: str
    accepted: bool
    brier_before: float
    brier_after: float
    ece_before: float
    ece_after: float

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "model"}


def recalibrate(model: Any, x: Any, y: Any, *, method: str = "sigmoid",
                holdout: float = 0.3, seed: int = 0) -> Recalibration:
    """Refit a fitted binary classifier's probabilities on recent labelled rows.

    The model itself is frozen (scikit-learn's ``FrozenEstimator``); a sigmoid (Platt
    1999) or isotonic map of its scores is fitted on ``1 - holdout`` of the rows
    (``CalibratedClassifierCV``) and judged on the rest: ``accepted`` only when the Brier
    score improved there, and ``model`` is the recalibrated one only then (otherwise the
    original, unchanged).

    Raises
    ------
    InsufficientDataError
        Fewer than 50 rows, or one class only.
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    if method not in ("sigmoid", "isotonic"):
        raise ConfigError(f"method must be sigmoid or isotonic, got {method!r}")
    x = np.asarray(x)
    y = np.asarray(y)
    if x.shape[0] != y.shape[0]:
        raise SchemaError(f"recalibrate: {x.shape[0]} rows but {y.shape[0]} labels")
    if y.size < 50 or np.unique(y).size != 2:
        raise InsufficientDataError("recalibrate: need at least 50 labelled rows of both "
                                    f"classes, got {y.size} rows, {np.unique(y).size} class(es)")
    order = np.random.default_rng(seed).permutation(y.size)
    cut = round(y.size * (1.0 - holdout))
    fit_idx, test_idx = order[:cut], order[cut:]
    calibrated = CalibratedClassifierCV(FrozenEstimator(model), method=method)
    calibrated.fit(x[fit_idx], y[fit_idx])
    before = model.predict_proba(x[test_idx])[:, 1]  # classes_[1]: the positive class
    after = calibrated.predict_proba(x[test_idx])[:, 1]
    truth = (y[test_idx] == model.classes_[1]).astype(np.float64)
    brier_b = float(np.mean((before - truth) ** 2))
    brier_a = float(np.mean((after - truth) ** 2))
    accepted = brier_a < brier_b
    return Recalibration(calibrated if accepted else model, method, accepted, brier_b, brier_a,
                         expected_calibration_error(truth, before),
                         expected_calibration_error(truth, after))
