"""The automated response in the store: the incident trail (append-only), the actions an
incident asked for (one row per incident and action: the idempotency key), and the blocks
``/screen`` enforces.

An action is queued in the transaction that opens its alert (``store.alerts.advance``), so
a crash between the alert and the action loses neither; a runner (any server: rows are
leased) claims it, runs it and records the result, and every step lands in the trail. A
runner that dies mid-action leaves its lease to expire: the action is claimed again, and
the receivers get the same ``Idempotency-Key`` (``<incident>:<action>``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from driftwise.errors import ConflictError, NotFoundError
from driftwise.store import schema as s
from driftwise.store.db import reading, writing

__all__ = ["ActionJob", "Block", "active_blocks", "add_blocks", "append", "claim_actions",
           "finish_action", "incident_actions", "lift_block", "list_blocks",
           "quarantined_between", "queue_actions", "trail"]

#: An action still to run; every other status is final.
PENDING = "pending"
#: How often a claimed action is tried before it is given up (a runner died each time).
MAX_CLAIMS = 5


def append(conn: Any, incident_id: int, kind: str, actor: str, body: Mapping[str, Any],
           at: float | None = None) -> None:
    """Add one event to an incident's trail within the caller's transaction."""
    conn.execute(insert(s.incident_events).values(
        incident_id=incident_id, at=time.time() if at is None else at, kind=kind,
        actor=actor[:200], body=json.dumps(dict(body), default=str, allow_nan=False)))


def trail(engine: Engine, incident_id: int) -> list[dict[str, Any]]:
    """The incident's trail, oldest first."""
    e = s.incident_events.c
    with reading(engine) as conn:
        rows = conn.execute(select(s.incident_events).where(
            e.incident_id == incident_id).order_by(e.id)).all()
    return [{**json.loads(r.body), "id": int(r.id), "at": r.at, "kind": r.kind,
             "actor": r.actor} for r in rows]


@dataclass(frozen=True)
class ActionJob:
    """One queued action of an incident, as a runner claimed it."""

    id: int
    incident_id: int
    model_id: int
    model: str
    alert_id: int
    window: int
    action: str
    spec: dict[str, Any]
    why: dict[str, Any]
    attempts: int


def queue_actions(conn: Any, incident_id: int, model_id: int, alert_id: int, window: int,
                  items: Sequence[tuple[str, Mapping[str, Any], Mapping[str, Any]]],
                  actor: str = "driftwise") -> list[str]:
    """Queue ``(name, spec, why)`` actions for the incident within the caller's
    transaction; those the incident had already (from another alert, or queued before)
    are not queued again. Returns the names queued."""
    now = time.time()
    queued = []
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    for name, spec, why in items:
        stmt = dialect.insert(s.response_actions).values(
            incident_id=incident_id, model_id=model_id, alert_id=alert_id, window=window,
            action=name, spec=json.dumps(dict(spec), default=str),
            why=json.dumps(dict(why), default=str), status=PENDING, attempts=0,
            created_at=now, lease_until=0.0).on_conflict_do_nothing(
            index_elements=["incident_id", "action"]).returning(s.response_actions.c.id)
        # RETURNING, not rowcount: psycopg reports a row for an insert that did nothing.
        if conn.execute(stmt).first() is not None:
            queued.append(name)
            append(conn, incident_id, "action_queued", actor,
                   {"action": name, "action_kind": spec.get("kind"), "model_id": model_id,
                    "alert_id": alert_id, "window": window, "why": dict(why),
                    "dry_run": bool(spec.get("dry_run", False))}, now)
    return queued


def claim_actions(engine: Engine, lease_s: float, limit: int = 20) -> list[ActionJob]:
    """Pending actions no other runner holds, leased to the caller for ``lease_s``."""
    a, m = s.response_actions.c, s.models.c
    now = time.time()
    due = and_(a.status == PENDING, a.lease_until < now)
    with writing(engine) as conn:
        query = select(a.id).where(due).order_by(a.id).limit(limit)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(conn.execute(query).scalars())
        if not ids:
            return []
        conn.execute(update(s.response_actions).where(a.id.in_(ids), due).values(
            lease_until=now + lease_s, attempts=a.attempts + 1))
        rows = conn.execute(select(s.response_actions, m.name).join(
            s.models, m.id == a.model_id).where(a.id.in_(ids)).order_by(a.id)).all()
    return [ActionJob(int(r.id), int(r.incident_id), int(r.model_id), r.name,
                      int(r.alert_id), int(r.window), r.action, json.loads(r.spec),
                      json.loads(r.why), int(r.attempts)) for r in rows]


