"""Where each model's evaluation stands: leases on the cursor, windows and their results.

A server claims a model by taking the lease on its cursor (``SELECT … FOR UPDATE SKIP
LOCKED`` then a conditional update on PostgreSQL; the conditional update alone under
SQLite's single writer). It evaluates outside any transaction, then commits the window, its
results, the records' window numbers and the advanced cursor in one transaction that first
checks it still holds the lease at the same position. So a window is stored once, none is
skipped, and a server that dies mid-window only delays it until its lease expires.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, insert, or_, select, update

from driftwise.store import schema as s
from driftwise.store.alerts import RespondFor, RouteFor, Transition, advance
from driftwise.store.db import reading, writing
from driftwise.store.records import labels_of, mark_window

__all__ = [
    "Cursor",
    "WindowRecord",
    "claim",
    "commit_revision",
    "commit_window",
    "dirty_windows",
    "release",
    "results",
    "window",
    "window_profiles",
    "windows",
]


@dataclass(frozen=True)
class Cursor:
    """A model's evaluation position and the state its detectors and alert streaks carry."""

    model_id: int
    next_window: int
    next_seq: int
    next_start: float | None
    config_version: int | None
    reference_version: int | None
    state: dict[str, Any]
    records: int
    max_ts: float | None


@dataclass(frozen=True)
class WindowRecord:
    """One evaluated window, what it was evaluated with, and its evidence."""

    model_id: int
    seq: int
    label: str
    status: str
    rows: int
    seq_range: tuple[int, int] | None
    time_range: tuple[float, float] | None
    config_version: int
    reference_version: int
    evaluated_at: float
    duration_s: float
    revision: int
    evidence: dict[str, Any]


def claim(engine: Engine, owner: str, lease_s: float) -> list[Cursor]:
    """Take (or renew) the lease of every model no other live server holds."""
    now = time.time()
    c = s.cursors.c
    free = or_(c.lease_until < now, c.lease_owner == owner)
    with writing(engine) as conn:
        query = select(c.model_id).where(free)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(conn.execute(query).scalars())
        taken = []
        for model_id in ids:
            done = conn.execute(update(s.cursors).where(c.model_id == model_id, free).values(
                lease_owner=owner, lease_until=now + lease_s))
            if done.rowcount:
                taken.append(model_id)
        rows = conn.execute(select(s.cursors, s.models.c.next_seq.label("records"),
                                   s.models.c.max_ts).join(
            s.models, s.models.c.id == c.model_id).where(c.model_id.in_(taken))).all()
    return [Cursor(r.model_id, r.next_window, r.next_seq, r.next_start, r.config_version,
                   r.reference_version, json.loads(r.state), r.records, r.max_ts)
            for r in rows]


def release(engine: Engine, owner: str) -> None:
    """Give back every lease ``owner`` holds (on a clean shutdown)."""
    with writing(engine) as conn:
        conn.execute(update(s.cursors).where(s.cursors.c.lease_owner == owner).values(
            lease_owner=None, lease_until=0.0))


def first_time(engine: Engine, model_id: int, after: float | None) -> float | None:
    """The earliest record time (at or after ``after``), for period windows."""
    r = s.records.c
    query = select(func.min(r.ts)).where(r.model_id == model_id)
    if after is not None:
        query = query.where(r.ts >= after)
    with reading(engine) as conn:
        value = conn.execute(query).scalar()
    return None if value is None else float(value)


