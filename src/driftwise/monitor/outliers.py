"""The Monitor's outlier check: a calibrated outlier detector on the features, per window
the share of outlying rows and whether there are more than its level predicts."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
from scipy import stats

from driftwise.config.monitor import OutlierCheck
from driftwise.detect.outliers import (
    IsolationForestOutliers,
    KNNOutliers,
    MahalanobisOutliers,
    OutlierDetector,
    OutlierResult,
)
from driftwise.errors import ConfigError
from driftwise.monitor.result import MetricValue

__all__ = ["OutlierChecks", "screen_verdicts"]

_CLASSES: dict[str, type[OutlierDetector]] = {
    "isolation_forest": IsolationForestOutliers, "mahalanobis": MahalanobisOutliers,
    "knn": KNNOutliers}


class OutlierChecks:
    """Fitted on the reference's features; adds ``outliers.*`` metrics to a window's.

    Metrics: ``outliers.share`` (rows with ``p <= alpha``), ``outliers.count``,
    ``outliers.p_value`` (the probability of at least that many outlying rows in a window
    of clean rows: small means more outliers than the level explains) and
    ``outliers.quarantined`` (rows with ``p <= quarantine_alpha``; without it, rows more
    outlying than every calibration row).

    The count of a clean window is not binomial(n, alpha): every row is compared with the
    same calibration scores, so the flag probability is itself random, Beta(a, n_cal + 1 -
    a) with a = floor(alpha (n_cal + 1)) (the a-th largest calibration score is the cut;
    Bates et al. 2023), and the count is beta-binomial. Its tail is the p-value; the
    binomial's would be too small by the calibration's own noise (with 1,500 calibration
    rows and 1,000-row windows, about half the spread) and fire on clean data.
    """

    def __init__(self, check: OutlierCheck | None) -> None:
        self.check = check
        self.detector: OutlierDetector | None = None
        #: The p-value at or below which a record is quarantined (set by fit).
        self.quarantine_level = 0.0

    def fit(self, table: pa.Table, features: list[str]) -> OutlierChecks:
        if self.check is None:
            return self
        columns = self.check.columns or features
        cls = _CLASSES[self.check.detector]
        self.detector = cls(calibration=self.check.calibration, columns=list(columns),
                            seed=self.check.seed).fit(table.select(columns))
        n_cal = int(self.detector.calibration_scores_.size)
        floor = 1.0 / (n_cal + 1)
        self.quarantine_level = floor if self.check.quarantine_alpha is None \
            else self.check.quarantine_alpha
        for name in ("alpha", "quarantine_alpha"):
            level = getattr(self.check, name)
            if level is not None and level < floor:
                raise ConfigError(
                    f"checks.outliers.{name} = {level:g} is below the smallest p-value the "
                    f"reference can give ({floor:.3g}: 1 / ({n_cal} calibration rows + 1)), so "
                    f"no record would ever reach it; raise it, or upload a reference of at "
                    f"least {math.ceil((1.0 / level - 1.0) / self.check.calibration)} rows")
        return self

    def detect(self, data: Any) -> OutlierResult:
        assert self.detector is not None and self.check is not None
        return self.detector.detect(data, alpha=self.check.alpha)

    def compare(self, table: pa.Table, metrics: dict[str, MetricValue]) -> None:
        if self.detector is None or self.check is None:
            return
        result = self.detect(table)
        n, k = int(result.p_values.size), int(result.flagged.size)
        metrics["outliers.share"] = result.share_flagged
        metrics["outliers.count"] = k
        metrics["outliers.p_value"] = _count_p_value(k, n, self.check.alpha,
                                                     result.calibration_rows)
        metrics["outliers.quarantined"] = int((result.p_values
                                               <= self.quarantine_level).sum())


def _count_p_value(k: int, n: int, alpha: float, n_cal: int) -> float:
    """P(at least k of n clean rows get p <= alpha): the beta-binomial tail."""
    a = int(alpha * (n_cal + 1))
    if n == 0 or k == 0:
        return 1.0
    if a == 0:  # no p-value reaches alpha: a flagged row cannot happen on clean data
        return 0.0
    return float(stats.betabinom.sf(k - 1, n, a, n_cal + 1 - a))


def screen_verdicts(result: OutlierResult, quarantine_alpha: float) -> list[str]:
    """Per row: ``quarantine`` (p <= quarantine_alpha), ``review`` (p <= alpha), ``allow``."""
    return ["quarantine" if p <= quarantine_alpha else "review" if p <= result.alpha
            else "allow" for p in result.p_values.tolist()]
