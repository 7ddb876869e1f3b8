"""What ``/metrics`` reads: per model, the newest window's metrics and running totals.

Everything comes from the store, so every server process (uvicorn workers, several servers on
one PostgreSQL) answers a scrape with the same numbers, and a restart loses no counter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, case, func, select

from driftwise.store import schema as s
from driftwise.store.db import reading
from driftwise.store.evaluation import metric_value

__all__ = ["ModelFigures", "figures"]


@dataclass
class ModelFigures:
    """One model's figures for an exposition."""

    name: str
    task: str
    records: int  # records accepted, ever (the sequence counter)
    batches: int
    labels: int
    windows: int
    evaluation_seconds: float  # the windows' evaluation durations, summed
    evaluation_buckets: list[int]  # windows evaluated within each bound (cumulative)
    latest: dict[str, Any] = field(default_factory=dict)  # the newest window's metrics
    latest_window: int | None = None
    latest_evaluated_at: float | None = None
    latest_status: str | None = None
    latest_alerts: list[dict[str, Any]] = field(default_factory=list)
    summed: dict[str, float] = field(default_factory=dict)  # sums over every window


def figures(engine: Engine, duration_bounds: Sequence[float],
            summed_prefixes: Sequence[str]) -> list[ModelFigures]:
    """Every model's figures, by name.

    ``duration_bounds``: the upper bounds of the evaluation-duration histogram;
    ``summed_prefixes``: metrics (of revision 0) summed over all windows, e.g. a window's
    latency bucket counts, which add up to the model's histogram.
    """
    m, w, r = s.models.c, s.windows.c, s.results.c
    with reading(engine) as conn:
        models = conn.execute(select(m.id, m.name, m.task, m.next_seq).order_by(m.name)).all()
        counted = {}
        for table in (s.batches, s.labels):
            counted[table.name] = {int(k): int(v) for k, v in conn.execute(
                select(table.c.model_id, func.count()).group_by(table.c.model_id)).all()}
        batches, labels = counted[s.batches.name], counted[s.labels.name]
        buckets = [func.sum(case((w.duration_s <= bound, 1), else_=0)) for bound in
                   duration_bounds]
        evaluated = {row[0]: row[1:] for row in conn.execute(
            select(w.model_id, func.count(), func.sum(w.duration_s), *buckets)
            .group_by(w.model_id)).all()}
        newest = select(w.model_id, func.max(w.seq).label("seq")).group_by(w.model_id) \
            .subquery()
        latest_rows = conn.execute(
            select(w.model_id, w.seq, w.evaluated_at, w.status, w.evidence)
            .join(newest, (newest.c.model_id == w.model_id) & (newest.c.seq == w.seq))).all()
        metric_rows = conn.execute(
            select(r.model_id, r.metric, r.revision, r.value, r.kind)
            .join(newest, (newest.c.model_id == r.model_id) & (newest.c.seq == r.window))
            .order_by(r.model_id, r.metric, r.revision)).all()
        sums: list[Any] = []
        for prefix in summed_prefixes:
            sums += conn.execute(
                select(r.model_id, r.metric, func.sum(r.value))
                .where(r.revision == 0, r.metric.startswith(prefix, autoescape=True))
                .group_by(r.model_id, r.metric)).all()
    out: dict[int, ModelFigures] = {}
    for model_id, name, task, records in models:
        count, seconds, *within = evaluated.get(model_id, (0, 0.0))
        out[model_id] = ModelFigures(
            name, task, int(records), int(batches.get(model_id, 0)),
            int(labels.get(model_id, 0)), int(count or 0), float(seconds or 0.0),
            [int(v or 0) for v in within] or [0] * len(duration_bounds))
    for model_id, seq, evaluated_at, status, evidence in latest_rows:
        f = out.get(model_id)
        if f is not None:
            f.latest_window, f.latest_evaluated_at, f.latest_status = seq, evaluated_at, status
            alerts = json.loads(evidence).get("alerts", [])
            f.latest_alerts = [a for a in alerts if isinstance(a, dict)]
    for model_id, metric, _revision, value, kind in metric_rows:
        f = out.get(model_id)
        if f is not None:  # ordered by revision: the newest revision's value wins
            f.latest[metric] = metric_value(kind, value)
    for model_id, metric, total in sums:
        f = out.get(model_id)
        if f is not None and total is not None:
            f.summed[metric] = float(total)
    return list(out.values())