def _metric_rows(model_id: int, window: int, revision: int,
                 metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, value in metrics.items():
        if isinstance(value, bool):
            kind, number = "b", float(value)
        elif isinstance(value, int):
            kind, number = "i", float(value)
        elif value is None:
            kind, number = "n", None
        else:
            kind, number = "f", float(value)
        rows.append({"model_id": model_id, "window": window, "revision": revision,
                     "metric": name, "value": number, "kind": kind})
    return rows


def commit_window(engine: Engine, owner: str, cursor: Cursor, record: WindowRecord,
                  metrics: Mapping[str, Any], next_cursor: Mapping[str, Any],
                  labels_seen: Mapping[str, Any] | None = None,
                  alerting: Transition | None = None,
                  route_for: RouteFor | None = None,
                  respond_for: RespondFor | None = None,
                  profile: bytes | None = None) -> bool:
    """Store one evaluated window and advance the cursor, if ``owner`` still holds the
    lease at ``cursor``'s position (``False``: another server did it; nothing stored).

    ``profile``: the window's profile on the reference's grids, stored beside it.

    ``labels_seen``: the labels the evaluation read. Labels stored since then found no
    window to mark for a recomputation (it was not stored yet), so the window is stored
    marked when its labels differ from those. ``alerting``: the window's step of the alert
    lifecycle, run on the stored state in this same transaction.
    """
    c = s.cursors.c
    with writing(engine) as conn:
        query = select(c.next_window, c.lease_owner).where(c.model_id == cursor.model_id)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        now = conn.execute(query).first()
        if now is None or now.next_window != cursor.next_window or now.lease_owner != owner:
            return False
        dirty = labels_seen is not None and labels_of(
            conn, record.model_id, seq=record.seq_range, ts=record.time_range) != labels_seen
        conn.execute(insert(s.windows).values(
            model_id=record.model_id, seq=record.seq, label=record.label,
            status=record.status, rows=record.rows,
            seq_lo=record.seq_range[0] if record.seq_range else None,
            seq_hi=record.seq_range[1] if record.seq_range else None,
            start_ts=record.time_range[0] if record.time_range else None,
            end_ts=record.time_range[1] if record.time_range else None,
            config_version=record.config_version, reference_version=record.reference_version,
            evaluated_at=record.evaluated_at, duration_s=record.duration_s, revision=0,
            labels_dirty=dirty, evidence=json.dumps(record.evidence, allow_nan=False)))
        rows = _metric_rows(record.model_id, record.seq, 0, metrics)
        if rows:
            conn.execute(insert(s.results), rows)
        if profile is not None:
            conn.execute(insert(s.window_profiles).values(
                model_id=record.model_id, window=record.seq,
                reference_version=record.reference_version, profile=profile))
        mark_window(conn, record.model_id, record.seq, seq=record.seq_range,
                    ts=record.time_range)
        values = dict(next_cursor)
        values["state"] = json.dumps(values.get("state", {}))
        conn.execute(update(s.cursors).where(c.model_id == cursor.model_id).values(**values))
        if alerting is not None:
            advance(conn, cursor.model_id, alerting, route_for, respond_for)
    return True


def dirty_windows(engine: Engine, model_id: int, limit: int = 10) -> list[WindowRecord]:
    """Evaluated windows whose labels changed since their last revision."""
    w = s.windows.c
    with reading(engine) as conn:
        rows = conn.execute(select(s.windows).where(w.model_id == model_id,
                                                    w.labels_dirty.is_(True))
                            .order_by(w.seq).limit(limit)).all()
    return [_window(r) for r in rows]


def commit_revision(engine: Engine, owner: str, record: WindowRecord,
                    metrics: Mapping[str, Any],
                    labels_seen: Mapping[str, Any] | None = None) -> bool:
    """Store recomputed label-dependent metrics as the window's next revision; it stays
    marked for another when its labels changed since the recomputation read them
    (``labels_seen``)."""
    w, c = s.windows.c, s.cursors.c
    with writing(engine) as conn:
        lease = conn.execute(select(c.lease_owner).where(c.model_id == record.model_id)
                             ).scalar()
        if lease != owner:
            return False
        revision = record.revision + 1
        dirty = labels_seen is not None and labels_of(
            conn, record.model_id, seq=record.seq_range, ts=record.time_range) != labels_seen
        done = conn.execute(update(s.windows).where(
            w.model_id == record.model_id, w.seq == record.seq, w.revision == record.revision
        ).values(revision=revision, labels_dirty=dirty))
        if not done.rowcount:
            return False
        rows = _metric_rows(record.model_id, record.seq, revision, metrics)
        if rows:
            conn.execute(insert(s.results), rows)
    return True


def _window(r: Any) -> WindowRecord:
    return WindowRecord(
        r.model_id, r.seq, r.label, r.status, r.rows,
        None if r.seq_lo is None else (r.seq_lo, r.seq_hi),
        None if r.start_ts is None else (r.start_ts, r.end_ts),
        r.config_version, r.reference_version, r.evaluated_at, r.duration_s, r.revision,
        json.loads(r.evidence))


def windows(engine: Engine, model_id: int, *, since: float | None = None,
            until: float | None = None, limit: int = 100, offset: int = 0) -> (
        list[WindowRecord]):
    """Evaluated windows, oldest first, optionally within evaluation times."""
    w = s.windows.c
    query = select(s.windows).where(w.model_id == model_id)
    if since is not None:
        query = query.where(w.evaluated_at >= since)
    if until is not None:
        query = query.where(w.evaluated_at < until)
    with reading(engine) as conn:
        rows = conn.execute(query.order_by(w.seq).offset(offset).limit(limit)).all()
    return [_window(r) for r in rows]


def window_profiles(engine: Engine, model_id: int, reference_version: int, *,
                    first: int | None = None, last: int | None = None,
                    since: float | None = None, until: float | None = None) -> (
        list[tuple[int, bytes]]):
    """Stored window profiles against ``reference_version``, oldest first: windows
    ``first``..``last`` (inclusive) whose records start in ``[since, until)``."""
    p, w = s.window_profiles.c, s.windows.c
    query = select(p.window, p.profile).join(
        s.windows, (w.model_id == p.model_id) & (w.seq == p.window)).where(
        p.model_id == model_id, p.reference_version == reference_version)
    if first is not None:
        query = query.where(p.window >= first)
    if last is not None:
        query = query.where(p.window <= last)
    if since is not None:
        query = query.where(w.start_ts >= since)
    if until is not None:
        query = query.where(w.start_ts < until)
    with reading(engine) as conn:
        return [(int(r.window), bytes(r.profile))
                for r in conn.execute(query.order_by(p.window)).all()]


def window(engine: Engine, model_id: int, seq: int) -> WindowRecord | None:
    """One evaluated window."""
    with reading(engine) as conn:
        row = conn.execute(select(s.windows).where(s.windows.c.model_id == model_id,
                                                   s.windows.c.seq == seq)).first()
    return None if row is None else _window(row)


def metric_value(kind: str, value: float | None) -> Any:
    """A stored metric as the Monitor gave it (``kind``: b bool, i int, f float, n None)."""
    if value is None or kind == "n":
        return None
    if kind == "b":
        return bool(value)
    if kind == "i":
        return int(value)
    return value


def results(engine: Engine, model_id: int, *, windows: Sequence[int] | None = None,
            metrics: Iterable[str] | None = None, prefix: str | None = None,
            all_revisions: bool = False) -> list[dict[str, Any]]:
    """Metric values per window: the newest revision of each metric (or every revision)."""
    r = s.results.c
    query = select(r.window, r.revision, r.metric, r.value, r.kind).where(
        r.model_id == model_id)
    if windows is not None:
        query = query.where(r.window.in_(list(windows)))
    names = list(metrics or [])
    if names:
        query = query.where(r.metric.in_(names))
    if prefix:
        query = query.where(r.metric.startswith(prefix, autoescape=True))
    with reading(engine) as conn:
        rows = conn.execute(query.order_by(r.window, r.metric, r.revision)).all()
    out: list[dict[str, Any]] = []
    latest: dict[tuple[int, str], dict[str, Any]] = {}
    for row in rows:
        item = {"window": row.window, "revision": row.revision, "metric": row.metric,
                "value": metric_value(row.kind, row.value)}
        if all_revisions:
            out.append(item)
        else:
            latest[(row.window, row.metric)] = item
    return out if all_revisions else list(latest.values())


def window_lookup(engine: Engine, model_id: int, since: float | None,
                  until: float | None) -> list[int]:
    """Window numbers whose data lies within [since, until) (by record time)."""
    w = s.windows.c
    query = select(w.seq).where(w.model_id == model_id)
    if since is not None:
        query = query.where(or_(w.end_ts.is_(None), w.end_ts > since))
    if until is not None:
        query = query.where(or_(w.start_ts.is_(None), w.start_ts < until))
    with reading(engine) as conn:
        return list(conn.execute(query.order_by(w.seq)).scalars())


__all__ += ["first_time", "window_lookup"]


def last_received(engine: Engine, model_id: int) -> float:
    """When the model's newest batch arrived (0 when none)."""
    with reading(engine) as conn:
        value = conn.execute(select(func.max(s.batches.c.received_at)).where(
            s.batches.c.model_id == model_id)).scalar()
    return 0.0 if value is None else float(value)


__all__ += ["last_received"]


def newest_values(engine: Engine, model_id: int, metric: str, count: int) -> (
        list[tuple[int, Any]]):
    """``metric`` in the newest ``count`` windows that stored it (its newest revision, so
    a realized metric recomputed with late labels counts as recomputed), oldest first."""
    r = s.results.c
    chosen = (select(r.window, func.max(r.revision).label("revision"))
              .where(r.model_id == model_id, r.metric == metric)
              .group_by(r.window).order_by(r.window.desc()).limit(count).subquery())
    query = (select(r.window, r.value, r.kind)
             .join(chosen, (r.window == chosen.c.window) & (r.revision == chosen.c.revision))
             .where(r.model_id == model_id, r.metric == metric).order_by(r.window))
    with reading(engine) as conn:
        return [(int(row.window), metric_value(row.kind, row.value))
                for row in conn.execute(query)]


__all__ += ["newest_values"]


def latest_windows(engine: Engine) -> dict[int, tuple[int, float, str]]:
    """Each model's newest evaluated window: ``(number, evaluated_at, status)``, by model
    id."""
    w = s.windows.c
    newest = select(w.model_id, func.max(w.seq).label("seq")).group_by(w.model_id).subquery()
    query = select(w.model_id, w.seq, w.evaluated_at, w.status).join(
        newest, (w.model_id == newest.c.model_id) & (w.seq == newest.c.seq))
    with reading(engine) as conn:
        return {int(r.model_id): (int(r.seq), float(r.evaluated_at), str(r.status))
                for r in conn.execute(query)}


__all__ += ["latest_windows"]
