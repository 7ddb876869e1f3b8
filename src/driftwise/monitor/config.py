"""The Monitor's declarative configuration: what to watch for one model.

Parsed from YAML or a mapping; every error names the offending key (``checks.performance.
metrics``). The format is documented with a complete example in ``docs/monitor.md``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from driftwise.detect.config import read_yaml
from driftwise.detect.settings import DriftSettings
from driftwise.errors import ConfigError
from driftwise.performance.dle import DLE_METRICS
from driftwise.performance.estimation import CBPE_METRICS
from driftwise.performance.realized import DEFAULT_METRICS, TASKS

SEVERITIES = ("warning", "critical")
OPERATORS = ("<", "<=", ">", ">=", "==", "!=")


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    return dict(value)


def _only(values: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: "
                          f"{', '.join(allowed)}")


def _names(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a column name or a list of column names")
    return tuple(value)


def _positive_int(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{where}: expected a positive integer, got {value!r}")
    return value


@dataclass(frozen=True)
class Columns:
    """Which columns play which role."""

    features: tuple[str, ...] = ()
    prediction: str | None = None
    probabilities: tuple[str, ...] = ()
    probability_classes: tuple[str, ...] = ()
    target: str | None = None
    id: str | None = None
    timestamp: str | None = None
    segments: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertRule:
    """Fire when ``metric`` satisfies ``operator threshold`` for ``for_windows`` windows."""

    name: str
    metric: str
    operator: str
    threshold: float | bool
    severity: str = "warning"
    for_windows: int = 1


@dataclass(frozen=True)
class StreamCheck:
    """A sequential detector fed one value of ``metric`` per window."""

    name: str
    metric: str
    detector: Mapping[str, Any]


def _entries(raw: Any, section: str, shape: str) -> list[tuple[str, dict[str, Any]]]:
    """``checks.<section>``: a list of mappings, each with its path for error messages."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(f"checks.{section}: expected a list of {shape} entries")
    return [(f"checks.{section}[{i}]", _mapping(item, f"checks.{section}[{i}]"))
            for i, item in enumerate(raw)]


def _parse_stream(raw: Any) -> tuple[StreamCheck, ...]:
    from driftwise.stream import make_detector

    out = []
    for where, spec in _entries(raw, "stream", "{metric, detector}"):
        _only(spec, ("name", "metric", "detector"), where)
        if not isinstance(spec.get("metric"), str):
            raise ConfigError(f"{where}.metric: expected a metric name such as "
                              "'estimated.accuracy'")
        detector = _mapping(spec.get("detector"), f"{where}.detector")
        try:
            make_detector(detector)
        except ConfigError as exc:
            raise ConfigError(f"{where}.detector: {exc}") from None
        out.append(StreamCheck(str(spec.get("name", spec["metric"])), spec["metric"],
                               detector))
    names = [c.name for c in out]
    if len(set(names)) != len(names):
        raise ConfigError("checks.stream: give each entry a distinct name")
    return tuple(out)


@dataclass(frozen=True)
class SeasonalCheck:
    """A seasonal baseline of one numeric column (``SeasonalBaseline`` parameters)."""

    column: str
    params: Mapping[str, Any]


def _parse_seasonal(raw: Any) -> tuple[SeasonalCheck, ...]:
    """``checks.seasonal``: a list of {column, season, burst, ...} entries."""
    import inspect

    from driftwise.stream import SeasonalBaseline

    allowed = ("column", *inspect.signature(SeasonalBaseline).parameters)
    out = []
    for where, spec in _entries(raw, "seasonal", "{column, season, ...}"):
        _only(spec, allowed, where)
        if not isinstance(spec.get("column"), str):
            raise ConfigError(f"{where}.column: expected the name of a numeric column")
        params = {k: v for k, v in spec.items() if k != "column"}
        if "burst" in params and params["burst"] is False:
            params["burst"] = None
        try:
            SeasonalBaseline(**params)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        out.append(SeasonalCheck(spec["column"], params))
    columns = [c.column for c in out]
    if len(set(columns)) != len(columns):
        raise ConfigError("checks.seasonal: one entry per column")
    return tuple(out)


def _parse_multivariate(raw: Any) -> Mapping[str, Any] | None:
    """``checks.multivariate``: true, or the MultivariateDriftDetector's parameters."""
    import inspect

    from driftwise.detect.geometry import MultivariateDriftDetector

    if raw in (None, False):
        return None
    spec = {} if raw is True else _mapping(raw, "checks.multivariate")
    allowed = tuple(p for p in inspect.signature(MultivariateDriftDetector).parameters)
    _only(spec, allowed, "checks.multivariate")
    if "columns" in spec:
        spec["columns"] = list(_names(spec["columns"], "checks.multivariate.columns"))
    return spec


