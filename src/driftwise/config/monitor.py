"""The Monitor's declarative configuration: what to watch for one model.

Parsed from YAML or a mapping into strict models; every error names the key path
(``checks.performance.metrics[0]``), what was expected and what was given. The format is
documented with a complete example in ``docs/monitor.md``; its JSON Schema is
``driftwise config schema``.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from driftwise.config._model import StrictModel, validate_mapping
from driftwise.config._yaml import read_yaml
from driftwise.config.response import ActionConfig, PolicyConfig
from driftwise.data.columns import category_label
from driftwise.detect.geometry.suite import MultivariateSection, section_values
from driftwise.detect.settings import DriftSettings
from driftwise.errors import ConfigError
from driftwise.expect.suite import ExpectationSuite, load_suite
from driftwise.performance.dle import DLE_METRICS
from driftwise.performance.estimation import CBPE_METRICS
from driftwise.performance.realized import DEFAULT_METRICS, TASKS
from driftwise.stream import ErrorIndicator, SeasonalBaseline
from driftwise.stream.factory import StreamDetectorSpec, make_detector

__all__ = [
    "AlertRule",
    "BusinessValue",
    "Checks",
    "Columns",
    "ConfidenceCheck",
    "EstimatedSpec",
    "MonitorConfig",
    "NewClusterCheck",
    "OutlierCheck",
    "ProbingCheck",
    "SeasonalCheck",
    "StreamCheck",
    "load_monitor_config",
    "parse_monitor_config",
]

SEVERITIES = ("warning", "critical")
OPERATORS = ("<", "<=", ">", ">=", "==", "!=")
PERIODS = ("hour", "day", "week", "month", "quarter", "year")
PositiveInt = Annotated[int, Field(ge=1)]


def _one_or_many(value: Any) -> Any:
    """A single column name where a list is expected stands for a list of one."""
    return [value] if isinstance(value, str) else value


def _switch(value: Any) -> Any:
    """``true`` is the section with its defaults; ``false`` (or nothing) turns it off."""
    if value is True:
        return {}
    if value is False:
        return None
    return value


class _NamedByMetric(StrictModel):
    """An entry with a ``metric``; without a ``name`` it is named by its metric."""

    @model_validator(mode="before")
    @classmethod
    def _named(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "name" not in data and isinstance(data.get("metric"),
                                                                          str):
            return {**data, "name": data["metric"]}
        return data


Names = Annotated[list[str], BeforeValidator(_one_or_many,
                                             json_schema_input_type=str | list[str])]


def switchable(model: Any) -> Any:
    """``model | None`` that also accepts ``true`` (its defaults) and ``false`` (off)."""
    return Annotated[model | None, BeforeValidator(_switch,
                                                   json_schema_input_type=bool | model | None)]


class ModelSpec(StrictModel):
    """``model:``: the model's name, task and positive class, and the models it consumes
    (``upstream``: feature providers, embeddings, scores). In the service an alert of this
    model that opens within ``upstream_window_s`` after one of an upstream model (directly
    or further up) joins that alert's incident instead of paging on its own; its own first
    page waits ``upstream_wait_s`` for such a cause."""

    name: str = "model"
    task: Literal[TASKS]  # type: ignore[valid-type]
    positive_class: Annotated[str | None, BeforeValidator(
        lambda v: category_label(v) if isinstance(v, int | float | bool) else v,
        json_schema_input_type=str | int | bool | None)] = None
    upstream: Names = Field(default_factory=list)
    upstream_window_s: Annotated[float, Field(ge=0.0, le=30 * 86_400.0,
                                              allow_inf_nan=False)] = 3600.0
    # How long this model's own first page waits for an upstream alert to take it in.
    upstream_wait_s: Annotated[float, Field(ge=0.0, le=3600.0, allow_inf_nan=False)] = 30.0

    @model_validator(mode="after")
    def _upstream(self) -> ModelSpec:
        seen = set()
        for name in self.upstream:
            if not name or name != name.strip():
                raise ValueError(f"upstream: {name!r} is not a model name")
            if name == self.name:
                raise ValueError(f"upstream: model {name!r} cannot consume itself")
            if name in seen:
                raise ValueError(f"upstream: {name!r} is listed twice")
            seen.add(name)
        return self


def _probabilities(value: Any) -> Any:
    """One column, a list of them, or a class -> column mapping (labels as everywhere)."""
    value = _one_or_many(value)
    if value is not None and not isinstance(value, list | dict):
        raise ValueError(f"expected a column name, a list of them or a class -> column "
                         f"mapping, got {value!r}")
    if isinstance(value, dict):
        return {category_label(k): v for k, v in value.items()}
    return value


class Columns(StrictModel):
    """``columns:``: which columns play which role."""

    features: Names = Field(default_factory=list)
    prediction: str | None = None
    probabilities: Annotated[list[str] | dict[str, str] | None, BeforeValidator(
        _probabilities, json_schema_input_type=str | list[str] | dict[str, str] | None)] = None
    target: str | None = None
    id: str | None = None
    timestamp: str | None = None
    segments: Names = Field(default_factory=list)

    @property
    def probability_columns(self) -> tuple[str, ...]:
        """The probability column(s), in the order given."""
        p = self.probabilities
        return tuple(p.values()) if isinstance(p, dict) else tuple(p or ())

    @property
    def probability_classes(self) -> tuple[str, ...]:
        """The class of each probability column (multiclass), else ``()``."""
        p = self.probabilities
        return tuple(str(k) for k in p) if isinstance(p, dict) else ()


class Windows(StrictModel):
    """``windows:``: how a frame is split, and how small a window may be."""

    rows: PositiveInt | None = None
    period: Literal[PERIODS] | None = None  # type: ignore[valid-type]
    min_rows: PositiveInt = 100

    @model_validator(mode="after")
    def _one_way(self) -> Windows:
        if self.rows is not None and self.period is not None:
            raise ValueError("give either `rows` or `period`, not both")
        return self


class MetricsSpec(StrictModel):
    """A metrics check: ``true``/``false``, or ``{metrics: [...], enabled: ...}``."""

    metrics: Names | None = None
    enabled: bool = True


class EstimatedSpec(MetricsSpec):
    """``checks.estimated_performance``: the metrics, whether to calibrate the scores first
    (``auto``: where the reference's held-out calibration error says it helps), and the
    half-width of each estimate's band in standard deviations."""

    calibrate: bool | Literal["auto"] = "auto"
    band_sigmas: Annotated[float, Field(gt=0.0, le=10.0, allow_inf_nan=False)] = 3.0


Amount = Annotated[float, Field(allow_inf_nan=False)]
Cost = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class BinaryValues(StrictModel):
    """The value of each outcome of a binary prediction (a gain positive, a loss negative)."""

    tp: Amount = 0.0
    fp: Amount = 0.0
    fn: Amount = 0.0
    tn: Amount = 0.0


class ErrorCosts(StrictModel):
    """A regressor's cost per unit of error: ``over`` (prediction above the truth) and
    ``under``; asymmetric where one direction hurts more."""

    over: Cost = 1.0
    under: Cost = 1.0


class BusinessValue(StrictModel):
    """``business_value:``: what the model's outcomes are worth (docs/impact.md).

    A binary classifier gives ``matrix: {tp, fp, fn, tn}``; a multiclass one a mapping true
    class -> predicted class -> value (pairs left out are worth 0); a regressor
    ``cost_per_unit: {over, under}``. Values are reported per ``per`` predictions, in
    ``unit``."""

    matrix: BinaryValues | dict[str, dict[str, Amount]] | None = None
    cost_per_unit: ErrorCosts | None = None
    per: PositiveInt = 1000
    unit: str = ""

    @model_validator(mode="after")
    def _one_kind(self) -> BusinessValue:
        if (self.matrix is None) == (self.cost_per_unit is None):
            raise ValueError("give `matrix` (a classifier's outcome values) or "
                             "`cost_per_unit` (a regressor's error costs)")
        return self


class ConceptSpec(StrictModel):
    """``checks.concept_drift``: ``true``, or ``{features: [...]}``."""

    features: Names = Field(default_factory=list)


def _indicator_fields() -> type[StrictModel]:
    from driftwise.config._model import signature_model

    return signature_model(
        "ErrorIndicatorSpec", ErrorIndicator,
        doc="`binarize`: an error is a value above `above` or below `below`, or more than `z` "
            "in-control sds from the in-control mean (`mean`/`std`, or learned from the "
            "reference windows).")


ErrorIndicatorSpec = _indicator_fields()
#: Detectors that take 0/1 errors, and so the only ones ``binarize`` can feed.
ERROR_STREAM_DETECTORS = ("ddm", "eddm")


class StreamCheck(_NamedByMetric):
    """A sequential detector fed one value of ``metric`` per window (``binarize``: turned
    into a 0/1 error first, for DDM and EDDM)."""

    name: str = ""
    metric: str
    detector: StreamDetectorSpec
    binarize: ErrorIndicatorSpec | None = None  # type: ignore[valid-type]

    @field_validator("binarize", mode="after")
    @classmethod
    def _indicator_buildable(cls, value: Any) -> Any:
        if value is not None:
            try:
                ErrorIndicator(**value.model_dump(exclude_unset=True))
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _binarize_feeds_errors(self) -> StreamCheck:
        kind = self.detector.type
        if self.binarize is not None and kind not in ERROR_STREAM_DETECTORS:
            raise ValueError(f"binarize turns {self.metric!r} into the 0/1 errors of an "
                             f"error-stream detector ({', '.join(ERROR_STREAM_DETECTORS)}); a "
                             f"{kind} detector takes the value itself: drop binarize")
        return self

    def error_indicator(self) -> ErrorIndicator | None:
        """A new :class:`ErrorIndicator` from ``binarize`` (None without it)."""
        if self.binarize is None:
            return None
        return ErrorIndicator(**self.binarize.model_dump(exclude_unset=True))


    @field_validator("detector", mode="after")
    @classmethod
    def _buildable(cls, value: Any) -> Any:
        try:
            make_detector(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def detector_spec(self) -> dict[str, Any]:
        """The detector as a ``{type, **parameters}`` mapping."""
        spec: dict[str, Any] = self.detector.model_dump(exclude_unset=True)
        spec["type"] = self.detector.type
        return spec


def _seasonal_fields() -> type[StrictModel]:
    from driftwise.config._model import signature_model

    return signature_model(
        "SeasonalCheck", SeasonalBaseline, doc="A seasonal baseline of one numeric column.",
        column=(str, ...))


_SeasonalBase = _seasonal_fields()


class SeasonalCheck(_SeasonalBase):  # type: ignore[misc, valid-type]
    """``checks.seasonal[i]``: a :class:`SeasonalBaseline` of one column."""

    @model_validator(mode="before")
    @classmethod
    def _no_burst(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("burst") is False:
            return {**data, "burst": None}
        return data

    @model_validator(mode="after")
    def _buildable(self) -> SeasonalCheck:
        try:
            SeasonalBaseline(**self.params)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return self

    @property
    def params(self) -> dict[str, Any]:
        """The baseline's parameters (those set)."""
        values: dict[str, Any] = self.model_dump(exclude_unset=True, exclude={"column"})
        return values


#: The outlier detectors ``checks.outliers.detector`` can name.
OUTLIER_DETECTORS = ("isolation_forest", "mahalanobis", "knn")


class OutlierCheck(StrictModel):
    """``checks.outliers``: an outlier detector on the features (or ``columns``), its
    p-values calibrated on held-out reference rows (docs/outliers.md). Per window: the share
    of rows with ``p <= alpha`` and the p-value of that many under ``alpha``; in the
    service, what ``/screen`` judges records with: ``p <= quarantine_alpha`` is
    quarantined, ``p <= alpha`` sent for review, the rest allowed. Without
    ``quarantine_alpha``, a record is quarantined when it is more outlying than every
    calibration row of the reference (its p-value is the smallest there is)."""

    # kNN by default: it sees a value far beyond the reference's range in one feature, which
    # an Isolation Forest scores like the reference's own extremes (docs/outliers.md).
    detector: Literal[OUTLIER_DETECTORS] = "knn"  # type: ignore[valid-type]
    alpha: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.01
    quarantine_alpha: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None
    calibration: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    columns: list[str] | None = None
    seed: int = 0

    @model_validator(mode="after")
    def _ordered(self) -> OutlierCheck:
        if self.quarantine_alpha is not None and self.quarantine_alpha > self.alpha:
            raise ValueError(f"quarantine_alpha ({self.quarantine_alpha}) must not exceed "
                             f"alpha ({self.alpha}): quarantine is the stricter verdict")
        return self


class ConfidenceCheck(StrictModel):
    """``checks.confidence``: has the model's confidence (top-1 minus top-2 probability)
    fallen in this window against the reference's? A one-sided Mann-Whitney test at
    ``alpha`` and a relative drop of the mean margin of at least ``min_drop``; the share of
    predictions whose margin is improbably low (lower-tail p-value at most ``low_level``)."""

    alpha: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.01
    min_drop: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.05
    low_level: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.01


class ProbingCheck(StrictModel):
    """``checks.probing``: in the service's ``/screen``, per client key, many near-duplicate
    queries walking to the decision boundary (a black-box attack's footprint) quarantine the
    key's queries (docs/outliers.md, QueryProbingDetector)."""

    window_s: Annotated[float, Field(gt=0.0, le=86_400.0)] = 600.0
    max_queries: Annotated[int, Field(ge=2, le=1000)] = 32
    max_keys: Annotated[int, Field(ge=2, le=1_000_000)] = 10_000
    duplicate_quantile: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.001
    min_duplicates: Annotated[int, Field(ge=2)] = 8
    trend_alpha: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.01
    boundary_margin: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.1

    @model_validator(mode="after")
    def _fits(self) -> ProbingCheck:
        if self.min_duplicates > self.max_queries:
            raise ValueError(f"min_duplicates ({self.min_duplicates}) cannot exceed "
                             f"max_queries ({self.max_queries})")
        return self


class NewClusterCheck(StrictModel):
    """``checks.new_clusters``: dense groups of a window's rows where the reference has
    little mass (docs/outliers.md, NewClusterDetector), on the features or ``columns``."""

    k: Annotated[int, Field(ge=2, le=100)] = 10
    alpha: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.01
    min_size: Annotated[int, Field(ge=2)] = 20
    max_rows: Annotated[int, Field(ge=100, le=100_000)] = 5000
    columns: list[str] | None = None
    seed: int = 0


class Checks(StrictModel):
    """``checks:``: which checks run, with their settings."""

    feature_drift: switchable(DriftSettings) = Field(  # type: ignore[valid-type]
        default_factory=DriftSettings)
    data_quality: bool = True
    prediction_drift: bool = True
    performance: switchable(MetricsSpec) = Field(  # type: ignore[valid-type]
        default_factory=MetricsSpec)
    estimated_performance: switchable(EstimatedSpec) = Field(  # type: ignore[valid-type]
        default_factory=EstimatedSpec)
    concept_drift: switchable(ConceptSpec) = None  # type: ignore[valid-type]
    bootstrap: Annotated[int, Field(ge=0)] = 200
    stream: list[StreamCheck] = Field(default_factory=list)
    multivariate: MultivariateSection = None
    seasonal: list[SeasonalCheck] = Field(default_factory=list)
    outliers: switchable(OutlierCheck) = None  # type: ignore[valid-type]
    confidence: switchable(ConfidenceCheck) = None  # type: ignore[valid-type]
    probing: switchable(ProbingCheck) = None  # type: ignore[valid-type]
    new_clusters: switchable(NewClusterCheck) = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _distinct(self) -> Checks:
        names = [c.name for c in self.stream]
        if len(set(names)) != len(names):
            raise ValueError("checks.stream: give each entry a distinct name")
        columns = [c.column for c in self.seasonal]
        if len(set(columns)) != len(columns):
            raise ValueError("checks.seasonal: one entry per column")
        return self


def parse_condition(text: str) -> tuple[str, float | bool]:
    """``'< 0.75'`` -> ``('<', 0.75)``; ``'== true'`` -> ``('==', True)``."""
    stripped = text.strip()
    for op in sorted(OPERATORS, key=len, reverse=True):
        if stripped.startswith(op):
            value = stripped[len(op):].strip()
            if value.lower() in ("true", "false"):
                return op, value.lower() == "true"
            try:
                number = float(value)
            except ValueError:
                break
            if number != number or number in (float("inf"), float("-inf")):
                break
            return op, number
    raise ValueError(f"cannot read condition {text!r}; write an operator "
                     f"({' '.join(OPERATORS)}) and a number or true/false, e.g. '< 0.75'")


class AlertRule(_NamedByMetric):
    """Fire when ``metric`` satisfies ``condition`` for ``for`` consecutive windows."""

    name: str = ""
    metric: str
    condition: str
    severity: Literal[SEVERITIES] = "warning"  # type: ignore[valid-type]
    for_windows: PositiveInt = Field(1, alias="for")
    # The alert's lifecycle in the service (driftwise.act.lifecycle; docs/alerts.md): the
    # looser condition that resolves it (default: the condition's negation), for how many
    # windows in a row, and how long after it resolved a new firing reopens it.
    clear: str | None = None
    clear_for: PositiveInt = 1
    cooldown_s: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = 0.0
    # The automated response when the alert opens (docs/response.md): the named
    # ``actions`` to run, and whether the retraining ``policy`` decides what else to run.
    actions: list[str] = Field(default_factory=list)
    policy: bool = False

    @field_validator("condition", mode="after")
    @classmethod
    def _readable(cls, value: str) -> str:
        parse_condition(value)
        return value

    @field_validator("clear", mode="after")
    @classmethod
    def _readable_clear(cls, value: str | None) -> str | None:
        if value is not None:
            parse_condition(value)
        return value

    @property
    def operator(self) -> str:
        """The comparison operator of the condition."""
        return parse_condition(self.condition)[0]

    @property
    def threshold(self) -> float | bool:
        """The number (or boolean) the metric is compared with."""
        return parse_condition(self.condition)[1]


_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "==": operator.eq, "!=": operator.ne}
_NEGATION = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


class SLO(_NamedByMetric):
    """A service-level objective on a window metric: each window is good when ``metric``
    meets ``objective`` (e.g. ``ops.latency_ms.p99`` ``<= 100``, ``performance.precision``
    ``>= 0.85``, ``estimated.roc_auc`` ``>= 0.8``), and ``target`` of the windows of the
    compliance period (the last ``period_windows``) must be good. A window that misses it
    raises the SLO's breach alert (rule ``slo:<name>``, ``critical`` unless set, with the
    lifecycle's ``for``, ``clear_for`` and ``cooldown_s``); the error budget and its burn
    rate are reported by the service (docs/alerts.md)."""

    name: str = ""
    metric: str
    objective: str
    target: Annotated[float, Field(gt=0.0, lt=1.0, allow_inf_nan=False)] = 0.95
    period_windows: Annotated[int, Field(ge=2, le=10_000)] = 28
    # The short window of the burn rate (Google SRE Workbook, ch. 5: a fast window next to
    # the budget's period shows a budget spent quickly).
    burn_windows: Annotated[int, Field(ge=1, le=10_000)] = 4
    severity: Literal[SEVERITIES] = "critical"  # type: ignore[valid-type]
    for_windows: PositiveInt = Field(1, alias="for")
    clear_for: PositiveInt = 1
    cooldown_s: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = 0.0
    actions: list[str] = Field(default_factory=list)  # run when the breach alert opens
    policy: bool = False

    @field_validator("objective", mode="after")
    @classmethod
    def _readable(cls, value: str) -> str:
        if isinstance(parse_condition(value)[1], bool):
            raise ValueError(f"an SLO's objective compares a number, not true/false: "
                             f"{value!r}")
        return value

    @model_validator(mode="after")
    def _periods(self) -> SLO:
        if self.burn_windows > self.period_windows:
            raise ValueError(f"burn_windows ({self.burn_windows}) cannot exceed "
                             f"period_windows ({self.period_windows})")
        return self

    @property
    def rule_name(self) -> str:
        """The name of the SLO's breach alert rule."""
        return f"slo:{self.name}"

    def met(self, value: float) -> bool:
        """Whether a window's ``value`` meets the objective."""
        op, threshold = parse_condition(self.objective)
        return bool(_COMPARE[op](float(value), float(threshold)))

    def breach_rule(self) -> AlertRule:
        """The alert rule that fires on a window missing the objective; it clears when the
        objective is met again."""
        op, threshold = parse_condition(self.objective)
        return AlertRule.model_validate({
            "name": self.rule_name, "metric": self.metric,
            "condition": f"{_NEGATION[op]} {threshold!r}", "severity": self.severity,
            "for": self.for_windows, "clear": self.objective, "clear_for": self.clear_for,
            "cooldown_s": self.cooldown_s, "actions": self.actions, "policy": self.policy})


class MonitorConfig(StrictModel):
    """A validated Monitor configuration (``docs/monitor.md``)."""

    model: ModelSpec
    columns: Columns = Field(default_factory=Columns)
    reference: str | None = None
    windows: Windows = Field(default_factory=Windows)
    checks: Checks = Field(default_factory=Checks)
    alerts: list[AlertRule] = Field(default_factory=list)
    slos: list[SLO] = Field(default_factory=list)
    actions: list[ActionConfig] = Field(default_factory=list)
    policy: PolicyConfig | None = None
    business_value: BusinessValue | None = None
    # Data expectations checked on every window (docs/expectations.md): a suite inline, or
    # the path of a suite file (relative to the config file's folder).
    expectations: ExpectationSuite | str | None = None

    @model_validator(mode="after")
    def _coherent(self) -> MonitorConfig:
        task, c = self.model.task, self.columns
        names = [a.name for a in self.alert_rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"alerts/slos: rule name {twice[0]!r} is used twice; each "
                             f"alert rule and SLO (rule slo:<name>) needs its own name")
        self._check_response()
        self._check_value()
        if isinstance(c.probabilities, dict) and task != "multiclass":
            raise ValueError("columns.probabilities: a class -> column mapping is for "
                             "multiclass models; a binary model names one column")
        if isinstance(c.probabilities, dict) and len(c.probabilities) < 2:
            raise ValueError("columns.probabilities: a multiclass model maps each of its "
                             "classes (at least two) to a probability column")
        if task == "multiclass" and isinstance(c.probabilities, list) and c.probabilities:
            raise ValueError("columns.probabilities: a multiclass model maps each class to "
                             "its probability column, e.g. {A: p_A, B: p_B}")
        if task == "binary" and len(c.probability_columns) > 1:
            raise ValueError("columns.probabilities: a binary model has one probability "
                             "column (of the positive class)")
        if task == "regression" and c.probability_columns:
            raise ValueError("columns.probabilities: a regression model has no probabilities")
        if task != "regression" and c.prediction is None and not c.probability_columns:
            raise ValueError("columns: a classifier needs `prediction` or `probabilities`")
        if self.windows.period is not None and c.timestamp is None:
            raise ValueError("windows.period needs columns.timestamp")
        if self.checks.seasonal and c.timestamp is None:
            raise ValueError("checks.seasonal needs columns.timestamp (each value is compared "
                             "with its season)")
        for section, allowed in (("performance", DEFAULT_METRICS[task]),
                                 ("estimated_performance", self._estimable)):
            spec = getattr(self.checks, section)
            bad = [m for m in (spec.metrics or []) if m not in allowed] if spec else []
            if bad:
                raise ValueError(f"checks.{section}.metrics: unknown metric(s) "
                                 f"{', '.join(bad)} for a {task} model; known: "
                                 f"{', '.join(allowed)}")
        return self

    def _check_response(self) -> None:
        actions = [a.name for a in self.actions]
        twice = sorted({n for n in actions if actions.count(n) > 1})
        if twice:
            raise ValueError(f"actions: name {twice[0]!r} is used twice")
        known = set(actions)
        bound = [(f"alerts[{i}].actions", a) for i, rule in enumerate(self.alerts)
                 for a in rule.actions]
        bound += [(f"slos[{i}].actions", a) for i, slo in enumerate(self.slos)
                  for a in slo.actions]
        if self.policy is not None:
            bound += [(f"policy.{d}", a) for d in ("recalibrate", "retrain")
                      for a in getattr(self.policy, d)]
        for where, name in bound:
            if name not in known:
                raise ValueError(f"{where}: no action named {name!r} under actions"
                                 + (f" (known: {', '.join(sorted(known))})" if known else ""))
        asks = [(f"alerts[{i}]", r.policy) for i, r in enumerate(self.alerts)] + \
            [(f"slos[{i}]", s.policy) for i, s in enumerate(self.slos)]
        for where, policy in asks:
            if policy and self.policy is None:
                raise ValueError(f"{where}.policy: true needs a policy section (its "
                                 "thresholds and the actions of each decision)")
        if self.policy is not None and self.policy.metric not in DEFAULT_METRICS[
                self.model.task]:
            raise ValueError(f"policy.metric: {self.policy.metric!r} is not a metric of a "
                             f"{self.model.task} model; known: "
                             f"{', '.join(DEFAULT_METRICS[self.model.task])}")

    def _check_value(self) -> None:
        v, task = self.business_value, self.model.task
        if v is None:
            if self.policy is not None and self.policy.value_loss is not None:
                raise ValueError("policy.value_loss needs a business_value section (what the "
                                 "model's outcomes are worth)")
            return
        if task == "regression" and v.cost_per_unit is None:
            raise ValueError("business_value: a regression model gives cost_per_unit: "
                             "{over, under}")
        if task != "regression" and v.matrix is None:
            raise ValueError("business_value: a classifier gives matrix (binary: "
                             "{tp, fp, fn, tn}; multiclass: true class -> predicted class "
                             "-> value)")
        if task == "binary" and not isinstance(v.matrix, BinaryValues):
            raise ValueError("business_value.matrix: a binary model gives {tp, fp, fn, tn}")
        if task == "multiclass" and isinstance(v.matrix, BinaryValues):
            raise ValueError("business_value.matrix: a multiclass model maps each true class "
                             "to {predicted class: value}")
        if task != "regression" and self.columns.target is None:
            raise ValueError("business_value needs columns.target: the reference's labels "
                             "give its baseline and the estimate's calibration")

    def value_matrix(self, classes: tuple[str, ...]) -> Any:
        """The k x k value matrix (rows: true class, columns: predicted, in ``classes``
        order), or ``None``; a multiclass matrix naming an unknown class is an error."""
        import numpy as np

        v = self.business_value
        if v is None or v.matrix is None:
            return None
        if isinstance(v.matrix, BinaryValues):
            m = v.matrix
            return np.array([[m.tn, m.fp], [m.fn, m.tp]], dtype=np.float64)
        index = {c: i for i, c in enumerate(classes)}
        out = np.zeros((len(classes), len(classes)))
        for true, row in v.matrix.items():
            for pred, amount in row.items():
                unknown = [c for c in (true, pred) if category_label(c) not in index]
                if unknown:
                    raise ConfigError(f"business_value.matrix: class {unknown[0]!r} is not a "
                                      f"class of the model ({', '.join(classes)})")
                out[index[str(category_label(true))], index[str(category_label(pred))]] = \
                    amount
        return out

    def action(self, name: str) -> ActionConfig:
        """The action named ``name`` (``KeyError`` when there is none)."""
        for found in self.actions:
            if found.name == name:
                return found
        raise KeyError(name)

    # -- resolved views the Monitor reads ------------------------------------------
    @property
    def alert_rules(self) -> list[AlertRule]:
        """The ``alerts`` and each SLO's breach rule, the rules windows are checked with."""
        return [*self.alerts, *(slo.breach_rule() for slo in self.slos)]

    @property
    def _estimable(self) -> tuple[str, ...]:
        return DLE_METRICS if self.model.task == "regression" else CBPE_METRICS

    @property
    def name(self) -> str:
        """The model's name."""
        return self.model.name

    @property
    def task(self) -> str:
        """``binary``, ``multiclass`` or ``regression``."""
        return str(self.model.task)

    @property
    def positive_class(self) -> str | None:
        """The positive class label of a binary model, if configured."""
        return self.model.positive_class

    @property
    def window_rows(self) -> int | None:
        """Rows per window, when windows are row counts."""
        return self.windows.rows

    @property
    def window_period(self) -> str | None:
        """The calendar period of a window, when windows are periods."""
        return self.windows.period

    @property
    def min_rows(self) -> int:
        """Fewer rows than this make a window ``insufficient_data``."""
        return self.windows.min_rows

    @property
    def feature_drift(self) -> DriftSettings | None:
        """Settings of the feature-drift check, or ``None`` when it is off."""
        settings: DriftSettings | None = self.checks.feature_drift
        return settings

    def _metrics(self, spec: MetricsSpec | None, allowed: tuple[str, ...]) -> (
        tuple[str, ...] | None
    ):
        if spec is None or not spec.enabled:
            return None
        return tuple(spec.metrics) if spec.metrics is not None else allowed

    @property
    def performance_metrics(self) -> tuple[str, ...] | None:
        """Realized metrics computed on labelled rows, or ``None`` when off."""
        return self._metrics(self.checks.performance, DEFAULT_METRICS[self.model.task])

    @property
    def estimated_metrics(self) -> tuple[str, ...] | None:
        """Metrics estimated without labels (CBPE / DLE), or ``None`` when off.

        On by default when the model has a target column (the estimators learn from the
        reference's labels); a configuration that asks for it without one is an error.
        """
        if "estimated_performance" not in self.checks.model_fields_set and \
                self.columns.target is None:
            return None
        return self._metrics(self.checks.estimated_performance, self._estimable)

    @property
    def estimation(self) -> EstimatedSpec:
        """The estimated-performance settings (calibration, band width), defaults if off."""
        spec = self.checks.estimated_performance
        return spec if isinstance(spec, EstimatedSpec) else EstimatedSpec()

    def expectation_suite(self) -> ExpectationSuite | None:
        """The expectation suite, read from its file when the config names one."""
        if isinstance(self.expectations, str):
            return load_suite(self.expectations)
        return self.expectations

    @property
    def concept_features(self) -> tuple[str, ...] | None:
        """Features of the concept-drift relation tests (``()``: all), or ``None``."""
        spec = self.checks.concept_drift
        return None if spec is None else tuple(spec.features)

    @property
    def multivariate(self) -> dict[str, Any] | None:
        """The multivariate check's parameters, or ``None`` when off."""
        values = section_values(self.checks.multivariate)
        if values is None or not values.pop("enabled", True):
            return None
        return values


def parse_monitor_config(data: Any, source: str = "monitor config") -> MonitorConfig:
    """Validate a configuration mapping; errors name the file and the key."""
    return validate_mapping(MonitorConfig, data, source)


def load_monitor_config(path: str | os.PathLike[str]) -> MonitorConfig:
    """Read and validate a YAML Monitor configuration file (an ``expectations`` file path in
    it is read relative to the file's folder)."""
    data = read_yaml(path)
    if isinstance(data, Mapping) and isinstance(data.get("expectations"), str):
        suite = os.path.join(os.path.dirname(os.path.abspath(os.fspath(path))),
                             data["expectations"])
        data = {**data, "expectations": suite}
    return parse_monitor_config(data, os.fspath(path))
