"""Alerts in the store: each model's lifecycle state, one row per alert, the incident trail.

The store keeps what the lifecycle (driftwise.act, called by app/) decides; it knows no
rule. A window's alerts are advanced inside the transaction that stores the window
(:func:`advance`, called by ``commit_window``), and a human action reads and writes the
same state under the same lock (:func:`act`), so neither can overwrite the other.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from driftwise.errors import NotFoundError
from driftwise.store import schema as s
from driftwise.store.db import reading, writing
from driftwise.store.incidents import place
from driftwise.store.outbox import enqueue
from driftwise.store.response import queue_actions

__all__ = ["AlertChange", "AlertRow", "RespondFor", "RouteFor", "Transition", "act", "advance",
           "alert", "events", "list_alerts", "open_counts"]


@dataclass(frozen=True)
class AlertChange:
    """An alert as it now stands (``body``: its JSON facts) and the event that changed it."""

    alert_id: int
    rule: str
    severity: str
    open: bool
    opened_at: float
    body: dict[str, Any]
    event: dict[str, Any]  # kind, window, at, notify, ... (the AlertEvent's to_dict)


#: From the stored lifecycle state (a dict, ``{}`` at first): the next state and the changes.
Transition = Callable[[dict[str, Any]], tuple[dict[str, Any], Sequence[AlertChange]]]


@dataclass(frozen=True)
class AlertRow:
    """One stored alert."""

    model: str
    alert_id: int
    rule: str
    severity: str
    state: str
    opened_at: float
    updated_at: float
    body: dict[str, Any]


#: The routes an alert change is delivered to (names; none: not delivered).
RouteFor = Callable[[AlertChange], Sequence[str]]

#: The response actions an alert change asks for: ``(name, spec, why)`` each.
RespondFor = Callable[[AlertChange], Sequence[tuple[str, dict[str, Any], dict[str, Any]]]]


def advance(conn: Any, model_id: int, transition: Transition,
            route_for: RouteFor | None = None,
            respond_for: RespondFor | None = None) -> Sequence[AlertChange]:
    """Apply ``transition`` to the model's lifecycle state within the caller's write
    transaction (which holds the model's cursor); store the state, the alerts and events,
    a delivery per route ``route_for`` names (the outbox: written with the event), and
    the response actions ``respond_for`` names for the alert's incident."""
    c = s.cursors.c
    query = select(c.alerting).where(c.model_id == model_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    stored = conn.execute(query).scalar()
    if stored is None:
        raise NotFoundError(f"no model with id {model_id}")
    state, changes = transition(json.loads(stored or "{}"))
    conn.execute(update(s.cursors).where(c.model_id == model_id).values(
        alerting=json.dumps(state, allow_nan=False)))
    _store(conn, model_id, changes)
    placed = place(conn, model_id, changes)
    if respond_for is not None:
        for change in changes:
            where = placed.get(change.alert_id)
            if where is None or change.event.get("kind") not in ("opened", "reopened"):
                continue
            items = respond_for(change)
            if items:
                queue_actions(conn, where.incident_id, model_id, change.alert_id,
                              int(change.event.get("window") or 0), items)
    if route_for is not None:
        for change in changes:
            where = placed.get(change.alert_id)
            if where is not None and not where.pages:
                continue  # part of an upstream model's incident, which paged once
            routes = route_for(change)
            if routes:
                payload: dict[str, Any] = {"event": change.event, "alert": change.body}
                if where is not None:
                    payload["incident"] = {"id": where.incident_id,
                                           "root_model": where.root_model}
                hold = where.hold_s if where is not None and \
                    change.event.get("kind") == "opened" else 0.0
                enqueue(conn, model_id, change.alert_id, routes, payload, delay_s=hold)
    return changes


def _store(conn: Any, model_id: int, changes: Sequence[AlertChange]) -> None:
    a = s.alerts.c
    now = time.time()
    for change in changes:
        values = {"rule": change.rule, "severity": change.severity,
                  "state": "open" if change.open else "resolved",
                  "opened_at": change.opened_at, "updated_at": now,
                  "body": json.dumps(change.body, allow_nan=False)}
        done = conn.execute(update(s.alerts).where(
            a.model_id == model_id, a.alert_id == change.alert_id).values(**values))
        if not done.rowcount:
            conn.execute(insert(s.alerts).values(model_id=model_id,
                                                 alert_id=change.alert_id, **values))
        event = change.event
        conn.execute(insert(s.alert_events).values(
            model_id=model_id, alert_id=change.alert_id, kind=event["kind"],
            window=event["window"], at=event["at"], notify=bool(event["notify"]),
            body=json.dumps(event, allow_nan=False)))


def act(engine: Engine, model_id: int, transition: Transition,
        route_for: RouteFor | None = None) -> Sequence[AlertChange]:
    """A human action (acknowledge, silence, resolve) as a transaction of its own."""
    with writing(engine) as conn:
        return advance(conn, model_id, transition, route_for)


def _row(model: str, r: Any) -> AlertRow:
    return AlertRow(model, r.alert_id, r.rule, r.severity, r.state, r.opened_at,
                    r.updated_at, json.loads(r.body))


def list_alerts(engine: Engine, *, model_id: int | None = None, state: str | None = None,
                severity: str | None = None, limit: int = 100, offset: int = 0,
                models: Collection[str] | None = None) -> list[AlertRow]:
    """Alerts, newest first, optionally of one model (or of ``models``, by name), state
    (open/resolved), severity."""
    a, m = s.alerts.c, s.models.c
    query = select(m.name, s.alerts).join(s.models, m.id == a.model_id)
    if model_id is not None:
        query = query.where(a.model_id == model_id)
    if models is not None:
        query = query.where(m.name.in_(list(models)))
    if state is not None:
        query = query.where(a.state == state)
    if severity is not None:
        query = query.where(a.severity == severity)
    with reading(engine) as conn:
        rows = conn.execute(query.order_by(a.opened_at.desc(), a.alert_id.desc())
                            .offset(offset).limit(limit)).all()
    return [_row(r.name, r) for r in rows]


def alert(engine: Engine, model_id: int, alert_id: int) -> AlertRow | None:
    """One alert of a model."""
    a, m = s.alerts.c, s.models.c
    with reading(engine) as conn:
        r = conn.execute(select(m.name, s.alerts).join(s.models, m.id == a.model_id).where(
            a.model_id == model_id, a.alert_id == alert_id)).first()
    return None if r is None else _row(r.name, r)


def events(engine: Engine, model_id: int, alert_id: int) -> list[dict[str, Any]]:
    """The alert's events in order (its incident trail)."""
    e = s.alert_events.c
    with reading(engine) as conn:
        rows = conn.execute(select(e.body).where(e.model_id == model_id,
                                                 e.alert_id == alert_id).order_by(e.id))
        return [json.loads(body) for (body,) in rows]


def open_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """Open alerts per model name and severity."""
    a, m = s.alerts.c, s.models.c
    with reading(engine) as conn:
        rows = conn.execute(select(m.name, a.severity, func.count()).join(
            s.models, m.id == a.model_id).where(a.state == "open")
            .group_by(m.name, a.severity)).all()
    out: dict[str, dict[str, int]] = {}
    for name, severity, count in rows:
        out.setdefault(name, {})[severity] = int(count)
    return out