def finish_action(engine: Engine, job: ActionJob, status: str, result: Mapping[str, Any],
                  actor: str = "driftwise") -> None:
    """Record what the action did, and put it in the trail."""
    now = time.time()
    a = s.response_actions.c
    with writing(engine) as conn:
        conn.execute(update(s.response_actions).where(a.id == job.id).values(
            status=status, finished_at=now, lease_until=0.0,
            result=json.dumps(dict(result), default=str)))
        append(conn, job.incident_id, "action_result", actor,
               {**dict(result), "action": job.action, "action_kind": job.spec.get("kind"),
                "status": status, "model_id": job.model_id}, now)


def incident_actions(engine: Engine, incident_id: int) -> list[dict[str, Any]]:
    """The incident's actions with their state, in the order they were queued."""
    a, m = s.response_actions.c, s.models.c
    with reading(engine) as conn:
        rows = conn.execute(select(s.response_actions, m.name).join(
            s.models, m.id == a.model_id).where(a.incident_id == incident_id)
            .order_by(a.id)).all()
    return [{"action": r.action, "model": r.name, "alert_id": r.alert_id, "window": r.window,
             "status": r.status, "attempts": r.attempts, "queued_at": r.created_at,
             "finished_at": r.finished_at, "spec": json.loads(r.spec),
             "why": json.loads(r.why),
             "result": None if r.result is None else json.loads(r.result)} for r in rows]


@dataclass(frozen=True)
class Block:
    """A client key or a segment whose records ``/screen`` quarantines."""

    id: int
    model_id: int
    kind: str  # client | segment
    client_key: str | None
    segment: dict[str, Any] | None
    incident_id: int | None
    reason: dict[str, Any]
    created_at: float
    until: float
    lifted_at: float | None
    lifted_by: str | None

    def active(self, now: float) -> bool:
        return self.lifted_at is None and now < self.until

    def matches(self, client_key: Any, features: Mapping[str, Any]) -> bool:
        """Whether a screened record falls under the block."""
        if self.kind == "client":
            return client_key is not None and str(client_key) == self.client_key
        return bool(self.segment) and all(
            k in features and _same(features[k], v) for k, v in (self.segment or {}).items())

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "client_key": self.client_key,
                "segment": self.segment, "incident_id": self.incident_id,
                "reason": self.reason, "created_at": self.created_at, "until": self.until,
                "lifted_at": self.lifted_at, "lifted_by": self.lifted_by}


def _same(value: Any, wanted: Any) -> bool:
    """A feature's value equals a segment's (numbers by value, anything else as text)."""
    if isinstance(wanted, bool) or isinstance(value, bool):
        return value is wanted or str(value).lower() == str(wanted).lower()
    if isinstance(wanted, int | float) and isinstance(value, int | float):
        return float(value) == float(wanted)
    return str(value) == str(wanted)


def _block(r: Any) -> Block:
    return Block(int(r.id), int(r.model_id), r.kind, r.client_key,
                 None if r.segment is None else json.loads(r.segment),
                 None if r.incident_id is None else int(r.incident_id), json.loads(r.reason),
                 float(r.created_at), float(r.until), r.lifted_at, r.lifted_by)


