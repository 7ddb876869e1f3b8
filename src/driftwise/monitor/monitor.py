"""The Monitor: one model's watch list, evaluated window by window."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from driftwise.config.monitor import MonitorConfig, load_monitor_config, parse_monitor_config
from driftwise.data import require_rows, to_table
from driftwise.data.columns import labels as to_labels
from driftwise.detect import DriftDetector, DriftReport, ReferenceProfile
from driftwise.errors import ConfigError, DriftwiseError, NotFittedError
from driftwise.expect import evaluate as evaluate_expectations
from driftwise.monitor import _columns as col
from driftwise.monitor._flatten import drift_metrics, multivariate_metrics, performance_metrics
from driftwise.monitor.alerts import AlertEvaluator
from driftwise.monitor.concept import ConceptReference
from driftwise.monitor.explain import TOP_FEATURES, Explanation, FeatureShift, explain, readable
from driftwise.monitor.metric_names import prefixed
from driftwise.monitor.outliers import OutlierChecks
from driftwise.monitor.result import MetricValue, MonitorResult
from driftwise.monitor.seasonal import SeasonalChecks
from driftwise.monitor.segments import (
    MIN_SLICE_ROWS,
    SegmentDrift,
    Slice,
    slice_masks,
    worst_slices,
)
from driftwise.monitor.streams import StreamChecks
from driftwise.monitor.windows import split_windows
from driftwise.performance import prediction as pred_drift
from driftwise.performance import realized_metrics
from driftwise.performance.bands import Band, value_per_prediction
from driftwise.performance.concept import error_shift, label_shift, row_losses
from driftwise.performance.dle import DLE
from driftwise.performance.estimation import CBPE


def _as_config(config: MonitorConfig | Mapping[str, Any] | str | os.PathLike[str]) -> (
    MonitorConfig
):
    if isinstance(config, MonitorConfig):
        return config
    if isinstance(config, str | os.PathLike):
        return load_monitor_config(config)
    return parse_monitor_config(config)


def _describe_shift(ref: Any, column: pa.ChunkedArray) -> tuple[str, str]:
    """``("median 41, mean 42.1", "median 47, mean 48.3")`` for a numeric column;
    ``("'b' 12%", "'b' 30%")`` (the category whose share moved most) for a categorical
    one; ``("", "")`` when the reference kept no values to compare with."""
    from driftwise.data.columns import category_counts, numeric_values

    if ref.sorted_values is not None and ref.sorted_values.size:
        try:
            now = numeric_values(ref.name, column, "current").values
        except DriftwiseError:
            return "", ""
        if now.size == 0:
            return "", ""
        v = ref.sorted_values
        return (f"median {readable(float(v[v.size // 2]))}, mean {readable(float(v.mean()))}",
                f"median {readable(float(np.median(now)))}, mean {readable(float(now.mean()))}")
    if ref.labels is not None and ref.counts is not None and ref.counts.sum() > 0:
        current = category_counts(column)
        total = max(int(current.counts.sum()), 1)
        now_share = {lab: int(n) / total for lab, n in
                     zip(current.labels, current.counts.tolist(), strict=True)}
        ref_share = {lab: int(n) / int(ref.counts.sum()) for lab, n in
                     zip(ref.labels, ref.counts.tolist(), strict=True)}
        labels = set(now_share) | set(ref_share)
        top = max(sorted(labels), key=lambda lab: abs(now_share.get(lab, 0.0)
                                                       - ref_share.get(lab, 0.0)))
        return (f"{top!r} {ref_share.get(top, 0.0):.1%} of rows",
                f"{top!r} {now_share.get(top, 0.0):.1%}")
    return "", ""


def _too_small(rows: int, label: str, min_rows: int) -> MonitorResult:
    reason = f"{rows} rows, fewer than windows.min_rows = {min_rows}"
    return MonitorResult(label, rows, "insufficient_data", {}, reasons={"window": reason})


class Monitor:
    """Everything to watch for one model, configured once, run on each window.

    Parameters
    ----------
    config : MonitorConfig, mapping or path to a YAML file
        See ``docs/monitor.md``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=4000)
    >>> p = 1 / (1 + np.exp(-2 * x))
    >>> data = {"x": x, "proba": p, "label": (rng.random(4000) < p).astype(int)}
    >>> monitor = Monitor({"model": {"task": "binary"},
    ...                    "columns": {"probabilities": "proba", "target": "label"}})
    >>> result = monitor.fit(data).run({k: v[:1000] for k, v in data.items()})
    >>> result.status, result.get("drift.dataset.drift_detected")
    ('ok', False)
    """

    def __init__(self, config: MonitorConfig | Mapping[str, Any] | str | os.PathLike[str]):
        self.config = config

    # -- fitting -------------------------------------------------------------------
    def fit(self, reference: Any, *, engine: Any = None) -> Monitor:
        """Learn the reference: drift profile, classes, calibration, concept baselines.

        ``engine``: a :class:`~driftwise.scale.DaskEngine` for a reference too large for
        memory (a Parquet file or folder, or a Dask DataFrame): the feature-drift profile
        is then built in the workers from every row, the row-level parts from a seeded
        sample (:func:`driftwise.scale.monitor.fit_on_engine`).
        """
        if engine is not None:
            from driftwise.scale.monitor import fit_on_engine

            return fit_on_engine(self, reference, engine)
        return self._fit_table(to_table(reference))

    def _fit_table(self, table: pa.Table, drift: DriftDetector | None = None) -> Monitor:
        """Fit on a table; ``drift``: the feature-drift detector already fitted elsewhere."""
        cfg = self.config_ = _as_config(self.config)
        require_rows(table, "reference")
        #: Rows of the reference fitted on (all of them, also where a sample was fitted).
        self.reference_rows_ = table.num_rows
        c = cfg.columns
        col.require_columns(table, [c.prediction, *c.probability_columns, c.target, c.id,
                                    c.timestamp, *c.segments, *c.features], "reference")
        roles = {c.prediction, *c.probability_columns, c.target, c.id, c.timestamp} - {None}
        self.features_ = list(c.features) or [n for n in table.column_names if n not in roles]
        needs_target = cfg.estimated_metrics or cfg.concept_features is not None
        if needs_target and (c.target is None or c.target not in table.column_names):
            raise ConfigError("checks.estimated_performance and checks.concept_drift need the "
                              "target column (columns.target) in the reference")
        self.drift_ = drift
        if cfg.checks.feature_drift is not None and drift is None:
            self.drift_ = DriftDetector(**cfg.checks.feature_drift.to_dict()).fit(
                table.select(self.features_), name="reference")
        self.segment_drift_ = SegmentDrift()
        if cfg.columns.segments and cfg.checks.feature_drift is not None:
            self.segment_drift_.fit(table, [f for f in self.features_
                                            if f not in cfg.columns.segments],
                                    cfg.columns.segments, cfg.checks.feature_drift,
                                    cfg.min_rows)
        self.multivariate_ = None
        if cfg.multivariate is not None:
            from driftwise.detect.geometry import MultivariateDriftDetector

            self.multivariate_ = MultivariateDriftDetector(**cfg.multivariate).fit(
                table.select(self.features_))
        self.expectations_ = cfg.expectation_suite()
        self.seasonal_ = SeasonalChecks(cfg.checks.seasonal, c.timestamp).fit(table)
        self.outliers_ = OutlierChecks(cfg.checks.outliers).fit(table, self.features_)
        self.new_clusters_ = None
        if cfg.checks.new_clusters is not None:
            from driftwise.detect.adversarial import NewClusterDetector

            spec = cfg.checks.new_clusters.model_dump()
            columns = spec.pop("columns") or list(self.features_)
            self.new_clusters_ = NewClusterDetector(**spec, columns=columns).fit(
                table.select(columns))
        self.probing_ = None
        if cfg.checks.probing is not None:
            from driftwise.detect.adversarial import QueryProbingDetector

            self.probing_ = QueryProbingDetector(
                **cfg.checks.probing.model_dump(), columns=list(self.features_)).fit(
                    table.select(self.features_))
        self._fit_outputs(cfg, table)
        self._fit_segment_outputs(cfg, table)
        self.alerts_ = AlertEvaluator(cfg.alert_rules)
        self._fit_streams(cfg, table)
        return self

    def _fit_outputs(self, cfg: MonitorConfig, table: pa.Table) -> None:
        c = cfg.columns
        if cfg.task == "regression":
            if cfg.checks.confidence is not None:
                raise ConfigError("checks.confidence watches a classifier's probabilities; "
                                  "a regression model has none")
            self.classes_: tuple[str, ...] = ()
            self.reference_prediction_ = col.numeric(table, c.prediction) if c.prediction \
                else None
            self.cbpe_ = None
            self.concept_ = None
            self.dle_ = None
            self.reference_residuals_ = None
            if c.target is not None and c.target in table.column_names and \
                    self.reference_prediction_ is not None:
                self.reference_residuals_ = col.numeric(table, c.target) - \
                    self.reference_prediction_
            self.reference_performance_: dict[str, float] = {}
            if self.reference_residuals_ is not None:
                assert self.reference_prediction_ is not None
                done = realized_metrics("regression", col.numeric(table, c.target or ""),
                                        self.reference_prediction_, n_boot=0)
                self.reference_performance_ = {k: float(r.value) for k, r in done.items()
                                               if r.value is not None}
            costs = cfg.business_value.cost_per_unit if cfg.business_value else None
            self.value_matrix_ = None
            self.reference_value_: float | None = None
            if costs is not None and self.reference_residuals_ is not None:
                r = self.reference_residuals_  # target - prediction
                self.reference_value_ = -float(np.mean(
                    costs.over * np.clip(-r, 0.0, None) + costs.under * np.clip(r, 0.0, None)))
            if (cfg.estimated_metrics or costs is not None) and \
                    self.reference_prediction_ is not None:
                observed = col.numeric(table, c.target or "target")
                self.dle_ = DLE(cfg.estimated_metrics or (),
                                cost=None if costs is None else (costs.over, costs.under)).fit(
                    table, self.features_, self.reference_prediction_, observed)
            return
        found: set[str] = set()
        for name in (c.target, c.prediction):
            if name is not None and name in table.column_names:
                found |= {v for v in to_labels(table.column(name)) if v is not None}
        found |= set(c.probability_classes)
        self.classes_ = col.order_classes(found, cfg.task, cfg.positive_class)
        proba = self._proba(table, "reference")
        y_pred = self._predicted(table, proba)
        self.reference_scores_ = None if proba is None else col.top_scores(proba)
        self.reference_predicted_ = y_pred
        self.confidence_ = None
        if cfg.checks.confidence is not None:
            if proba is None:
                raise ConfigError("checks.confidence needs the model's probabilities "
                                  "(columns.probabilities)")
            from driftwise.detect.adversarial import ConfidenceMonitor

            self.confidence_ = ConfidenceMonitor(**cfg.checks.confidence.model_dump()).fit(
                proba)
        y_true = col.encode(to_labels(table.column(c.target)), self.classes_, c.target) \
            if c.target is not None and c.target in table.column_names else None
        self.reference_target_ = y_true
        self.reference_losses_ = None if y_true is None or proba is None else \
            row_losses(y_true, proba)
        self.value_matrix_ = cfg.value_matrix(self.classes_)
        self.reference_value_ = None if y_true is None or self.value_matrix_ is None else \
            value_per_prediction(self.value_matrix_, y_true, y_pred)
        self.cbpe_ = None
        if (cfg.estimated_metrics or self.value_matrix_ is not None) and proba is not None \
                and y_true is not None:
            est = cfg.estimation
            self.cbpe_ = CBPE(cfg.estimated_metrics or (), calibrate=est.calibrate,
                              value=self.value_matrix_).fit(y_true, proba, y_pred)
        # The model's own performance on the reference: the baseline the retraining
        # policy measures a window's loss against (docs/response.md).
        self.reference_performance_ = {}
        if y_true is not None:
            done = realized_metrics(cfg.task, y_true, y_pred, proba,
                                    n_classes=len(self.classes_), n_boot=0)
            self.reference_performance_ = {k: float(r.value) for k, r in done.items()
                                           if r.value is not None}
        self.reference_slices_: dict[str, tuple[float, int]] = {}
        if c.segments and y_true is not None:
            for slice_name, mask in slice_masks(table, c.segments, MIN_SLICE_ROWS).items():
                acc = float(np.mean(y_true[mask] == y_pred[mask]))
                self.reference_slices_[slice_name] = (acc, int(mask.sum()))
        self.concept_ = None
        # The concept check's realized-minus-estimated gap needs an estimator, also where
        # estimated performance is not reported.
        self.gap_cbpe_ = self.cbpe_ if cfg.estimated_metrics else None
        if cfg.concept_features is not None and y_true is not None and proba is not None \
                and self.gap_cbpe_ is None:
            self.gap_cbpe_ = CBPE(calibrate=cfg.estimation.calibrate).fit(y_true, proba,
                                                                          y_pred)
        if cfg.concept_features is not None and y_true is not None:
            names = list(cfg.concept_features) or self.features_
            self.concept_ = ConceptReference(self.drift_, table, names, y_true,
                                             len(self.classes_))

    def _fit_segment_outputs(self, cfg: MonitorConfig, table: pa.Table) -> None:
        """Each segment value's reference outputs, for per-segment prediction drift."""
        self.reference_segment_outputs_: dict[str, tuple[
            NDArray[np.float64] | None, NDArray[np.int64] | None]] = {}
        if not cfg.columns.segments or not cfg.checks.prediction_drift:
            return
        if cfg.task == "regression":
            scores, predicted = self.reference_prediction_, None
        else:
            scores, predicted = self.reference_scores_, self.reference_predicted_
        if scores is None and predicted is None:
            return
        for name, mask in slice_masks(table, cfg.columns.segments, MIN_SLICE_ROWS).items():
            if " & " not in name:
                self.reference_segment_outputs_[name] = (
                    None if scores is None else scores[mask],
                    None if predicted is None else predicted[mask])

    def _segment_prediction_drift(self, table: pa.Table, scores: NDArray[np.float64] | None,
                                  predicted: NDArray[np.int64] | None,
                                  metrics: dict[str, MetricValue]) -> None:
        """``segments.<col>=<value>.prediction.*``: prediction drift within each segment,
        against the same segment of the reference (raw p-values, one test per segment)."""
        if not self.reference_segment_outputs_:
            return
        masks = slice_masks(table, self.config_.columns.segments, MIN_SLICE_ROWS)
        for name, (ref_scores, ref_predicted) in self.reference_segment_outputs_.items():
            mask = masks.get(name)
            if mask is None:
                continue
            found: dict[str, float] = {}
            if self.config_.task == "regression":
                if ref_scores is not None and scores is not None:
                    found = pred_drift.regression_drift(ref_scores, scores[mask])
            else:
                if ref_predicted is not None and predicted is not None:
                    found.update(pred_drift.class_mix_drift(ref_predicted, predicted[mask],
                                                            len(self.classes_)))
                if ref_scores is not None and scores is not None:
                    found.update(pred_drift.score_drift(ref_scores, scores[mask]))
            for key, value in found.items():
                metrics[f"segments.{name}.prediction.{key}"] = value

    def _proba(self, table: pa.Table, sample: str) -> NDArray[np.float64] | None:
        """Probabilities with columns in the order of ``classes_`` (multiclass)."""
        c = self.config_.columns
        if not c.probability_columns:
            return None
        proba = col.probabilities(table, c.probability_columns, sample)
        if proba.ndim == 1:
            return proba
        missing = [k for k in self.classes_ if k not in c.probability_classes]
        if missing:
            raise ConfigError(f"columns.probabilities: no probability column for class(es) "
                              f"{', '.join(map(repr, missing))}")
        ordered: NDArray[np.float64] = proba[:, [c.probability_classes.index(k)
                                                 for k in self.classes_]]
        return ordered

    def _predicted(self, table: pa.Table, proba: NDArray[np.float64] | None) -> (
        NDArray[np.int64]
    ):
        c = self.config_.columns
        if c.prediction is not None:
            return col.encode(to_labels(table.column(c.prediction)), self.classes_,
                              c.prediction)
        assert proba is not None
        predicted: NDArray[np.int64] = (proba >= 0.5).astype(np.int64) if proba.ndim == 1 \
            else np.argmax(proba, axis=1).astype(np.int64)
        return predicted

    def _require_fitted(self) -> MonitorConfig:
        if not hasattr(self, "alerts_"):
            raise NotFittedError("this Monitor is not fitted yet: call fit(reference) first")
        return self.config_

    # -- running -------------------------------------------------------------------
    def run(self, window: Any, *, labels: Any = None, name: str | None = None,
            extra: Mapping[str, MetricValue] | None = None) -> MonitorResult:
        """Evaluate every configured check on one window.

        ``labels`` (a table with the id and target columns) are joined by prediction id
        when the targets arrive later than the predictions. ``extra``: metrics measured
        outside the Monitor on the same window (the service's ``ops.*``), which the alert
        rules and SLOs may name; the checks' own metrics win a clash.
        """
        self._require_fitted()
        table = to_table(window)
        if labels is not None:
            table = self._join_labels(table, to_table(labels))
        return self._run_window(table, name or f"window {table.num_rows} rows", extra=extra)

    def _run_window(self, table: pa.Table, label: str, *,
                    extra: Mapping[str, MetricValue] | None = None,
                    profile: ReferenceProfile | None = None,
                    n_rows: int | None = None) -> MonitorResult:
        """Evaluate one window, then update the streams and alerts.

        ``profile`` and ``n_rows``: the window's column profile built elsewhere from all of
        its ``n_rows`` rows (the Dask engine), of which ``table`` is a sample: column drift
        then comes from the profile, the row-level checks from the sample."""
        cfg = self.config_
        rows = table.num_rows if n_rows is None else n_rows
        if rows < cfg.min_rows:
            return _too_small(rows, label, cfg.min_rows)
        metrics, reasons, report, slices = self._measure(table, label, profile)
        if n_rows is not None and table.num_rows < n_rows:
            reasons["sample"] = (f"column drift on all {n_rows:,} rows; row-level checks on a "
                                 f"seeded sample of {table.num_rows:,}")
        if extra:
            metrics = {**extra, **metrics}
        self.streams_.update(metrics, reasons)
        self.alerts_.check_names(metrics)
        alerts = self.alerts_.evaluate(metrics)
        story = self._explain(table, metrics, reasons, report, slices, alerts)
        return MonitorResult(label, rows, "ok", metrics, alerts, reasons, report, slices,
                             story)

    def remeasure(self, window: Any, *, name: str | None = None) -> MonitorResult:
        """Every metric of a window already run, without touching the stream detectors or
        the alert streaks: for recomputing realized performance when late labels arrive."""
        cfg = self._require_fitted()
        table = to_table(window)
        label = name or f"window {table.num_rows} rows"
        if table.num_rows < cfg.min_rows:
            return _too_small(table.num_rows, label, cfg.min_rows)
        metrics, reasons, report, slices = self._measure(table, label)
        return MonitorResult(label, table.num_rows, "ok", metrics, (), reasons, report, slices)

    def _measure(self, table: pa.Table, label: str,
                 profile: ReferenceProfile | None = None) -> tuple[
            dict[str, MetricValue], dict[str, str], DriftReport | None, tuple[Slice, ...]]:
        """Every metric of one window (no alerts, no stream updates); column drift from
        ``profile`` when given (the window's profile, ``table`` a sample of its rows)."""
        cfg, c = self.config_, self.config_.columns
        col.require_columns(table, [c.prediction, *c.probability_columns, *self.features_],
                            "current")
        metrics: dict[str, MetricValue] = {}
        reasons: dict[str, str] = {}
        report = None
        if self.drift_ is not None and profile is not None:
            report = self.drift_.compare(profile, name=label,
                                         rows=table.select(self.features_))
            metrics.update(drift_metrics(report, cfg.checks.data_quality))
        elif self.drift_ is not None:
            report = self.drift_.compare(table.select(self.features_), name=label)
            metrics.update(drift_metrics(report, cfg.checks.data_quality))
        suite = getattr(self, "expectations_", None)  # a Monitor pickled before them
        if suite is not None:
            checked = evaluate_expectations(suite, table)
            metrics.update(checked.metrics())
            for outcome in checked.failed:
                reasons[outcome.metric] = outcome.describe()
        metrics.update(self.segment_drift_.compare(table))
        if self.multivariate_ is not None:
            metrics.update(multivariate_metrics(self.multivariate_.compare(
                table.select(list(self.multivariate_.columns_)))))
        self.seasonal_.compare(table, metrics, reasons)
        outliers = getattr(self, "outliers_", None)  # a Monitor pickled before the check
        if outliers is not None:
            outliers.compare(table, metrics)
        clusters = getattr(self, "new_clusters_", None)
        if clusters is not None:
            found = clusters.find(table.select(list(clusters.columns or self.features_)))
            metrics["new_clusters.count"] = len(found.clusters)
            metrics["new_clusters.detected"] = found.detected
            metrics["new_clusters.largest"] = max((c.size for c in found.clusters), default=0)
            if found.clusters:
                top = found.clusters[0]
                reasons["new_clusters.largest"] = (
                    f"{top.size} rows where the reference has {top.reference_share_nearby:.1%} "
                    "of its mass; set apart by " + ", ".join(
                        f"{name} ({diff:+.1f} sd)" for name, diff in
                        top.distinguishing_features[:3]))
        slices: tuple[Slice, ...] = ()
        if cfg.task == "regression":
            self._run_regression(table, metrics, reasons)
        else:
            slices = self._run_classification(table, metrics, reasons)
        return metrics, reasons, report, slices

    # -- sequential detectors on per-window metrics --------------------------------
    def _fit_streams(self, cfg: MonitorConfig, table: pa.Table) -> None:
        """Build the stream detectors; learn a missing reference mean/sd from reference
        windows (of ``windows.rows`` rows, or a tenth of the reference)."""
        self.streams_ = StreamChecks(cfg.checks.stream)
        if not self.streams_.needing_reference():
            return
        size = cfg.window_rows or max(cfg.min_rows, table.num_rows // 10)
        measured = [self._measure(table.slice(start, size), f"reference rows {start}")[0]
                    for start in range(0, table.num_rows, size)
                    if min(size, table.num_rows - start) >= cfg.min_rows]
        self.streams_.fit_reference(measured, f"reference {table.num_rows} rows, windows of "
                                              f"{size}")

    def stream_state(self) -> dict[str, Any]:
        """Plain-JSON state of the stream detectors and alert streaks (to resume later)."""
        self._require_fitted()
        return {"streams": self.streams_.state(), "alert_streaks": dict(self.alerts_.streaks)}

    def restore_stream_state(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`stream_state`'s output, exactly."""
        self._require_fitted()
        self.streams_.restore(state.get("streams", {}))
        self.alerts_.streaks.update(state.get("alert_streaks", {}))

    def _join_labels(self, table: pa.Table, labels: pa.Table) -> pa.Table:
        c = self.config_.columns
        if c.id is None or c.target is None:
            raise ConfigError("joining late labels needs columns.id and columns.target")
        col.require_columns(labels, [c.id, c.target], "labels")
        base = table.drop_columns([c.target]) if c.target in table.column_names else table
        return base.join(labels.select([c.id, c.target]), keys=c.id, join_type="left outer")

    def _labelled(self, table: pa.Table) -> NDArray[np.bool_] | None:
        c = self.config_.columns
        if c.target is None or c.target not in table.column_names:
            return None
        mask: NDArray[np.bool_] = pc.is_valid(table.column(c.target)).to_numpy(
            zero_copy_only=False)
        return mask if mask.any() else None

    def _segments(self, table: pa.Table, proba: NDArray[np.float64] | None,
                  y_pred: NDArray[np.int64], y_true: NDArray[np.int64] | None,
                  labelled: NDArray[np.bool_] | None, metrics: dict[str, MetricValue]) -> (
        tuple[Slice, ...]
    ):
        """Per-slice accuracy (realized where labelled, else estimated) and the worst slices."""
        c = self.config_.columns
        if not c.segments or not self.reference_slices_:
            return ()
        current: dict[str, tuple[float, int]] = {}
        source = "realized" if y_true is not None else "estimated"
        for name, mask in slice_masks(table, c.segments, MIN_SLICE_ROWS).items():
            if y_true is not None and labelled is not None:
                rows = mask[labelled]
                if rows.sum() < MIN_SLICE_ROWS:
                    continue
                acc = float(np.mean(y_true[rows] == y_pred[labelled][rows]))
                n = int(rows.sum())
            elif self.cbpe_ is not None and proba is not None:
                est = self.cbpe_.estimate(proba[mask], y_pred[mask]).get("accuracy")
                if est is None:
                    continue
                acc, n = est, int(mask.sum())
            else:
                return ()
            current[name] = (acc, n)
            if " & " not in name:
                metrics[f"segments.{name}.accuracy"] = acc
                metrics[f"segments.{name}.rows"] = n
        return tuple(worst_slices(current, self.reference_slices_, source))

    def _run_classification(self, table: pa.Table, metrics: dict[str, MetricValue],
                            reasons: dict[str, str]) -> tuple[Slice, ...]:
        cfg, c = self.config_, self.config_.columns
        proba = self._proba(table, "current")
        y_pred = self._predicted(table, proba)
        k = len(self.classes_)
        if cfg.checks.prediction_drift:
            for key, value in pred_drift.class_mix_drift(self.reference_predicted_, y_pred,
                                                         k).items():
                metrics[f"prediction.{key}"] = value
            if proba is not None and self.reference_scores_ is not None:
                for key, value in pred_drift.score_drift(self.reference_scores_,
                                                         col.top_scores(proba)).items():
                    metrics[f"prediction.{key}"] = value
        confidence = getattr(self, "confidence_", None)  # a Monitor pickled before it
        if confidence is not None and proba is not None:
            shift = confidence.compare(proba)
            metrics["confidence.mean_margin"] = shift.current_mean
            metrics["confidence.reference_mean_margin"] = shift.reference_mean
            metrics["confidence.relative_change"] = shift.relative_change
            metrics["confidence.p_value"] = shift.p_value
            metrics["confidence.drift_detected"] = shift.drift_detected
            metrics["confidence.low_margin_share"] = shift.low_margin_share
        if self.cbpe_ is not None and proba is not None:
            estimates = self.cbpe_.estimate(proba, y_pred)
            found = self.cbpe_.bands(proba, y_pred, estimates, k=cfg.estimation.band_sigmas)
            worth = estimates.pop("value", None)
            self._estimates(estimates, found, metrics)
            if worth is not None:
                self._estimated_value(worth, found.get("value"), table.num_rows, metrics)
        if cfg.checks.prediction_drift:
            scores = None if proba is None else col.top_scores(proba)
            self._segment_prediction_drift(table, scores, y_pred, metrics)
        mask = self._labelled(table)
        metrics["performance.labelled_rows"] = 0 if mask is None else int(mask.sum())
        if mask is None or mask.sum() < cfg.min_rows:
            reasons["performance"] = (f"{metrics['performance.labelled_rows']} labelled rows, "
                                      f"fewer than windows.min_rows = {cfg.min_rows}")
            return self._segments(table, proba, y_pred, None, None, metrics)
        y_true = col.encode(to_labels(table.column(c.target).filter(pa.array(mask))),
                            self.classes_, c.target or "target")
        sub_proba = None if proba is None else proba[mask]
        if self.value_matrix_ is not None:
            self._realized_value(value_per_prediction(self.value_matrix_, y_true, y_pred[mask]),
                                 metrics)
        if cfg.performance_metrics:
            scores = sub_proba
            res = realized_metrics(cfg.task, y_true, y_pred[mask], scores,
                                   metrics=cfg.performance_metrics, n_classes=k,
                                   n_boot=cfg.checks.bootstrap)
            metrics.update(performance_metrics(res, reasons))
        if self.reference_target_ is not None:
            for key, value in label_shift(self.reference_target_, y_true, k).items():
                metrics[f"target.{key}"] = value
        if self.concept_ is not None:
            metrics.update(self.concept_.compare(table.filter(pa.array(mask)), y_true))
            gap = getattr(self, "gap_cbpe_", self.cbpe_)  # a Monitor pickled before it
            if gap is not None and sub_proba is not None:
                estimated = gap.estimate(sub_proba, y_pred[mask])
                estimated.pop("value", None)
                for key, est in estimated.items():
                    real = metrics.get(f"performance.{key}")
                    metrics[f"concept.performance_gap.{key}"] = (
                        None if real is None or est is None else float(real) - est)
        if self.reference_losses_ is not None and sub_proba is not None:
            shift = error_shift(self.reference_losses_, row_losses(y_true, sub_proba))
            for key, value in shift.items():
                metrics[f"concept.loss_{key}"] = value
        return self._segments(table, proba, y_pred, y_true, mask, metrics)

    def _run_regression(self, table: pa.Table, metrics: dict[str, MetricValue],
                        reasons: dict[str, str]) -> None:
        cfg, c = self.config_, self.config_.columns
        if c.prediction is None:
            return
        y_pred = col.numeric(table, c.prediction)
        if self.dle_ is not None:
            estimates: dict[str, float | None] = dict(self.dle_.estimate(table, y_pred))
            found = self.dle_.bands(table, y_pred, k=cfg.estimation.band_sigmas)
            cost = estimates.pop("cost", None)
            self._estimates(estimates, found, metrics)
            if cost is not None:
                band = found.get("cost")
                self._estimated_value(-cost, None if band is None else
                                      Band(band.sigma, -band.upper, -band.lower),
                                      table.num_rows, metrics)
        if cfg.checks.prediction_drift and self.reference_prediction_ is not None:
            for key, value in pred_drift.regression_drift(self.reference_prediction_,
                                                          y_pred).items():
                metrics[f"prediction.{key}"] = value
            self._segment_prediction_drift(table, y_pred, None, metrics)
        mask = self._labelled(table)
        metrics["performance.labelled_rows"] = 0 if mask is None else int(mask.sum())
        if mask is None or mask.sum() < cfg.min_rows or not cfg.performance_metrics:
            reasons["performance"] = f"{metrics['performance.labelled_rows']} labelled rows"
            return
        y_true = col.numeric(table.filter(pa.array(mask)), c.target or "target")
        costs = cfg.business_value.cost_per_unit if cfg.business_value else None
        if costs is not None:
            r = y_true - y_pred[mask]
            self._realized_value(-float(np.mean(costs.over * np.clip(-r, 0.0, None)
                                                + costs.under * np.clip(r, 0.0, None))),
                                 metrics)
        res = realized_metrics("regression", y_true, y_pred[mask],
                               metrics=cfg.performance_metrics, n_boot=cfg.checks.bootstrap)
        metrics.update(performance_metrics(res, reasons))
        if self.reference_residuals_ is not None:
            shift = error_shift(self.reference_residuals_, y_true - y_pred[mask])
            for key, value in shift.items():
                metrics[f"concept.residual_{key}"] = value

    # -- estimates with bands, and what they are worth ----------------------------
    @staticmethod
    def _estimates(estimates: Mapping[str, float | None], found: Mapping[str, Band],
                   metrics: dict[str, MetricValue]) -> None:
        """``estimated.<metric>`` with its band: ``.lower``, ``.upper``, ``.sigma``."""
        for key, est in estimates.items():
            metrics[f"estimated.{key}"] = est
            band = found.get(key)
            if band is not None and est is not None:
                metrics.update(prefixed(f"estimated.{key}", {
                    "lower": band.lower, "upper": band.upper, "sigma": band.sigma}))

    def _estimated_value(self, value: float, band: Band | None, rows: int,
                         metrics: dict[str, MetricValue]) -> None:
        """``business.*`` estimated from the model's outputs, per ``business_value.per``
        predictions, against the reference's realized value (docs/impact.md)."""
        per = self.config_.business_value.per if self.config_.business_value else 1
        metrics["business.estimated_value"] = per * value
        if band is not None:
            metrics.update(prefixed("business.estimated_value", {
                "lower": per * band.lower, "upper": per * band.upper,
                "sigma": per * band.sigma}))
        metrics["business.estimated_total"] = rows * value
        if self.reference_value_ is not None:
            metrics["business.reference_value"] = per * self.reference_value_
            metrics["business.estimated_change"] = per * (value - self.reference_value_)
            if band is not None:
                metrics.update(prefixed("business.estimated_change", {
                    "lower": per * (band.lower - self.reference_value_),
                    "upper": per * (band.upper - self.reference_value_)}))

    def _realized_value(self, value: float, metrics: dict[str, MetricValue]) -> None:
        """``business.value`` and ``business.change`` on the labelled rows."""
        per = self.config_.business_value.per if self.config_.business_value else 1
        metrics["business.value"] = per * value
        if self.reference_value_ is not None:
            metrics["business.reference_value"] = per * self.reference_value_
            metrics["business.change"] = per * (value - self.reference_value_)

    # -- the window in plain words ------------------------------------------------
    def _explain(self, table: pa.Table, metrics: Mapping[str, MetricValue],
                 reasons: Mapping[str, str], report: DriftReport | None,
                 slices: tuple[Slice, ...], alerts: tuple[Any, ...]) -> Explanation:
        """The window's explanation (:mod:`driftwise.monitor.explain`) from its facts."""
        cfg = self.config_
        failed = [reasons[k] for k in reasons if k.startswith("expectations.")]
        decision = None
        reference = getattr(self, "reference_performance_", {})
        if reference:
            from driftwise.act.policy import RetrainPolicy, evidence_from_window

            policy = cfg.policy.thresholds() if cfg.policy is not None else RetrainPolicy()
            metric = cfg.policy.metric if cfg.policy is not None else \
                ("mae" if cfg.task == "regression" else "accuracy")
            decision = policy.decide(evidence_from_window(metrics, reference, metric))
        value = cfg.business_value
        return explain(metrics, shifts=self._shifts(table, report),
                       failed_expectations=failed, slices=slices,
                       reference_performance=reference,
                       value_per=value.per if value else 1,
                       value_unit=value.unit if value else "", decision=decision,
                       alerts=[a.name for a in alerts])

    def _shifts(self, table: pa.Table, report: DriftReport | None) -> list[FeatureShift]:
        """The drifted features with the largest effects, described in their own units."""
        if report is None or self.drift_ is None:
            return []
        drifted = sorted((c for c in report.columns if c.drift_detected),
                         key=lambda c: -(c.effect or 0.0))[:TOP_FEATURES]
        profiles = self.drift_.profile_.columns
        out = []
        for c in drifted:
            ref = profiles.get(c.name)
            if ref is None or c.name not in table.column_names:
                continue
            before, after = _describe_shift(ref, table.column(c.name))
            if before:
                out.append(FeatureShift(c.name, c.kind, c.effect, c.effect_name, before,
                                        after))
        return out

    def run_batches(self, frames: Iterable[Any], names: Iterable[str] | None = None) -> (
        list[MonitorResult]
    ):
        """Run each frame as one window, in order (alert streaks carry over)."""
        frame_list = list(frames)
        labels = list(names) if names is not None else [f"batch {i + 1}"
                                                       for i in range(len(frame_list))]
        return [self.run(f, name=n) for f, n in zip(frame_list, labels, strict=True)]

    def run_frame(self, frame: Any, *, by: str | None = None, engine: Any = None) -> (
        list[MonitorResult]
    ):
        """Split one frame into windows (``windows.rows``, or a period of the timestamp
        column: ``by`` or ``windows.period``) and run each.

        ``engine``: a :class:`~driftwise.scale.DaskEngine` for a frame too large for memory
        (a Parquet file or folder, or a Dask DataFrame): windows are cut and profiled in the
        workers (:func:`driftwise.scale.monitor.run_on_engine`). Without ``windows.rows``
        or a period, the whole frame is then one window."""
        cfg = self._require_fitted()
        if engine is not None:
            from driftwise.scale.monitor import run_on_engine

            return run_on_engine(self, frame, engine, period=by or cfg.window_period)
        table = to_table(frame)
        windows = split_windows(table, rows=cfg.window_rows, period=by or cfg.window_period,
                                timestamp=cfg.columns.timestamp)
        return [self.run(part, name=label) for label, part in windows]