@dataclass(frozen=True)
class Checks:
    """Which checks run, with their settings."""

    feature_drift: DriftSettings | None = field(default_factory=DriftSettings)
    data_quality: bool = True
    prediction_drift: bool = True
    performance: tuple[str, ...] | None = None
    estimated_performance: tuple[str, ...] | None = None
    concept_drift: tuple[str, ...] | None = None
    bootstrap: int = 200
    stream: tuple[StreamCheck, ...] = ()
    multivariate: Mapping[str, Any] | None = None
    seasonal: tuple[SeasonalCheck, ...] = ()


@dataclass(frozen=True)
class MonitorConfig:
    """A validated Monitor configuration."""

    name: str
    task: str
    columns: Columns
    checks: Checks
    window_rows: int | None = None
    window_period: str | None = None
    min_rows: int = 100
    alerts: tuple[AlertRule, ...] = ()
    positive_class: str | None = None
    reference: str | None = None


def _parse_columns(raw: Any, task: str) -> Columns:
    cols = _mapping(raw, "columns")
    _only(cols, ("features", "prediction", "probabilities", "target", "id", "timestamp",
                 "segments"), "columns")
    for key in ("prediction", "target", "id", "timestamp"):
        if cols.get(key) is not None and not isinstance(cols[key], str):
            raise ConfigError(f"columns.{key}: expected a column name")
    raw_proba = cols.get("probabilities")
    classes: tuple[str, ...] = ()
    if isinstance(raw_proba, Mapping):
        if task != "multiclass":
            raise ConfigError("columns.probabilities: a class -> column mapping is for "
                              "multiclass models; a binary model names one column")
        classes = tuple(str(k) for k in raw_proba)
        probabilities = _names(list(raw_proba.values()), "columns.probabilities")
    else:
        probabilities = _names(raw_proba, "columns.probabilities")
        if task == "multiclass" and probabilities:
            raise ConfigError("columns.probabilities: a multiclass model maps each class to "
                              "its probability column, e.g. {A: p_A, B: p_B}")
    if task == "binary" and len(probabilities) > 1:
        raise ConfigError("columns.probabilities: a binary model has one probability column "
                          "(of the positive class)")
    if task == "regression" and probabilities:
        raise ConfigError("columns.probabilities: a regression model has no probabilities")
    if task != "regression" and cols.get("prediction") is None and not probabilities:
        raise ConfigError("columns: a classifier needs `prediction` or `probabilities`")
    return Columns(
        features=_names(cols.get("features"), "columns.features"),
        prediction=cols.get("prediction"), probabilities=probabilities,
        probability_classes=classes,
        target=cols.get("target"), id=cols.get("id"), timestamp=cols.get("timestamp"),
        segments=_names(cols.get("segments"), "columns.segments"),
    )


def _metric_list(value: Any, where: str, allowed: tuple[str, ...]) -> tuple[str, ...] | None:
    if value is False:
        return None
    if value is None or value is True:
        return allowed
    spec = _mapping(value, where)
    _only(spec, ("metrics", "enabled"), where)
    if spec.get("enabled") is False:
        return None
    names = _names(spec.get("metrics", list(allowed)), f"{where}.metrics")
    bad = sorted(set(names) - set(allowed))
    if bad:
        raise ConfigError(f"{where}.metrics: unknown metric(s) {', '.join(bad)}; known: "
                          f"{', '.join(allowed)}")
    return names


def _parse_checks(raw: Any, task: str) -> Checks:
    checks = _mapping(raw, "checks")
    _only(checks, ("feature_drift", "data_quality", "prediction_drift", "performance",
                   "estimated_performance", "concept_drift", "bootstrap", "stream",
                   "multivariate", "seasonal"), "checks")
    drift_raw = checks.get("feature_drift", True)
    if drift_raw is False:
        drift: DriftSettings | None = None
    else:
        drift = DriftSettings.from_mapping(_mapping(None if drift_raw is True else drift_raw,
                                                    "checks.feature_drift"),
                                           "checks.feature_drift")
    estimable = DLE_METRICS if task == "regression" else CBPE_METRICS
    concept_raw = checks.get("concept_drift")
    concept: tuple[str, ...] | None
    if concept_raw in (None, False):
        concept = None
    elif concept_raw is True:
        concept = ()
    else:
        spec = _mapping(concept_raw, "checks.concept_drift")
        _only(spec, ("features",), "checks.concept_drift")
        concept = _names(spec.get("features"), "checks.concept_drift.features")
    bootstrap = checks.get("bootstrap", 200)
    if not isinstance(bootstrap, int) or bootstrap < 0:
        raise ConfigError(f"checks.bootstrap: expected a non-negative integer, got {bootstrap!r}")
    for key in ("data_quality", "prediction_drift"):
        if not isinstance(checks.get(key, True), bool):
            raise ConfigError(f"checks.{key}: expected true or false")
    return Checks(
        feature_drift=drift, data_quality=checks.get("data_quality", True),
        prediction_drift=checks.get("prediction_drift", True),
        performance=_metric_list(checks.get("performance"), "checks.performance",
                                 DEFAULT_METRICS[task]),
        estimated_performance=_metric_list(checks.get("estimated_performance"),
                                           "checks.estimated_performance", estimable),
        concept_drift=concept, bootstrap=bootstrap, stream=_parse_stream(checks.get("stream")),
        multivariate=_parse_multivariate(checks.get("multivariate")),
        seasonal=_parse_seasonal(checks.get("seasonal")),
    )


