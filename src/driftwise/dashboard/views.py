"""What each page shows, read from the store (no statistics: the windows hold them).

A model's health is the fleet's state of it (``driftwise.app.fleet.model_state``): its
worst open alert (``critical``, ``warning``), ``no_data`` before its first evaluated
window, else ``ok``. Charts cover the newest ``CHART_WINDOWS`` windows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from driftwise.app import response
from driftwise.app.fleet import model_state
from driftwise.dashboard.auth import Viewer
from driftwise.errors import NotFoundError
from driftwise.monitor.metric_names import entries
from driftwise.store import alerts as alert_store
from driftwise.store import evaluation as ev
from driftwise.store import exposition, incidents, registry

__all__ = ["CHART_WINDOWS", "HEALTH", "AlertView", "FeatureView", "IncidentView",
           "ModelSummary", "ModelView", "feature_view", "incident_view", "model_view",
           "open_alerts", "summaries"]

CHART_WINDOWS = 200
MAX_TRAIL = 200
HEALTH = ("critical", "warning", "ok", "no_data")
#: The operational panel's metrics (docs/service.md), and the reference's mean confidence.
OPS = ("ops.rows", "ops.throughput_per_s", "ops.error_share", "ops.latency_ms.p50",
       "ops.latency_ms.p99", "ops.confidence.mean", "ops.confidence.p10",
       "ops.confidence.p50", "prediction.mean_confidence_reference")
DRIFT = ("drift.dataset.share", "drift.dataset.drifted_columns", "drift.dataset.drift_detected")

#: A metric's values by window, oldest first (booleans as 0/1; missing values left out).
Points = list[tuple[int, float]]


@dataclass(frozen=True)
class ModelSummary:
    """A model as the overview and the fleet graph show it."""

    name: str
    task: str
    health: str
    open_alerts: dict[str, int]
    records: int
    last_window: int | None
    last_evaluated_at: float | None
    last_status: str | None
    upstream: tuple[str, ...] = ()


def summaries(engine: Engine, viewer: Viewer) -> list[ModelSummary]:
    """Every model the viewer may read, by name."""
    counts = alert_store.open_counts(engine)
    graph = incidents.fleet_graph(engine)
    out = []
    for f in exposition.figures(engine, (), ()):
        if not viewer.sees(f.name):
            continue
        opened = counts.get(f.name, {})
        out.append(ModelSummary(f.name, f.task, model_state(opened, f.latest_window is not None),
                                dict(opened), f.records, f.latest_window,
                                f.latest_evaluated_at, f.latest_status,
                                tuple(graph.get(f.name, ()))))
    return out


def open_alerts(engine: Engine, viewer: Viewer, limit: int = 50) -> list[alert_store.AlertRow]:
    """The newest open alerts of the models the viewer may read."""
    rows = alert_store.list_alerts(engine, state="open", limit=1000)
    return [r for r in rows if viewer.sees(r.model)][:limit]


@dataclass(frozen=True)
class AlertView:
    """An alert with its trail (the newest ``MAX_TRAIL`` events, oldest first) and the
    incident it belongs to."""

    row: alert_store.AlertRow
    events: list[dict[str, Any]]
    events_total: int
    incident: incidents.Placement | None = None


@dataclass(frozen=True)
class ModelView:
    """Everything the model page draws."""

    summary: ModelSummary
    model: registry.ModelRow
    windows: list[ev.WindowRecord]
    series: dict[str, Points]
    alerted: frozenset[int]
    alerts: list[AlertView]
    features: list[dict[str, Any]] = field(default_factory=list)

    def metrics_named(self, prefix: str) -> list[str]:
        """The charted metrics under ``prefix`` (``performance.``), without the interval
        bounds and the labelled-rows count."""
        return sorted(m for m in self.series if m.startswith(prefix)
                      and not m.endswith((".lower", ".upper")) and m != "performance.labelled_rows")


def _visible(engine: Engine, viewer: Viewer, name: str) -> registry.ModelRow:
    """The model ``name``, or NotFoundError when it is not there or not the viewer's (the
    same answer, so a limited key cannot tell the two apart)."""
    if not viewer.sees(name):
        raise NotFoundError(f"no model named {name!r}")
    return registry.get_model(engine, name)


def _shown_windows(engine: Engine, model_id: int) -> list[ev.WindowRecord]:
    numbers = ev.window_lookup(engine, model_id, None, None)
    skip = max(len(numbers) - CHART_WINDOWS, 0)
    return ev.windows(engine, model_id, limit=CHART_WINDOWS, offset=skip)


def _series(rows: Iterable[Mapping[str, Any]]) -> dict[str, Points]:
    out: dict[str, Points] = {}
    for row in rows:
        value = row["value"]
        if isinstance(value, bool):
            value = float(value)
        if isinstance(value, int | float):
            out.setdefault(row["metric"], []).append((int(row["window"]), float(value)))
    return out


def _summary(engine: Engine, model: registry.ModelRow,
             shown: list[ev.WindowRecord]) -> ModelSummary:
    opened = alert_store.open_counts(engine).get(model.name, {})
    last = shown[-1] if shown else None
    upstream = tuple(incidents.fleet_graph(engine).get(model.name, ()))
    return ModelSummary(model.name, model.task, model_state(opened, last is not None),
                        dict(opened), model.records, last.seq if last else None,
                        last.evaluated_at if last else None, last.status if last else None,
                        upstream)


def model_view(engine: Engine, viewer: Viewer, name: str) -> ModelView:
    """The model page's data (NotFoundError for a model the viewer may not read)."""
    model = _visible(engine, viewer, name)
    shown = _shown_windows(engine, model.id)
    numbers = [w.seq for w in shown]
    rows = ev.results(engine, model.id, windows=numbers, metrics=[*OPS, *DRIFT])
    for prefix in ("performance.", "estimated.", "business."):
        rows += ev.results(engine, model.id, windows=numbers, prefix=prefix)
    features: list[dict[str, Any]] = []
    if shown:
        newest = {r["metric"]: r["value"] for r in ev.results(
            engine, model.id, windows=[shown[-1].seq], prefix="drift.columns.")}
        features = _features(newest)
    trails = []
    for row in alert_store.list_alerts(engine, model_id=model.id, limit=50):
        events = alert_store.events(engine, model.id, row.alert_id)
        trails.append(AlertView(row, events[-MAX_TRAIL:], len(events),
                                incidents.incident_of(engine, model.id, row.alert_id)))
    alerted = frozenset(w.seq for w in shown if w.evidence.get("alerts"))
    return ModelView(_summary(engine, model, shown), model, shown, _series(rows), alerted,
                     trails, features)