def add_blocks(engine: Engine, model_id: int, items: Sequence[Mapping[str, Any]],
               incident_id: int | None, actor: str) -> list[Block]:
    """Block client keys (``{"client_key": ...}``) or segments (``{"segment": {...}}``),
    each with ``until`` and ``reason``; a key or segment already blocked (active) is
    extended to the later end instead of blocked twice. The blocks as they stand."""
    now = time.time()
    b = s.blocks.c
    out = []
    with writing(engine) as conn:
        current = [_block(r) for r in conn.execute(select(s.blocks).where(
            b.model_id == model_id, b.lifted_at.is_(None), b.until > now))]
        for item in items:
            key = item.get("client_key")
            segment = item.get("segment")
            kind = "client" if key is not None else "segment"
            same = next((x for x in current if x.kind == kind and (
                x.client_key == key if kind == "client" else x.segment == segment)), None)
            until = float(item["until"])
            if same is not None:
                if until > same.until:
                    conn.execute(update(s.blocks).where(b.id == same.id).values(until=until))
                block_id = same.id
            else:
                block_id = int(conn.execute(insert(s.blocks).values(
                    model_id=model_id, kind=kind, client_key=None if key is None else str(key),
                    segment=None if segment is None else json.dumps(segment),
                    incident_id=incident_id, reason=json.dumps(item.get("reason", {}),
                                                               default=str),
                    created_at=now, until=until).returning(b.id)).scalar_one())
            if incident_id is not None:
                append(conn, incident_id, "block", actor,
                       {"block_id": block_id, "model_id": model_id, "target": kind,
                        "client_key": key,
                        "segment": segment, "until": until,
                        "extended": same is not None}, now)
            out.append(block_id)
        rows = conn.execute(select(s.blocks).where(b.id.in_(out))).all()
    return [_block(r) for r in rows]


def active_blocks(engine: Engine, model_id: int, now: float | None = None) -> list[Block]:
    """The model's blocks in force now."""
    at = time.time() if now is None else now
    b = s.blocks.c
    with reading(engine) as conn:
        return [_block(r) for r in conn.execute(select(s.blocks).where(
            b.model_id == model_id, b.lifted_at.is_(None), b.until > at).order_by(b.id))]


def list_blocks(engine: Engine, model_id: int, active_only: bool = True,
                limit: int = 100) -> list[Block]:
    """Newest first; every block when not ``active_only``."""
    b = s.blocks.c
    q = select(s.blocks).where(b.model_id == model_id)
    if active_only:
        q = q.where(b.lifted_at.is_(None), b.until > time.time())
    with reading(engine) as conn:
        return [_block(r) for r in conn.execute(q.order_by(b.id.desc()).limit(limit))]


def lift_block(engine: Engine, model_id: int, block_id: int, who: str) -> Block:
    """End a block now (once: an ended one is a 409); recorded in its incident's trail."""
    b = s.blocks.c
    now = time.time()
    with writing(engine) as conn:
        row = conn.execute(select(s.blocks).where(b.model_id == model_id,
                                                  b.id == block_id)).first()
        if row is None:
            raise NotFoundError(f"block {block_id} not found")
        done = conn.execute(update(s.blocks).where(
            b.id == block_id, b.lifted_at.is_(None), b.until > now).values(
            lifted_at=now, lifted_by=who)).rowcount
        if not done:
            raise ConflictError(f"block {block_id} is not in force (lifted or expired)")
        if row.incident_id is not None:
            append(conn, int(row.incident_id), "block_lifted", who,
                   {"block_id": block_id, "model_id": model_id, "target": row.kind,
                    "client_key": row.client_key},
                   now)
        found = conn.execute(select(s.blocks).where(b.id == block_id)).first()
    return _block(found)


def quarantined_between(engine: Engine, model_id: int, start: float, end: float
                        ) -> dict[str, Any]:
    """What ``/screen`` held back between two server times: how many records, by signal,
    and the client keys held for probing with how many records each."""
    q = s.quarantine.c
    with reading(engine) as conn:
        rows = conn.execute(select(q.client_key, q.reason).where(
            q.model_id == model_id, q.created_at > start, q.created_at <= end)).all()
    by_signal: dict[str, int] = {}
    probing: dict[str, int] = {}
    for key, reason in rows:
        signals = json.loads(reason).get("signals") or []
        for sig in signals:
            by_signal[sig] = by_signal.get(sig, 0) + 1
        if key is not None and "probing" in signals:
            probing[key] = probing.get(key, 0) + 1
    return {"count": len(rows), "by_signal": by_signal, "probing_keys": probing}
