"""The Prometheus exposition of ``/metrics``: each model's newest window and its totals.

Rendered from the store at each scrape (:mod:`driftwise.store.exposition`), so it is the
same from every uvicorn worker and every server on one database, and no counter restarts
with a process. Names follow Prometheus' conventions: a ``driftwise_`` prefix, base units
(seconds, ratios in [0, 1]), ``_total`` on counters. Labels are bounded: ``model``,
``feature`` (the reference's columns), ``metric`` and ``detector`` (names from the model's
configuration), ``slo``, ``severity``, ``quantile`` — never a record id, a client key or a segment
value. docs/alerts.md lists every family and its cardinality.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine

from driftwise import __version__
from driftwise.app.evaluation import LATENCY_BOUNDS_S
from driftwise.app.slo import SLOStatus, fleet_slos
from driftwise.monitor.metric_names import entries
from driftwise.store.alerts import open_counts
from driftwise.store.exposition import ModelFigures, figures

__all__ = ["DURATION_BOUNDS_S", "render"]

#: Upper bounds (seconds) of the evaluation-duration histogram.
DURATION_BOUNDS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
SEVERITIES = ("warning", "critical")

# (family suffix, help, section, field) of per-feature gauges of the newest window.
_FEATURE = (
    ("feature_drift_p_value", "Drift test p-value of the feature (newest window).",
     "drift.columns", "p_value"),
    ("feature_drift_p_value_adjusted", "Drift p-value after the multiple-test correction.",
     "drift.columns", "p_value_adjusted"),
    ("feature_drift_statistic", "Drift test statistic of the feature.", "drift.columns",
     "statistic"),
    ("feature_drift_effect", "Drift effect size of the feature (its test's effect).",
     "drift.columns", "effect"),
    ("feature_drift_detected", "1 when the feature drifted (significant and large enough).",
     "drift.columns", "drift_detected"),
    ("quality_missing_ratio", "Share of missing values of the feature.", "quality.columns",
     "missing_share"),
    ("quality_out_of_range_ratio", "Share of values outside the reference's range.",
     "quality.columns", "out_of_range_share"),
    ("quality_new_category_ratio", "Share of categories the reference never had.",
     "quality.columns", "new_category_share"),
)
# (family suffix, help, metric) of per-model gauges of the newest window.
_MODEL = (
    ("dataset_drift_share", "Share of the features that drifted.", "drift.dataset.share"),
    ("dataset_drifted_features", "Features that drifted.", "drift.dataset.drifted_columns"),
    ("dataset_drift_detected", "1 when the dataset drifted.", "drift.dataset.drift_detected"),
    ("multivariate_drift_detected", "1 when the joint (multivariate) test found drift.",
     "multivariate.drift_detected"),
    ("concept_drift_detected", "1 when a feature's relation to the target changed.",
     "concept.relation_changed"),
    ("performance_labelled_rows", "Rows of the window with a label.",
     "performance.labelled_rows"),
    ("model_server_error_ratio", "Share of the window's predictions the model server "
     "flagged as errors.", "ops.error_share"),
    ("throughput_records_per_second", "Records per second over the window's time span.",
     "ops.throughput_per_s"),
    ("prediction_confidence_mean", "Mean confidence of the window's predictions.",
     "ops.confidence.mean"),
    ("window_rows", "Rows in the newest window.", "ops.rows"),
)
_PREDICTION = ("psi", "jensenshannon", "ks_p_value", "wasserstein_normed", "mean",
               "mean_confidence", "mean_confidence_change", "class_mix_p_value",
               "class_mix_tvd")
_CONFIDENCE = (("0.1", "ops.confidence.p10"), ("0.5", "ops.confidence.p50"))
_LATENCY_PREFIX = "ops.latency_seconds."
_ERRORS = "ops.errors"


class _Family:
    """One metric family being filled: its samples, then a prometheus-client ``Metric``."""

    def __init__(self, name: str, kind: str, doc: str) -> None:
        self.name, self.kind, self.doc = f"driftwise_{name}", kind, doc
        self.samples: list[tuple[str, dict[str, str], float]] = []

    def add(self, labels: Mapping[str, str], value: Any, suffix: str = "") -> None:
        number = _number(value)
        if number is not None:
            self.samples.append((self.name + suffix, dict(labels), number))

    def metric(self) -> Any:
        from prometheus_client.metrics_core import Metric

        # A counter family is named without its ``_total``; its samples carry it.
        family = Metric(self.name.removesuffix("_total") if self.kind == "counter"
                        else self.name, self.doc, self.kind)
        for name, labels, value in self.samples:
            family.add_sample(name, labels, value)
        return family


class _Collector:
    def __init__(self, families: list[_Family]) -> None:
        self.families = families

    def collect(self) -> Iterator[Any]:
        return (f.metric() for f in self.families if f.samples)


def render(engine: Engine, only: Collection[str] | None = None) -> tuple[bytes, str]:
    """The exposition of every model in the store (``only``: of these models), and its
    content type (Prometheus text format 0.0.4, rendered by prometheus-client)."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

    models = [f for f in figures(engine, DURATION_BOUNDS_S, (_LATENCY_PREFIX, _ERRORS))
              if only is None or f.name in only]
    opened = open_counts(engine)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector([*_families(models, opened),
                                  *_slo_families(fleet_slos(engine, only))]))
    return generate_latest(registry), CONTENT_TYPE_PLAIN_0_0_4


