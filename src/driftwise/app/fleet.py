"""The fleet view: every model, the models it consumes and those consuming it, its state,
and the open incidents (``driftwise.store.incidents``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Engine

from driftwise.store import alerts as alert_store
from driftwise.store import evaluation as ev
from driftwise.store import incidents, registry

__all__ = ["fleet", "model_state", "visible"]


def model_state(open_alerts: dict[str, int], evaluated: bool) -> str:
    """``critical`` or ``warning`` (its worst open alert), ``ok``, or ``no_data`` before
    the first evaluated window."""
    if open_alerts.get("critical"):
        return "critical"
    if open_alerts.get("warning"):
        return "warning"
    return "ok" if evaluated else "no_data"


def fleet(engine: Engine, only: Collection[str] | None = None) -> dict[str, Any]:
    """The fleet as ``FleetOut`` (``only``: the models a key may read; edges to other
    models are left out, and an incident lists only those models)."""
    graph = incidents.fleet_graph(engine)
    opened = alert_store.open_counts(engine)
    latest = ev.latest_windows(engine)
    ids = {m.name: m.id for m in registry.list_models(engine)}
    downstream: dict[str, list[str]] = {}
    for name, ups in graph.items():
        for up in ups:
            downstream.setdefault(up, []).append(name)
    def shown(names: list[str]) -> list[str]:  # a limited key learns no other model's name
        return [n for n in names if only is None or n in only]

    models = []
    for name, ups in graph.items():
        if only is not None and name not in only:
            continue
        last = latest.get(ids.get(name, -1))
        counts = opened.get(name, {})
        models.append({"name": name, "upstream": shown(ups),
                       "downstream": shown(sorted(downstream.get(name, []))),
                       "state": model_state(counts, last is not None),
                       "open_alerts": {k: counts.get(k, 0) for k in ("warning", "critical")},
                       "last_window": None if last is None else last[0],
                       "last_evaluated_at": None if last is None else last[1]})
    found = incidents.list_incidents(engine, state="open", limit=1000, models=only)
    return {"models": models, "incidents": [visible(i, only) for i in found]}


def visible(incident: incidents.IncidentRow, only: Collection[str] | None) -> dict[str, Any]:
    """An incident as a key limited to ``only`` may see it: its members of those models."""
    out = incident.to_dict()
    if only is not None:
        out["members"] = [m for m in out["members"] if m["model"] in only]
        out["models"] = [m for m in out["models"] if m in only]
    return out
