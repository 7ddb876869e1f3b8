"""Turning detector and metric results into the Monitor's flat dotted metric names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftwise.detect.results import DriftReport
from driftwise.monitor.result import MetricValue
from driftwise.performance import MetricResult


def drift_metrics(report: DriftReport, quality: bool) -> dict[str, MetricValue]:
    """``drift.dataset.*``, ``drift.columns.<col>.*`` and ``quality.columns.<col>.*``."""
    d = report.dataset_drift
    out: dict[str, MetricValue] = {
        "drift.dataset.drift_detected": d.drift_detected,
        "drift.dataset.drifted_columns": d.drifted_columns,
        "drift.dataset.share": d.share,
    }
    for c in report.columns:
        if c.skipped is not None:
            continue
        base = f"drift.columns.{c.name}"
        out[f"{base}.statistic"] = c.statistic
        out[f"{base}.p_value"] = c.p_value
        out[f"{base}.p_value_adjusted"] = c.p_value_adjusted
        out[f"{base}.effect"] = c.effect
        out[f"{base}.drift_detected"] = c.drift_detected
        if quality:
            q = c.quality
            qbase = f"quality.columns.{c.name}"
            out[f"{qbase}.missing_share"] = q.missing_share_current
            out[f"{qbase}.missing_share_change"] = (q.missing_share_current
                                                    - q.missing_share_reference)
            out[f"{qbase}.out_of_range_share"] = q.out_of_range_share
            out[f"{qbase}.new_category_share"] = q.new_category_share
            out[f"{qbase}.new_categories"] = q.new_categories_count
    return out


def performance_metrics(results: Mapping[str, MetricResult], reasons: dict[str, str]) -> (
    dict[str, MetricValue]
):
    """``performance.<metric>`` with ``.lower``/``.upper``; reasons for missing values."""
    out: dict[str, MetricValue] = {}
    for name, res in results.items():
        out[f"performance.{name}"] = res.value
        out[f"performance.{name}.lower"] = res.lower
        out[f"performance.{name}.upper"] = res.upper
        if res.reason:
            reasons[f"performance.{name}"] = res.reason
    return out


def multivariate_metrics(result: Any) -> dict[str, MetricValue]:
    """``multivariate.drift_detected`` and each view's scalar results
    (``multivariate.mmd.p_value``, ``multivariate.classifier.auc``, ...)."""
    data = result.to_dict()
    out: dict[str, MetricValue] = {"multivariate.drift_detected": data["drift_detected"]}
    for view in ("mmd", "classifier", "reconstruction"):
        part = data.get(view)
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if isinstance(value, bool | int | float) or value is None:
                out[f"multivariate.{view}.{key}"] = value
    return out
