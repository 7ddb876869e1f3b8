"""What counts as a Monitor "catching" a failure, and the checks that could have.

A window's *signals* are what would page someone: the configured alert rules that fired,
or, for a configuration without alert rules, the decisions of the checks it enables
(``drift.dataset.drift_detected``, a realized-performance interval below the reference,
...). A window the Monitor rejects (a column of the wrong type, a missing column) is a
signal too: the pipeline failed loudly.

The *oracle* is the same Monitor with every applicable check on; its catalogue of
decisions below says, for a failure the configured Monitor missed, which check would have
caught it and the alert rule to add. Each decision is a calibrated test at a small level or
a threshold far outside what clean windows produce; the scorecard pairs every replay with a
clean one, so a decision that fires on clean data as well is not counted as a catch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from driftwise.config.monitor import MonitorConfig, parse_monitor_config
from driftwise.monitor.result import MetricValue, MonitorResult

#: Metrics where a lower value is better (for the realized/estimated performance checks).
LOWER_IS_BETTER = frozenset({"mae", "mse", "rmse", "mape", "log_loss", "brier", "ece"})
REJECTED = "schema"


@dataclass(frozen=True)
class Signal:
    """One decision that fired on a window.

    Attributes
    ----------
    id : str
        Stable identifier (``alert:<rule>``, ``feature_drift``, ``missing_values:<col>``).
    check : str
        The check in plain words.
    metric : str
        The metric whose value decided (empty for a rejected window).
    value : bool, int, float or None
        Its value on the window.
    section : str
        The configuration key that turns the check on.
    rule : dict
        An alert rule (``alerts:`` entry) that fires on this decision.
    """

    id: str
    check: str
    metric: str
    value: MetricValue
    section: str
    rule: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        value = self.value
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        return {"id": self.id, "check": self.check, "metric": self.metric, "value": value,
                "section": self.section, "rule": self.rule}


def rejected(error: str) -> Signal:
    """The signal of a window the Monitor refused (its error as the value's reason)."""
    return Signal(REJECTED, f"the window was rejected: {error}", "", None,
                  "columns (schema validation)", {})


def _rule(metric: str, condition: str, name: str) -> dict[str, Any]:
    return {"name": name, "metric": metric, "condition": condition}


def _columns(metrics: Mapping[str, MetricValue], prefix: str, suffix: str) -> Iterator[
        tuple[str, str, MetricValue]]:
    """``(column, metric name, value)`` for every ``<prefix><column><suffix>`` metric."""
    for name, value in metrics.items():
        if name.startswith(prefix) and name.endswith(suffix):
            yield name[len(prefix):len(name) - len(suffix)], name, value


def _true(value: MetricValue) -> bool:
    return value is True


def _below(value: MetricValue, limit: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and \
        math.isfinite(float(value)) and float(value) < limit


def _above(value: MetricValue, limit: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and \
        math.isfinite(float(value)) and float(value) > limit


@dataclass(frozen=True)
class Thresholds:
    """The oracle's decision levels (documented in docs/purple-team.md)."""

    alpha: float = 0.01                 # p-value level of the oracle's own tests
    missing_change: float = 0.05        # rise of a column's missing share
    out_of_range: float = 0.02          # share of values beyond the reference's range
    new_categories: float = 0.02        # share of values in categories the reference lacks
    outlier_alpha: float = 0.001        # p-value of the window's outlier count
    labelled_share: float = 0.9         # share of rows with a label below which labels lag
    concept_gap: float = 0.05           # realized minus estimated performance
    estimated_drop: float = 0.05        # relative drop of the estimated metric


Decider = Callable[[Mapping[str, MetricValue], int], list[Signal]]


def oracle_signals(metric: str, reference_level: float | None,
                   limits: Thresholds = Thresholds()) -> list[tuple[str, Decider]]:
    """The oracle's decisions as ``(section, decide(metrics, rows) -> signals)`` pairs.

    ``metric`` is the harm metric (``roc_auc``, ``mae``...) and ``reference_level`` its
    value on the reference, which the performance decisions compare with.
    """
    lower = metric in LOWER_IS_BETTER
    a = limits.alpha

    def flag(name: str, check: str, section: str, condition: str) -> Decider:
        def decide(m: Mapping[str, MetricValue], rows: int) -> list[Signal]:
            value = m.get(name)
            op, _, text = condition.partition(" ")
            fired = _true(value) if text == "true" else (
                _below(value, float(text)) if op == "<" else _above(value, float(text)))
            return [Signal(name, check, name, value, section,
                           _rule(name, condition, check))] if fired else []
        return decide

    def per_column(suffix: str, check: str, section: str, limit: float) -> Decider:
        def decide(m: Mapping[str, MetricValue], rows: int) -> list[Signal]:
            return [Signal(f"{check}:{col}", f"{check} in {col}", name, value, section,
                           _rule(name, f"> {limit:g}", f"{check} in {col}"))
                    for col, name, value in _columns(m, "quality.columns.", suffix)
                    if _above(value, limit)]
        return decide

    def labels_lag(m: Mapping[str, MetricValue], rows: int) -> list[Signal]:
        value = m.get("performance.labelled_rows")
        limit = math.floor(limits.labelled_share * rows)
        if isinstance(value, int) and not isinstance(value, bool) and value < limit:
            return [Signal("labels_missing", "labels missing or late",
                           "performance.labelled_rows", value, "checks.performance",
                           _rule("performance.labelled_rows", f"< {limit}",
                                 "labels missing or late"))]
        return []

    def realized(m: Mapping[str, MetricValue], rows: int) -> list[Signal]:
        if reference_level is None:
            return []
        bound = f"performance.{metric}.{'lower' if lower else 'upper'}"
        value = m.get(bound)
        fired = _above(value, reference_level) if lower else _below(value, reference_level)
        if not fired:
            return []
        condition = f"{'>' if lower else '<'} {reference_level:.4g}"
        return [Signal("realized_performance", f"realized {metric} below the reference",
                       bound, value, "checks.performance",
                       _rule(bound, condition, f"realized {metric} below the reference"))]

    def estimated(m: Mapping[str, MetricValue], rows: int) -> list[Signal]:
        if reference_level is None:
            return []
        name = f"estimated.{metric}"
        value = m.get(name)
        if lower:
            limit = reference_level * (1 + limits.estimated_drop)
            fired, condition = _above(value, limit), f"> {limit:.4g}"
        else:
            limit = reference_level * (1 - limits.estimated_drop)
            fired, condition = _below(value, limit), f"< {limit:.4g}"
        if not fired:
            return []
        return [Signal("estimated_performance", f"estimated {metric} dropped", name, value,
                       "checks.estimated_performance",
                       _rule(name, condition, f"estimated {metric} dropped"))]

    gap = -limits.concept_gap if not lower else limits.concept_gap
    return [
        ("checks.feature_drift", flag("drift.dataset.drift_detected", "feature drift",
                                      "checks.feature_drift", "== true")),
        ("checks.data_quality", per_column(".missing_share_change", "missing values",
                                           "checks.data_quality", limits.missing_change)),
        ("checks.data_quality", per_column(".out_of_range_share", "values out of range",
                                           "checks.data_quality", limits.out_of_range)),
        ("checks.data_quality", per_column(".new_category_share", "new categories",
                                           "checks.data_quality", limits.new_categories)),
        ("checks.prediction_drift", flag("prediction.ks_p_value", "prediction drift",
                                         "checks.prediction_drift", f"< {a:g}")),
        ("checks.prediction_drift", flag("prediction.class_mix_p_value",
                                         "predicted class mix changed",
                                         "checks.prediction_drift", f"< {a:g}")),
        ("checks.performance", realized),
        ("checks.estimated_performance", estimated),
        ("checks.performance", flag("target.p_value", "label shift", "checks.performance",
                                    f"< {a:g}")),
        ("checks.performance", labels_lag),
        ("checks.concept_drift", flag("concept.relation_changed", "feature-target relation "
                                      "changed", "checks.concept_drift", "== true")),
        ("checks.concept_drift", flag(f"concept.performance_gap.{metric}",
                                      f"realized {metric} below its estimate",
                                      "checks.concept_drift",
                                      f"{'>' if lower else '<'} {gap:g}")),
        ("checks.confidence", flag("confidence.drift_detected", "confidence fell",
                                   "checks.confidence", "== true")),
        ("checks.outliers", flag("outliers.p_value", "more outliers than expected",
                                 "checks.outliers", f"< {limits.outlier_alpha:g}")),
        ("checks.multivariate", flag("multivariate.drift_detected", "multivariate drift",
                                     "checks.multivariate", "== true")),
        ("checks.new_clusters", flag("new_clusters.detected", "new clusters",
                                     "checks.new_clusters", "== true")),
    ]


def enabled_sections(config: MonitorConfig) -> set[str]:
    """The configuration keys of the checks ``config`` turns on."""
    ch = config.checks
    on = {"checks.feature_drift"} if ch.feature_drift is not None else set()
    if ch.data_quality and ch.feature_drift is not None:
        on.add("checks.data_quality")
    if ch.prediction_drift:
        on.add("checks.prediction_drift")
    if config.performance_metrics is not None and config.columns.target is not None:
        on.add("checks.performance")
    if config.estimated_metrics is not None:
        on.add("checks.estimated_performance")
    for section in ("concept_drift", "confidence", "outliers", "new_clusters"):
        if getattr(ch, section) is not None:
            on.add(f"checks.{section}")
    if config.multivariate is not None:
        on.add("checks.multivariate")
    return on


def oracle_config(config: MonitorConfig) -> MonitorConfig:
    """``config`` with every check that applies to its model turned on, and no alert rules,
    SLOs or response (the oracle's decisions are :func:`oracle_signals`)."""
    data = config.model_dump(mode="json", by_alias=True, exclude_none=True)
    for key in ("alerts", "slos", "actions", "policy"):
        data.pop(key, None)
    checks = data.setdefault("checks", {})
    checks.pop("stream", None)
    checks.pop("probing", None)
    if checks.get("feature_drift") is None:
        checks["feature_drift"] = {}
    checks["data_quality"] = True
    checks["prediction_drift"] = True
    has_target = config.columns.target is not None
    if has_target:
        checks["performance"] = {}
        checks["estimated_performance"] = {}
        checks.setdefault("concept_drift", {})
    if config.task != "regression":
        checks.setdefault("confidence", {})
    checks.setdefault("outliers", {})
    return parse_monitor_config(data, "the purple team's all-checks monitor")


class SignalReader:
    """Turns a Monitor's result into its signals (see the module docstring)."""

    def __init__(self, config: MonitorConfig, deciders: list[tuple[str, Decider]],
                 *, use_alerts: bool) -> None:
        self.use_alerts = use_alerts and bool(config.alert_rules)
        sections = enabled_sections(config)
        self.deciders = [d for s, d in deciders if s in sections]

    def read(self, result: MonitorResult) -> list[Signal]:
        """The signals of one window's result, in catalogue order."""
        if self.use_alerts:
            return [Signal(f"alert:{a.name}", f"alert {a.name!r}", a.metric, a.value,
                           "alerts", {"name": a.name, "metric": a.metric,
                                      "condition": a.condition})
                    for a in result.alerts]
        found: list[Signal] = []
        for decide in self.deciders:
            found.extend(decide(result.metrics, result.rows))
        stream = [Signal(f"stream:{k}", f"stream detector {k[len('stream.'):-len('.alarm')]}",
                         k, v, "checks.stream", _rule(k, "== true", k))
                  for k, v in result.metrics.items()
                  if k.startswith("stream.") and k.endswith(".alarm") and v is True]
        return found + stream
