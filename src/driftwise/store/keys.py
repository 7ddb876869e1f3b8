"""API keys: stored as SHA-256 digests, with scopes and an optional list of models.

A key is ``dw_<id>_<secret>``: the id finds the row, the secret (32 random bytes) is
compared by digest in constant time. A digest, not a slow password hash, because the secret
is random and long (no dictionary to try) and every request checks one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update

from driftwise.errors import NotFoundError
from driftwise.store import schema as s
from driftwise.store.db import reading, writing

__all__ = ["SCOPES", "ApiKey", "create_key", "find_key", "has_keys", "list_keys", "live_key",
           "revoke_key"]

SCOPES = ("ingest", "read", "metrics", "alerts", "admin")
# What each scope also grants: admin everything, read the metrics exposition too; alerts
# (acknowledge, silence, resolve) reading too.
_IMPLIES = {"admin": frozenset(SCOPES), "read": frozenset({"read", "metrics"}),
            "alerts": frozenset({"alerts", "read", "metrics"})}


@dataclass(frozen=True)
class ApiKey:
    """A key's public facts (never its secret)."""

    id: str
    name: str
    scopes: tuple[str, ...]
    models: tuple[str, ...] | None
    created_at: float
    revoked_at: float | None

    def allows(self, scope: str, model: str | None) -> bool:
        """Whether the key may act in ``scope`` (admin implies all, read implies metrics)
        on ``model``."""
        if not any(scope == s or scope in _IMPLIES.get(s, ()) for s in self.scopes):
            return False
        return model is None or self.models is None or model in self.models


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(engine: Engine, name: str, scopes: tuple[str, ...],
               models: tuple[str, ...] | None = None) -> tuple[str, ApiKey]:
    """A new key: its full text (shown once) and its stored facts."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    now = time.time()
    with writing(engine) as conn:
        conn.execute(insert(s.api_keys).values(
            id=key_id, name=name, hash=_digest(secret), scopes=",".join(scopes),
            models=None if models is None else json.dumps(list(models)), created_at=now))
    return f"dw_{key_id}_{secret}", ApiKey(key_id, name, scopes, models, now, None)


def _key(row: Any) -> ApiKey:
    return ApiKey(row.id, row.name, tuple(row.scopes.split(",")),
                  None if row.models is None else tuple(json.loads(row.models)),
                  row.created_at, row.revoked_at)


def find_key(engine: Engine, text: str) -> ApiKey | None:
    """The live key ``text`` stands for, or ``None``."""
    parts = text.split("_", 2)
    if len(parts) != 3 or parts[0] != "dw" or not parts[1] or len(text) > 200:
        return None
    with reading(engine) as conn:
        row = conn.execute(select(s.api_keys).where(s.api_keys.c.id == parts[1])).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.hash, _digest(parts[2])):
        return None
    return _key(row)


def live_key(engine: Engine, key_id: str) -> ApiKey | None:
    """The key with id ``key_id`` unless it was revoked (a dashboard session's key, looked
    up at every request so that revoking the key ends its sessions)."""
    with reading(engine) as conn:
        row = conn.execute(select(s.api_keys).where(s.api_keys.c.id == key_id)).first()
    return None if row is None or row.revoked_at is not None else _key(row)


def list_keys(engine: Engine) -> list[ApiKey]:
    """Every key, newest first (revoked ones included, marked)."""
    with reading(engine) as conn:
        rows = conn.execute(select(s.api_keys).order_by(s.api_keys.c.created_at.desc()))
        return [_key(r) for r in rows]


def has_keys(engine: Engine) -> bool:
    """Whether any live key exists."""
    with reading(engine) as conn:
        return conn.execute(select(s.api_keys.c.id).where(
            s.api_keys.c.revoked_at.is_(None)).limit(1)).first() is not None


def revoke_key(engine: Engine, key_id: str) -> None:
    """Revoke a key by its id (the part after ``dw_``)."""
    with writing(engine) as conn:
        done = conn.execute(update(s.api_keys).where(s.api_keys.c.id == key_id,
                                                     s.api_keys.c.revoked_at.is_(None))
                            .values(revoked_at=time.time()))
    if not done.rowcount:
        raise NotFoundError(f"no live API key with id {key_id!r}")
