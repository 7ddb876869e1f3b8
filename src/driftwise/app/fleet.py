"""The fleet view: every model, the models it consumes and those consuming it, its state,
and the open incidents (``driftwise.store.incidents``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Engine

from driftwise.store import alerts as alert_store
from driftwise.store import evaluation as ev
from driftwise.store import incidents, registry

__all__ = ["fleet", "model_state"]


def model_state(open_alerts: dict[str, int], evaluated: bool) -> str:
    """``critical`` or ``warning`` (its worst open alert), ``ok``, or ``no_data`` before
    the first evaluated window."""
    if open_alerts.get("critical"):
        return "critical"
    if open_alerts.get("warning"):
        return "warning"
    return "ok" if evaluated else "no_data"


def fleet(engine: Engine, only: Collection[str] | None = None) -> dict[str, Any]:
    """The fleet as ``FleetOut`` (``only``: the models a key may read; the edges to other
    models are kept by name, their state is not shown)."""
    graph = incidents.fleet_graph(engine)
    opened = alert_store.open_counts(engine)
    latest = ev.latest_windows(engine)
    ids = {m.name: m.id for m in registry.list_models(engine)}
    downstream: dict[str, list[str]] = {}
    for name, ups in graph.items():
        for up in ups:
            downstream.setdefault(up, []).append(name)
    models = []
    for name, ups in graph.items():
        if only is not None and name not in only:
            continue
        last = latest.get(ids.get(name, -1))
        counts = opened.get(name, {})
        models.append({"name": name, "upstream": ups,
                       "downstream": sorted(downstream.get(name, [])),
                       "state": model_state(counts, last is not None),
                       "open_alerts": {k: counts.get(k, 0) for k in ("warning", "critical")},
                       "last_window": None if last is None else last[0],
                       "last_evaluated_at": None if last is None else last[1]})
    found = incidents.list_incidents(engine, state="open", limit=1000, models=only)
    return {"models": models, "incidents": [i.to_dict() for i in found]}
