"""Evaluating closed windows as data arrives, and recomputing them when labels come late.

``evaluate_pending`` is one pass of the service's evaluator: claim the models no other
server holds, evaluate each closed window in order (restoring the stream detectors and
alert streaks from the store, so a restart resumes exactly), then recompute realized
performance of windows whose labels arrived after they were evaluated.
"""

from __future__ import annotations

import calendar
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine

from driftwise.app.alerting import lifecycle_rules, routing, window_transition
from driftwise.app.models import fitted_monitor
from driftwise.app.response import respond_for
from driftwise.config.monitor import MonitorConfig, parse_monitor_config
from driftwise.detect.engine import window_profile
from driftwise.errors import DriftwiseError
from driftwise.monitor import Monitor, MonitorResult
from driftwise.store import evaluation as ev
from driftwise.store import incidents, registry
from driftwise.store.records import read_rows
from driftwise.store.response import quarantined_between

__all__ = ["Scheduling", "evaluate_pending", "window_table"]

log = logging.getLogger("driftwise.evaluation")

#: Metrics that depend on labels: recomputed when late labels arrive.
LABELLED = ("performance.", "target.", "concept.")
SAMPLE_ROWS = 20


@dataclass(frozen=True)
class Scheduling:
    """When windows close: row windows when full; period windows once a record at least
    ``lateness_s`` past the period's end arrived, or once the period (plus lateness) is over
    by the clock and no record came for ``idle_s``."""

    default_rows: int = 1000
    lateness_s: float = 0.0
    idle_s: float = 30.0
    lease_s: float = 60.0
    routes: tuple[Any, ...] = ()  # AlertRoute settings: where notifying alerts go


