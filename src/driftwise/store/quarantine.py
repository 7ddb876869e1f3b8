"""The quarantine queue: records /screen held back, with the reason, until released or
discarded. A record is held once per model (by its id): screening it again is a no-op."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from driftwise.errors import ConflictError, NotFoundError
from driftwise.store import schema as s
from driftwise.store.db import reading, writing

__all__ = ["QuarantinedRecord", "decide", "get", "hold", "list_held"]

STATES = ("held", "released", "discarded")


@dataclass(frozen=True)
class QuarantinedRecord:
    id: int
    record_id: str
    client_key: str | None
    state: str
    p_value: float
    created_at: float
    decided_at: float | None
    decided_by: str | None
    record: dict[str, Any]
    reason: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "record_id": self.record_id, "client_key": self.client_key,
                "state": self.state, "p_value": self.p_value, "created_at": self.created_at,
                "decided_at": self.decided_at, "decided_by": self.decided_by,
                "record": self.record, "reason": self.reason}


def _out(row: Any) -> QuarantinedRecord:
    return QuarantinedRecord(int(row.id), row.record_id, row.client_key, row.state,
                             float(row.p_value), float(row.created_at), row.decided_at,
                             row.decided_by, json.loads(row.record), json.loads(row.reason))


def hold(engine: Engine, model_id: int, items: list[dict[str, Any]]) -> int:
    """Store records to hold (``record_id``, ``client_key``, ``p_value``, ``record``,
    ``reason``), durably, before the verdict is answered. Returns how many were new."""
    if not items:
        return 0
    now = time.time()
    rows = [{"model_id": model_id, "record_id": i["record_id"], "client_key": i["client_key"],
             "state": "held", "p_value": i["p_value"], "created_at": now,
             "record": json.dumps(i["record"], default=str),
             "reason": json.dumps(i["reason"], default=str)} for i in items]
    with writing(engine) as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(s.quarantine).values(rows).on_conflict_do_nothing(
            index_elements=["model_id", "record_id"]).returning(s.quarantine.c.id)
        # RETURNING, not rowcount: psycopg counts the rows an ON CONFLICT DO NOTHING skipped.
        return len(conn.execute(stmt).all())


def list_held(engine: Engine, model_id: int, state: str | None = "held",
              limit: int = 100) -> list[QuarantinedRecord]:
    """Newest first; ``state`` None for every state."""
    q = select(s.quarantine).where(s.quarantine.c.model_id == model_id)
    if state is not None:
        q = q.where(s.quarantine.c.state == state)
    q = q.order_by(s.quarantine.c.created_at.desc(), s.quarantine.c.id.desc()).limit(limit)
    with reading(engine) as conn:
        return [_out(r) for r in conn.execute(q)]


def get(engine: Engine, model_id: int, entry_id: int) -> QuarantinedRecord:
    with reading(engine) as conn:
        row = conn.execute(select(s.quarantine).where(
            s.quarantine.c.model_id == model_id, s.quarantine.c.id == entry_id)).first()
    if row is None:
        raise NotFoundError(f"quarantine entry {entry_id} not found")
    return _out(row)


def decide(engine: Engine, model_id: int, entry_id: int, state: str,
           who: str | None) -> QuarantinedRecord:
    """Release or discard a held record (once: a decided one is a 409)."""
    assert state in ("released", "discarded")
    with writing(engine) as conn:
        done = conn.execute(update(s.quarantine).where(
            s.quarantine.c.model_id == model_id, s.quarantine.c.id == entry_id,
            s.quarantine.c.state == "held").values(
                state=state, decided_at=time.time(), decided_by=who)).rowcount
    entry = get(engine, model_id, entry_id)
    if not done:
        raise ConflictError(f"quarantine entry {entry_id} was already {entry.state}")
    return entry