def _slo_families(slos: Mapping[str, Sequence[SLOStatus]]) -> Iterable[_Family]:
    """Each SLO's standing (label ``slo``: the names in the models' configurations)."""
    families = {
        "target": _Family("slo_target_ratio", "gauge",
                          "Share of windows the SLO requires to meet its objective."),
        "met": _Family("slo_objective_met", "gauge",
                       "1 when the newest window with the metric met the SLO's objective."),
        "compliance": _Family("slo_compliance_ratio", "gauge",
                              "Share of the compliance period's windows that met it."),
        "remaining": _Family("slo_error_budget_remaining_ratio", "gauge",
                             "Share of the error budget left over the compliance period "
                             "(negative once overspent)."),
        "burn": _Family("slo_burn_rate", "gauge",
                        "Error-budget burn rate over the SLO's newest burn_windows windows "
                        "(1 spends the budget exactly over the period)."),
        "windows": _Family("slo_period_windows", "gauge",
                           "Windows of the compliance period that have the metric."),
    }
    for model, statuses in slos.items():
        for st in statuses:
            who = {"model": model, "slo": st.name}
            families["target"].add(who, st.target)
            families["met"].add(who, st.latest_met)
            families["compliance"].add(who, st.compliance)
            families["remaining"].add(who, st.budget_remaining)
            families["burn"].add(who, st.burn_rate)
            families["windows"].add(who, st.windows)
    return families.values()