def _features(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per column of a window: its p-value, effect and verdict, by name."""
    out: dict[str, dict[str, Any]] = {}
    for stat in ("p_value", "effect", "drift_detected"):
        for column, value in entries(metrics, "drift.columns", stat):
            out.setdefault(column, {"name": column})[stat] = value
    return [out[k] for k in sorted(out)]


@dataclass(frozen=True)
class FeatureView:
    """The feature drill-down: one window's distributions and the feature's tests over
    the charted windows."""

    summary: ModelSummary
    feature: str
    window: ev.WindowRecord
    distribution: dict[str, Any] | None  # None: the window stored none for the feature
    p_values: Points
    effects: Points
    windows: list[int]
    alerted: frozenset[int]


def feature_view(engine: Engine, viewer: Viewer, name: str, feature: str,
                 window: int | None) -> FeatureView:
    """The drill-down's data for ``window`` (default: the newest); NotFoundError for an
    unknown window or a feature no charted window tested."""
    model = _visible(engine, viewer, name)
    shown = _shown_windows(engine, model.id)
    if not shown:
        raise NotFoundError(f"model {name!r} has no evaluated window yet")
    chosen = shown[-1] if window is None else ev.window(engine, model.id, window)
    if chosen is None:
        raise NotFoundError(f"model {name!r} has no evaluated window {window}")
    base = f"drift.columns.{feature}."
    series = _series(ev.results(engine, model.id, windows=[w.seq for w in shown],
                                metrics=[base + "p_value", base + "effect"]))
    found = [d for d in chosen.evidence.get("distributions", [])
             if isinstance(d, dict) and d.get("name") == feature]
    if not found and not series:
        raise NotFoundError(f"model {name!r}: no window tested a feature {feature!r}")
    return FeatureView(_summary(engine, model, shown), feature, chosen,
                       found[0] if found else None, series.get(base + "p_value", []),
                       series.get(base + "effect", []), [w.seq for w in shown],
                       frozenset(w.seq for w in shown if w.evidence.get("alerts")))


@dataclass(frozen=True)
class IncidentView:
    """An incident's export as the viewer may see it (``driftwise.app.response``'s
    ``visible_report``), and how many of its models were left out for the viewer."""

    report: dict[str, Any]
    hidden_models: int = 0


def incident_view(engine: Engine, viewer: Viewer, incident_id: int) -> IncidentView:
    """The incident page's data: NotFoundError for an unknown incident and for one that
    touches none of the viewer's models (the same answer to both, as the API gives)."""
    found = incidents.incident(engine, incident_id)
    only = viewer.models
    if found is None or (only is not None and not set(found.models) & set(only)):
        raise NotFoundError(f"no incident {incident_id}")
    full = response.incident_report(engine, incident_id)
    shown = response.visible_report(engine, full, None if only is None else list(only))
    return IncidentView(shown, len(full["models"]) - len(shown["models"]))
