"""Turning detector and metric results into the Monitor's flat dotted metric names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftwise.detect.results import DriftReport
from driftwise.monitor.metric_names import prefixed
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
        out.update(prefixed(f"drift.columns.{c.name}", {
            "statistic": c.statistic, "p_value": c.p_value,
            "p_value_adjusted": c.p_value_adjusted, "effect": c.effect,
            "drift_detected": c.drift_detected}))
        if quality:
            q = c.quality
            out.update(prefixed(f"quality.columns.{c.name}", {
                "missing_share": q.missing_share_current,
                "missing_share_change": q.missing_share_current - q.missing_share_reference,
                "out_of_range_share": q.out_of_range_share,
                "new_category_share": q.new_category_share,
                "new_categories": q.new_categories_count,
                "missing_markers": sum(q.missing_markers_current.values())}))
    return out


def performance_metrics(results: Mapping[str, MetricResult], reasons: dict[str, str]) -> (
    dict[str, MetricValue]
):
    """``performance.<metric>`` with ``.lower``/``.upper``; reasons for missing values."""
    out: dict[str, MetricValue] = {}
    for name, res in results.items():
        out[f"performance.{name}"] = res.value
        out.update(prefixed(f"performance.{name}", {"lower": res.lower, "upper": res.upper}))
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
        if isinstance(part, dict):
            out.update(prefixed(f"multivariate.{view}", {
                k: v for k, v in part.items() if isinstance(v, bool | int | float) or v is None}))
    return out