def _parse_condition(raw: Any, where: str) -> tuple[str, float | bool]:
    if not isinstance(raw, str):
        raise ConfigError(f"{where}: expected a condition such as '< 0.75' or '== true'")
    text = raw.strip()
    for op in sorted(OPERATORS, key=len, reverse=True):
        if text.startswith(op):
            value = text[len(op):].strip()
            if value.lower() in ("true", "false"):
                return op, value.lower() == "true"
            try:
                return op, float(value)
            except ValueError:
                break
    raise ConfigError(f"{where}: cannot read condition {raw!r}; write an operator "
                      f"({' '.join(OPERATORS)}) and a number or true/false, e.g. '< 0.75'")


def _parse_alerts(raw: Any) -> tuple[AlertRule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError("alerts: expected a list of rules")
    rules = []
    for i, item in enumerate(raw):
        where = f"alerts[{i}]"
        spec = _mapping(item, where)
        _only(spec, ("name", "metric", "condition", "severity", "for"), where)
        if not isinstance(spec.get("metric"), str):
            raise ConfigError(f"{where}.metric: expected a metric name such as "
                              "'estimated.roc_auc'")
        op, threshold = _parse_condition(spec.get("condition"), f"{where}.condition")
        severity = spec.get("severity", "warning")
        if severity not in SEVERITIES:
            raise ConfigError(f"{where}.severity: expected warning or critical, got {severity!r}")
        rules.append(AlertRule(
            name=str(spec.get("name", spec["metric"])), metric=spec["metric"], operator=op,
            threshold=threshold, severity=severity,
            for_windows=_positive_int(spec.get("for", 1), f"{where}.for"),
        ))
    return tuple(rules)


def parse_monitor_config(data: Any, source: str = "monitor config") -> MonitorConfig:
    """Validate a configuration mapping; errors name the key and the file."""
    try:
        return _parse(data)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _parse(data: Any) -> MonitorConfig:
    top = _mapping(data, "top level")
    _only(top, ("model", "columns", "reference", "windows", "checks", "alerts"), "top level")
    model = _mapping(top.get("model"), "model")
    _only(model, ("name", "task", "positive_class"), "model")
    task = model.get("task")
    if task not in TASKS:
        raise ConfigError(f"model.task: expected one of {', '.join(TASKS)}, got {task!r}")
    windows = _mapping(top.get("windows"), "windows")
    _only(windows, ("rows", "period", "min_rows"), "windows")
    if "rows" in windows and "period" in windows:
        raise ConfigError("windows: give either `rows` or `period`, not both")
    rows = _positive_int(windows["rows"], "windows.rows") if "rows" in windows else None
    period = windows.get("period")
    if period is not None and not isinstance(period, str):
        raise ConfigError("windows.period: expected a period such as 'month', 'week', 'day'")
    columns = _parse_columns(top.get("columns"), task)
    if period is not None and columns.timestamp is None:
        raise ConfigError("windows.period needs columns.timestamp")
    checks = _parse_checks(top.get("checks"), task)
    if checks.seasonal and columns.timestamp is None:
        raise ConfigError("checks.seasonal needs columns.timestamp (each value is compared "
                          "with its season)")
    reference = top.get("reference")
    if reference is not None and not isinstance(reference, str):
        raise ConfigError("reference: expected a path")
    positive = model.get("positive_class")
    return MonitorConfig(
        name=str(model.get("name", "model")), task=task, columns=columns,
        checks=checks, window_rows=rows, window_period=period,
        min_rows=_positive_int(windows.get("min_rows", 100), "windows.min_rows"),
        alerts=_parse_alerts(top.get("alerts")),
        positive_class=None if positive is None else str(positive), reference=reference,
    )


def load_monitor_config(path: str | os.PathLike[str]) -> MonitorConfig:
    """Read and validate a YAML Monitor configuration file."""
    return parse_monitor_config(read_yaml(path), os.fspath(path))
