"""The alert outbox: deliveries written with the events that cause them, claimed by one
sender at a time (a lease), retried with backoff, every attempt logged."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, insert, select, update

from driftwise.store import schema as s
from driftwise.store.db import reading, writing

__all__ = ["Delivery", "claim", "deliveries", "enqueue", "record_attempt", "withdraw"]


@dataclass(frozen=True)
class Delivery:
    """One delivery to make: what (``body``: event and alert), to which route, how often
    tried already."""

    id: int
    model: str
    alert_id: int
    route: str
    body: dict[str, Any]
    attempts: int


def enqueue(conn: Any, model_id: int, alert_id: int, routes: Sequence[str],
            body: dict[str, Any], delay_s: float = 0.0) -> None:
    """Add a delivery per route within the caller's transaction (due in ``delay_s``)."""
    now = time.time()
    text = json.dumps(body, allow_nan=False)
    for route in routes:
        conn.execute(insert(s.outbox).values(
            model_id=model_id, alert_id=alert_id, route=route, body=text, created_at=now,
            status="pending", attempts=0, next_attempt_at=now + delay_s, lease_until=0.0))


def withdraw(conn: Any, model_id: int, alert_id: int, why: str) -> int:
    """Mark the alert's deliveries not yet made ``grouped`` (never sent); how many."""
    o = s.outbox.c
    done = conn.execute(update(s.outbox).where(
        o.model_id == model_id, o.alert_id == alert_id, o.status == "pending",
        o.attempts == 0).values(status="grouped", last_error=why))
    return int(done.rowcount or 0)


def claim(engine: Engine, lease_s: float, limit: int = 50) -> list[Delivery]:
    """Due deliveries no other sender holds, leased to the caller for ``lease_s``."""
    o, m = s.outbox.c, s.models.c
    now = time.time()
    due = and_(o.status == "pending", o.next_attempt_at <= now, o.lease_until < now)
    with writing(engine) as conn:
        query = select(o.id).where(due).order_by(o.id).limit(limit)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(conn.execute(query).scalars())
        if not ids:
            return []
        conn.execute(update(s.outbox).where(o.id.in_(ids), due).values(
            lease_until=now + lease_s))
        rows = conn.execute(select(o.id, m.name, o.alert_id, o.route, o.body, o.attempts)
                            .join(s.models, m.id == o.model_id).where(o.id.in_(ids))
                            .order_by(o.id)).all()
    return [Delivery(r.id, r.name, r.alert_id, r.route, json.loads(r.body), r.attempts)
            for r in rows]


def record_attempt(engine: Engine, delivery: Delivery, *, ok: bool, duration_s: float,
                   status_code: int | None, error: str | None, retry_at: float | None
                   ) -> None:
    """Log one attempt; the delivery is done (``ok``), due again at ``retry_at``, or, with
    neither, given up."""
    o = s.outbox.c
    now = time.time()
    values: dict[str, Any] = {"attempts": delivery.attempts + 1, "lease_until": 0.0,
                              "last_error": None if ok else error}
    if ok:
        values.update(status="delivered", delivered_at=now)
    elif retry_at is not None:
        values.update(next_attempt_at=retry_at)
    else:
        values.update(status="failed")
    with writing(engine) as conn:
        conn.execute(insert(s.delivery_attempts).values(
            outbox_id=delivery.id, at=now, duration_s=duration_s, status_code=status_code,
            error=None if error is None else error[:2000]))
        conn.execute(update(s.outbox).where(o.id == delivery.id).values(**values))


def deliveries(engine: Engine, model_id: int, alert_id: int) -> list[dict[str, Any]]:
    """An alert's deliveries with their attempts, oldest first."""
    o, a = s.outbox.c, s.delivery_attempts.c
    with reading(engine) as conn:
        rows = conn.execute(select(s.outbox).where(o.model_id == model_id,
                                                   o.alert_id == alert_id).order_by(o.id)
                            ).all()
        tries = conn.execute(select(s.delivery_attempts).where(a.outbox_id.in_(
            [r.id for r in rows])).order_by(a.id)).all() if rows else []
    by_delivery: dict[int, list[dict[str, Any]]] = {}
    for t in tries:
        by_delivery.setdefault(t.outbox_id, []).append(
            {"at": t.at, "duration_s": t.duration_s, "status_code": t.status_code,
             "error": t.error})
    return [{"id": r.id, "route": r.route, "status": r.status, "attempts": r.attempts,
             "kind": json.loads(r.body)["event"]["kind"], "created_at": r.created_at,
             "delivered_at": r.delivered_at, "last_error": r.last_error,
             "tries": by_delivery.get(r.id, [])} for r in rows]