def floor_period(ts: float, period: str) -> float:
    """The start of the calendar period holding ``ts`` (UTC; weeks start on Monday)."""
    d = datetime.fromtimestamp(ts, UTC)
    if period == "hour":
        d = d.replace(minute=0, second=0, microsecond=0)
    else:
        d = d.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        d -= timedelta(days=d.weekday())
    elif period == "month":
        d = d.replace(day=1)
    elif period == "quarter":
        d = d.replace(day=1, month=3 * ((d.month - 1) // 3) + 1)
    elif period == "year":
        d = d.replace(day=1, month=1)
    return d.timestamp()


def next_period(start: float, period: str) -> float:
    """The start of the period after the one starting at ``start``."""
    d = datetime.fromtimestamp(start, UTC)
    if period in ("hour", "day", "week"):
        step = {"hour": timedelta(hours=1), "day": timedelta(days=1),
                "week": timedelta(weeks=1)}[period]
        return (d + step).timestamp()
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    year, month = divmod(d.month - 1 + months, 12)
    day = min(d.day, calendar.monthrange(d.year + year, month + 1)[1])
    return d.replace(year=d.year + year, month=month + 1, day=day).timestamp()


def window_table(cfg: MonitorConfig, rows: pa.Table, labels: dict[str, Any]) -> pa.Table:
    """Stored rows as the table the Monitor reads (its configured column names)."""
    c = cfg.columns
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for name in rows.column_names:
        if name.startswith("f."):
            columns[name[2:]] = rows[name]
    if c.prediction is not None:
        columns[c.prediction] = rows["_prediction"]
    if cfg.task == "binary" and c.probability_columns:
        columns[c.probability_columns[0]] = rows["_p"]
    elif isinstance(c.probabilities, dict):
        for klass, name in c.probabilities.items():
            columns[name] = rows[f"_p.{klass}"]
    if c.id is not None:
        columns[c.id] = rows["_id"]
    if c.timestamp is not None:
        micros = pc.cast(pc.round(pc.multiply(rows["_ts"], 1e6)), pa.int64())
        columns[c.timestamp] = pc.cast(micros, pa.timestamp("us", tz="UTC"))
    if c.target is not None:
        ids = rows["_id"].to_pylist()
        values = [labels.get(i) for i in ids]
        kind = pa.float64() if cfg.task == "regression" else pa.string()
        columns[c.target] = pa.array(values, type=kind)
    return pa.table(columns)


#: Upper bounds (seconds) of the model-server latency histogram (Prometheus' defaults).
LATENCY_BOUNDS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def ops_metrics(rows: pa.Table) -> dict[str, Any]:
    """Operational health of a window from what the model server reported."""
    out: dict[str, Any] = {"ops.rows": rows.num_rows}
    if rows.num_rows == 0:
        return out
    ts = rows["_ts"].to_numpy()
    span = float(ts.max() - ts.min())
    out["ops.throughput_per_s"] = rows.num_rows / span if span > 0 else None
    out["ops.error_share"] = float(pc.mean(pc.cast(rows["_error"], pa.float64())).as_py()
                                   or 0.0)
    latency = rows["_latency_ms"].drop_null().to_numpy() if rows["_latency_ms"].null_count \
        < rows.num_rows else np.array([])
    for q in (50, 90, 99):
        out[f"ops.latency_ms.p{q}"] = float(np.percentile(latency, q)) if latency.size \
            else None
    # The window's share of the model-server latency histogram of /metrics: counts at or
    # under each bound (seconds), the count and the sum; summed over windows there.
    seconds = latency / 1000.0
    for bound in LATENCY_BOUNDS_S:
        out[f"ops.latency_seconds.bucket.{bound:g}"] = int(np.count_nonzero(seconds <= bound))
    out["ops.latency_seconds.count"] = int(seconds.size)
    out["ops.latency_seconds.sum"] = float(seconds.sum())
    out["ops.errors"] = int(pc.sum(pc.cast(rows["_error"], pa.int64())).as_py() or 0)
    proba = [n for n in rows.column_names if n == "_p" or n.startswith("_p.")]
    if proba:
        matrix = np.column_stack([rows[n].to_numpy(zero_copy_only=False).astype(float)
                                  for n in proba])
        conf = np.nanmax(np.column_stack([matrix, 1 - matrix]) if matrix.shape[1] == 1
                         else matrix, axis=1)
        conf = conf[np.isfinite(conf)]
        if conf.size:
            out["ops.confidence.mean"] = float(conf.mean())
            for q in (10, 50):
                out[f"ops.confidence.p{q}"] = float(np.percentile(conf, q))
    return out


#: Longest category label kept in a window's distributions (a label is user data).
PLOT_LABEL_CHARS = 200


def _distribution(col: dict[str, Any]) -> dict[str, Any] | None:
    """A column's reference-vs-current plot data, compact: the detector's bins (at most 30)
    or categories (at most 20 and ``(other)``), labels cut to ``PLOT_LABEL_CHARS``; ``None``
    when it has none or holds a non-finite edge (the store keeps strict JSON)."""
    plot = col.get("plot")
    if not isinstance(plot, dict):
        return None
    if plot.get("type") == "histogram" and not np.all(np.isfinite(plot["edges"])):
        return None
    if plot.get("type") == "bars":
        plot = {**plot, "categories": [str(c)[:PLOT_LABEL_CHARS]
                                       for c in plot["categories"]]}
    return {**{k: col.get(k) for k in ("name", "kind", "role", "test", "p_value", "effect",
                                       "effect_name", "drift_detected")}, "plot": plot}


def evidence(result: MonitorResult, rows: pa.Table) -> dict[str, Any]:
    """What a reader of a window needs: drifted columns with effects, every tested
    column's reference-vs-current distribution (for the dashboard's drill-down), alerts,
    reasons, and a sample of rows (ids, trace ids, client keys) to follow into the user's
    systems."""
    drifted, distributions = [], []
    if result.drift is not None:
        for col in result.drift.to_dict(plots=True).get("columns", []):
            if col.get("drift_detected"):
                drifted.append({k: col.get(k) for k in ("name", "kind", "test", "p_value",
                                                        "effect", "effect_name")})
            shown = _distribution(col)
            if shown is not None:
                distributions.append(shown)
    names = [f"f.{d['name']}" for d in drifted if f"f.{d['name']}" in rows.column_names]
    sample = rows.slice(0, SAMPLE_ROWS).select(
        ["_id", "_ts", "_prediction", "_client", "_trace", *names[:10]]).to_pylist()
    return {"status": result.status, "reasons": result.reasons,
            "explanation": None if result.explanation is None else
            result.explanation.to_dict(),
            "alerts": [a.to_dict() for a in result.alerts], "drifted_columns": drifted,
            "distributions": distributions,
            "sample": [{k.removeprefix("f.").lstrip("_"): v for k, v in row.items()}
                       for row in sample]}


def _clean(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
            for k, v in metrics.items()}


class Evaluator:
    """One server's evaluation of every model it holds the lease of."""

    def __init__(self, engine: Engine, owner: str, scheduling: Scheduling | None = None,
                 tracing: Any = None):
        self.engine, self.owner = engine, owner
        self.scheduling = scheduling or Scheduling()
        self.tracing = tracing

    def pending(self) -> int:
        """One pass over the claimed models; returns how many windows were stored."""
        done = 0
        claimed = ev.claim(self.engine, self.owner, self.scheduling.lease_s)
        if len(claimed) > 1:  # upstream models first: their alerts root the incidents
            depth = incidents.depths(self.engine)
            claimed = sorted(claimed, key=lambda c: depth.get(c.model_id, 0))
        for cursor in claimed:
            try:
                done += self._model(cursor)
            except Exception:  # one model's failure must not stop the others
                log.exception("evaluating model %s failed", cursor.model_id)
        return done

    def _model(self, cursor: ev.Cursor) -> int:
        done = 0
        deadline = time.monotonic() + self.scheduling.lease_s / 2
        while time.monotonic() < deadline:
            step = self._next(cursor)
            if step is None:
                break
            cursor = step
            done += 1
        self._revisions(cursor.model_id)
        return done

    def _versions(self, model_id: int) -> tuple[int, int, str]:
        return registry.versions(self.engine, model_id)

    def _next(self, cursor: ev.Cursor) -> ev.Cursor | None:
        config_version, reference_version, name = self._versions(cursor.model_id)
        if not reference_version:
            return None
        cfg = parse_monitor_config(registry.config_of(self.engine, cursor.model_id,
                                                      config_version), "config")
        bounds = self._bounds(cursor, cfg)
        if bounds is None:
            return None
        seq_range, time_range, label = bounds
        started = time.perf_counter()
        rows, labels = read_rows(self.engine, cursor.model_id, seq=seq_range, ts=time_range)
        same = (cursor.config_version, cursor.reference_version) == \
            (config_version, reference_version)
        monitor = fitted_monitor(self.engine, cursor.model_id, config_version,
                                 reference_version)
        if same:
            monitor.restore_stream_state(cursor.state)
        evaluated_at = time.time()
        screened: tuple[dict[str, Any], dict[str, Any]] | None = None
        if cfg.checks.outliers is not None:  # the model screens records: what it held
            screened = self._screened(cursor, evaluated_at)
        with self._span(name, cursor.next_window, rows.num_rows) as span:
            metrics, state, record_evidence, status, profile = self._run(
                monitor, cfg, rows, labels, label, screened[0] if screened else {})
            if span is not None:
                span.set_attribute("driftwise.status", status)
        if screened is not None:
            record_evidence["screen"] = screened[1]
        span = time_range
        if span is None and rows.num_rows:
            ts = rows["_ts"].to_numpy()
            span = (float(ts.min()), float(ts.max()))
        record = ev.WindowRecord(
            cursor.model_id, cursor.next_window, label, status, rows.num_rows, seq_range,
            span, config_version, reference_version, evaluated_at,
            time.perf_counter() - started, 0, record_evidence)
        next_values: dict[str, Any] = {
            "next_window": cursor.next_window + 1, "state": state,
            "config_version": config_version, "reference_version": reference_version,
            "next_seq": seq_range[1] if seq_range else cursor.next_seq,
            "next_start": time_range[1] if time_range else cursor.next_start}
        # Even without rules: a configuration that dropped one resolves its open alert.
        alerting = window_transition(lifecycle_rules(cfg), record.seq,
                                     record.evaluated_at, metrics,
                                     record_evidence.get("explanation"))
        if not ev.commit_window(self.engine, self.owner, cursor, record, metrics,
                                next_values, labels, alerting=alerting,
                                route_for=routing(self.scheduling.routes, name),
                                respond_for=respond_for(cfg), profile=profile):
            return None
        log.info("model %s: window %d (%s) %s", name, record.seq, label, status)
        return ev.Cursor(cursor.model_id, cursor.next_window + 1, next_values["next_seq"],
                         next_values["next_start"], config_version, reference_version, state,
                         cursor.records, cursor.max_ts)

    def _screened(self, cursor: ev.Cursor, until: float) -> tuple[dict[str, Any],
                                                                 dict[str, Any]]:
        """What ``/screen`` held back since the previous window was evaluated: the
        ``screen.*`` metrics alert rules can name, and the evidence (the client keys held
        for probing, which a ``block_client`` action blocks)."""
        previous = ev.window(self.engine, cursor.model_id, cursor.next_window - 1) \
            if cursor.next_window > 0 else None
        since = previous.evaluated_at if previous is not None else 0.0
        held = quarantined_between(self.engine, cursor.model_id, since, until)
        signals = held["by_signal"]
        metrics = {"screen.quarantined": held["count"],
                   "screen.outliers": signals.get("outlier", 0),
                   "screen.probing": signals.get("probing", 0),
                   "screen.probing_keys": len(held["probing_keys"]),
                   "screen.blocked": signals.get("blocked", 0)}
        keys = dict(sorted(held["probing_keys"].items(), key=lambda kv: -kv[1])[:100])
        return metrics, {"since": since, "until": until, **held, "probing_keys": keys}

    def _span(self, model: str, window: int, rows: int) -> Any:
        if self.tracing is None:
            return contextlib.nullcontext()
        return self.tracing.span("driftwise.evaluate", None, model=model, window=window,
                                 rows=rows)

    def _bounds(self, cursor: ev.Cursor, cfg: MonitorConfig) -> (
            tuple[tuple[int, int] | None, tuple[float, float] | None, str] | None):
        if cfg.window_period is None:
            size = cfg.window_rows or self.scheduling.default_rows
            lo, hi = cursor.next_seq, cursor.next_seq + size
            if cursor.records < hi:
                return None
            return (lo, hi), None, f"rows {lo}-{hi - 1}"
        first = ev.first_time(self.engine, cursor.model_id, cursor.next_start)
        if first is None or cursor.max_ts is None:
            return None
        start = floor_period(first, cfg.window_period)
        end = next_period(start, cfg.window_period)
        s = self.scheduling
        closed = cursor.max_ts >= end + s.lateness_s or (
            time.time() >= end + s.lateness_s and
            time.time() - ev.last_received(self.engine, cursor.model_id) >= s.idle_s)
        if not closed:
            return None
        label = datetime.fromtimestamp(start, UTC).strftime(
            "%Y-%m-%d %H:00" if cfg.window_period == "hour" else "%Y-%m-%d")
        return None, (start, end), label

    def _run(self, monitor: Monitor, cfg: MonitorConfig, rows: pa.Table,
             labels: dict[str, Any], label: str, service: dict[str, Any]) -> tuple[
            dict[str, Any], dict[str, Any], dict[str, Any], str, bytes | None]:
        # The service's own metrics of the window (operations, screening) go in with the
        # Monitor's: alert rules may name them.
        ops = {**ops_metrics(rows), **service}
        table = window_table(cfg, rows, labels)
        try:
            result = monitor.run(table, name=label, extra=ops)
        except DriftwiseError as exc:
            return ops, monitor.stream_state(), {"status": "failed", "error": str(exc)}, \
                "failed", None
        metrics = {**_clean(dict(result.metrics)), **ops}
        return metrics, monitor.stream_state(), evidence(result, rows), result.status, \
            _profile_bytes(monitor, table, label)

    def _revisions(self, model_id: int) -> None:
        for record in ev.dirty_windows(self.engine, model_id):
            cfg = parse_monitor_config(registry.config_of(
                self.engine, model_id, record.config_version), "config")
            monitor = fitted_monitor(self.engine, model_id, record.config_version,
                                     record.reference_version)
            rows, labels = read_rows(self.engine, model_id, seq=record.seq_range,
                                     ts=record.time_range)
            try:
                result = monitor.remeasure(window_table(cfg, rows, labels),
                                           name=record.label)
            except DriftwiseError as exc:
                log.warning("window %d: recomputing with late labels failed: %s",
                            record.seq, exc)
                metrics: dict[str, Any] = {}
            else:
                metrics = {k: v for k, v in _clean(dict(result.metrics)).items()
                           if k.startswith(LABELLED)}
            ev.commit_revision(self.engine, self.owner, record, metrics, labels)


def _profile_bytes(monitor: Monitor, table: pa.Table, label: str) -> bytes | None:
    """The window's profile on the reference's grids, to store beside it (``None`` for a
    Monitor that compares no features, or an empty window)."""
    detector = monitor.drift_
    if detector is None or table.num_rows == 0:
        return None
    reference = detector.profile_
    try:
        profile = window_profile(reference, table.select(list(reference.columns)), label)
    except DriftwiseError as exc:  # the window was evaluated; its profile is only extra
        log.warning("window %s: no profile stored: %s", label, exc)
        return None
    return profile.to_bytes(reference)


def evaluate_pending(engine: Engine, owner: str, scheduling: Scheduling | None = None,
                     tracing: Any = None) -> int:
    """One evaluation pass (see the module docstring); returns windows stored."""
    return Evaluator(engine, owner, scheduling, tracing).pending()