def _families(models: list[ModelFigures], opened: Mapping[str, Mapping[str, int]]
              ) -> Iterable[_Family]:
    info = _Family("build_info", "gauge", "driftwise's version (always 1).")
    info.add({"version": __version__}, 1)
    count = _Family("models", "gauge", "Registered models.")
    count.add({}, len(models))
    yield from (info, count)

    counters = {
        "records": _Family("records_ingested_total", "counter",
                           "Prediction records accepted (durably stored)."),
        "batches": _Family("ingest_batches_total", "counter",
                           "Stored batches (one per ingest transaction)."),
        "labels": _Family("labelled_records_total", "counter",
                          "Records that received a label."),
        "windows": _Family("windows_evaluated_total", "counter", "Windows evaluated."),
        "errors": _Family("model_server_errors_total", "counter",
                          "Predictions the model server flagged as errors (evaluated "
                          "windows)."),
    }
    duration = _Family("evaluation_duration_seconds", "histogram",
                       "Time to evaluate one window.")
    latency = _Family("model_server_latency_seconds", "histogram",
                      "Latency the model server reported per prediction (evaluated "
                      "windows).")
    last = _Family("last_evaluation_timestamp_seconds", "gauge",
                   "When the newest window was evaluated (Unix time).")
    window = _Family("last_window", "gauge", "Number of the newest evaluated window.")
    alerts = _Family("alerts_firing", "gauge",
                     "Alert rules firing in the newest window, by severity.")
    open_alerts = _Family("alerts_open", "gauge",
                          "Open alerts (the lifecycle's: opened, not yet resolved), by "
                          "severity.")
    per_feature = {suffix: _Family(suffix, "gauge", doc) for suffix, doc, _s, _f in _FEATURE}
    per_model = {suffix: _Family(suffix, "gauge", doc) for suffix, doc, _m in _MODEL}
    prediction = _Family("prediction_drift", "gauge",
                         "Prediction-drift measures of the newest window, by metric.")
    realized = _Family("performance_realized", "gauge",
                       "Realized performance on the labelled rows, by metric (newest "
                       "revision).")
    realized_low = _Family("performance_realized_lower", "gauge",
                           "Lower end of the realized metric's 95% bootstrap interval.")
    realized_high = _Family("performance_realized_upper", "gauge",
                            "Upper end of the realized metric's 95% bootstrap interval.")
    estimated = _Family("performance_estimated", "gauge",
                        "Performance estimated without labels (CBPE), by metric.")
    estimated_low = _Family("performance_estimated_lower", "gauge",
                            "Lower end of the estimate's band (docs/impact.md).")
    estimated_high = _Family("performance_estimated_upper", "gauge",
                             "Upper end of the estimate's band (docs/impact.md).")
    worth = _Family("business_value", "gauge",
                    "What the predictions are worth per business_value.per predictions, by "
                    "kind (realized, reference, estimated with its band, and their changes "
                    "against the reference).")
    expectation = _Family("expectation_passed", "gauge",
                          "1 when the data expectation held on the newest window.")
    stream_value = _Family("stream_statistic", "gauge",
                           "The value fed to a sequential detector in the newest window.")
    stream_alarm = _Family("stream_alarm", "gauge",
                           "1 when the sequential detector alarmed in the newest window.")
    confidence = _Family("prediction_confidence", "gauge",
                         "Quantiles of the newest window's prediction confidence.")

    for f in models:
        who = {"model": f.name}
        counters["records"].add(who, f.records)
        counters["batches"].add(who, f.batches)
        counters["labels"].add(who, f.labels)
        counters["windows"].add(who, f.windows)
        counters["errors"].add(who, f.summed.get(_ERRORS, 0.0))
        _histogram(duration, who, DURATION_BOUNDS_S, f.evaluation_buckets, f.windows,
                   f.evaluation_seconds)
        lat = f.summed
        _histogram(latency, who, LATENCY_BOUNDS_S,
                   [int(lat.get(f"{_LATENCY_PREFIX}bucket.{b:g}", 0)) for b in
                    LATENCY_BOUNDS_S],
                   int(lat.get(f"{_LATENCY_PREFIX}count", 0)),
                   lat.get(f"{_LATENCY_PREFIX}sum", 0.0))
        for severity in SEVERITIES:
            open_alerts.add({**who, "severity": severity},
                            opened.get(f.name, {}).get(severity, 0))
        if f.latest_window is None:
            continue
        metrics = f.latest
        last.add(who, f.latest_evaluated_at)
        window.add(who, f.latest_window)
        for severity in SEVERITIES:
            alerts.add({**who, "severity": severity},
                       sum(1 for a in f.latest_alerts if a.get("severity") == severity))
        for suffix, _doc, section, field in _FEATURE:
            for feature, value in entries(metrics, section, field):
                per_feature[suffix].add({**who, "feature": feature}, value)
        for suffix, _doc, metric in _MODEL:
            per_model[suffix].add(who, metrics.get(metric))
        for name in _PREDICTION:
            prediction.add({**who, "metric": name}, metrics.get(f"prediction.{name}"))
        for name, value in metrics.items():
            if name.startswith("performance.") and name.count(".") == 1 \
                    and name != "performance.labelled_rows":
                metric = name.removeprefix("performance.")
                realized.add({**who, "metric": metric}, value)
                realized_low.add({**who, "metric": metric}, metrics.get(f"{name}.lower"))
                realized_high.add({**who, "metric": metric}, metrics.get(f"{name}.upper"))
            elif name.startswith("estimated.") and name.count(".") == 1:
                metric = name.removeprefix("estimated.")
                estimated.add({**who, "metric": metric}, value)
                estimated_low.add({**who, "metric": metric}, metrics.get(f"{name}.lower"))
                estimated_high.add({**who, "metric": metric}, metrics.get(f"{name}.upper"))
        for kind, name in _VALUE:
            worth.add({**who, "kind": kind}, metrics.get(name))
        for key, held in metrics.items():
            if key.startswith("expectations.") and key.endswith(".passed") and \
                    key != "expectations.passed":
                column, _, rule = key[len("expectations."):-len(".passed")].rpartition(".")
                if column:
                    expectation.add({**who, "feature": column, "rule": rule}, held)
        for detector, value in entries(metrics, "stream", "value"):
            stream_value.add({**who, "detector": detector}, value)
        for detector, value in entries(metrics, "stream", "alarm"):
            stream_alarm.add({**who, "detector": detector}, value)
        for quantile, metric in _CONFIDENCE:
            confidence.add({**who, "quantile": quantile}, metrics.get(metric))

    yield from counters.values()
    yield from (duration, latency, last, window, alerts, open_alerts)
    yield from per_model.values()
    yield from per_feature.values()
    yield from (prediction, realized, realized_low, realized_high, estimated, estimated_low,
                estimated_high, worth, expectation, stream_value, stream_alarm, confidence)


#: ``business_value{kind=...}``: the window's value metrics (docs/impact.md).
_VALUE = (("realized", "business.value"), ("reference", "business.reference_value"),
          ("change", "business.change"), ("estimated", "business.estimated_value"),
          ("estimated_lower", "business.estimated_value.lower"),
          ("estimated_upper", "business.estimated_value.upper"),
          ("estimated_change", "business.estimated_change"))


def _histogram(family: _Family, labels: Mapping[str, str], bounds: Iterable[float],
               within: list[int], count: int, total: float) -> None:
    for bound, n in zip(bounds, within, strict=True):
        family.add({**labels, "le": _format(float(bound))}, n, "_bucket")
    family.add({**labels, "le": "+Inf"}, count, "_bucket")
    family.add(labels, count, "_count")
    family.add(labels, total, "_sum")


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, str):
        return None
    number = float(value)
    return number if number == number else None  # NaN never reaches a sample


def _format(value: float) -> str:
    """A histogram bound as its ``le`` label (``0.005``, ``1.0``), as prometheus-client
    writes them."""
    return repr(float(value))
