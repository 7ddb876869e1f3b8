"""Dashboard sign-ins: session cookies and one-time login links, stored as digests.

A token is ``ds_<id>_<secret>``: the id finds the row, the secret (32 random bytes) is
compared by its SHA-256 digest in constant time, as API keys are (``keys``). Each row stands
for an API key (``key_id``; ``None``: the service's admin key, DRIFTWISE_API_KEY), so what a
session may read is what its key may read, checked again at every request: revoking the
key ends its sessions.

A link is spent by one conditional update (``used_at IS NULL AND expires_at > now``), so of
two requests presenting it at once exactly one signs in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from driftwise.store import schema as s
from driftwise.store.db import reading, writing

__all__ = ["LINK_TTL_S", "SignIn", "create_link", "create_session", "end_session",
           "find_session", "prune", "spend_link"]

LINK_TTL_S = 900.0
_PREFIX = "ds"


@dataclass(frozen=True)
class SignIn:
    """A live session or link: which key it stands for (``None``: the admin key)."""

    id: str
    key_id: str | None
    kind: str  # session | link
    created_at: float
    expires_at: float

    @property
    def admin(self) -> bool:
        """Whether it stands for the service's admin key."""
        return self.key_id is None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _parts(token: str) -> tuple[str, str] | None:
    parts = token.split("_", 2)
    if len(token) > 200 or len(parts) != 3 or parts[0] != _PREFIX or not parts[1] \
            or not parts[2]:
        return None
    return parts[1], parts[2]


def _create(engine: Engine, key_id: str | None, kind: str, ttl_s: float) -> str:
    if not ttl_s > 0:
        raise ValueError(f"ttl_s must be positive, got {ttl_s!r}")
    row_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    now = time.time()
    with writing(engine) as conn:
        conn.execute(insert(s.sessions).values(
            id=row_id, hash=_digest(secret), key_id=key_id, kind=kind, created_at=now,
            expires_at=now + ttl_s))
    return f"{_PREFIX}_{row_id}_{secret}"


def create_session(engine: Engine, key_id: str | None, ttl_s: float) -> str:
    """A new session for ``key_id`` (``None``: the admin key); its token, shown once.

    Expired sessions and links are pruned first, so the table holds only live rows and
    those of the last sign-in's moment.
    """
    prune(engine)
    return _create(engine, key_id, "session", ttl_s)


def create_link(engine: Engine, key_id: str | None, ttl_s: float = LINK_TTL_S) -> str:
    """A one-time login link's token for ``key_id`` (``None``: the admin key), valid for
    ``ttl_s`` seconds or until first spent."""
    return _create(engine, key_id, "link", ttl_s)


def _live(conn: Any, token: str, kind: str, now: float) -> Any:
    parts = _parts(token)
    if parts is None:
        return None
    row = conn.execute(select(s.sessions).where(s.sessions.c.id == parts[0],
                                                s.sessions.c.kind == kind)).first()
    if row is None or row.expires_at <= now or row.used_at is not None:
        return None
    return row if hmac.compare_digest(row.hash, _digest(parts[1])) else None


def _sign_in(row: Any) -> SignIn:
    return SignIn(row.id, row.key_id, row.kind, row.created_at, row.expires_at)


def spend_link(engine: Engine, token: str) -> SignIn | None:
    """Spend a one-time link: what it stands for, or ``None`` when it is unknown, expired or
    already spent (a second use always fails, even one racing the first)."""
    now = time.time()
    c = s.sessions.c
    with writing(engine) as conn:
        row = _live(conn, token, "link", now)
        if row is None:
            return None
        done = conn.execute(update(s.sessions).where(
            c.id == row.id, c.used_at.is_(None), c.expires_at > now).values(used_at=now))
    return _sign_in(row) if done.rowcount == 1 else None


def find_session(engine: Engine, token: str) -> SignIn | None:
    """The live session ``token`` stands for, or ``None`` (unknown, expired or ended)."""
    with reading(engine) as conn:
        row = _live(conn, token, "session", time.time())
    return None if row is None else _sign_in(row)


def end_session(engine: Engine, token: str) -> bool:
    """End the session ``token`` stands for (signing out); whether there was one."""
    found = find_session(engine, token)
    if found is None:
        return False
    with writing(engine) as conn:
        conn.execute(delete(s.sessions).where(s.sessions.c.id == found.id))
    return True


def prune(engine: Engine, now: float | None = None) -> int:
    """Delete expired sessions and links, and spent links; how many rows went."""
    at = time.time() if now is None else now
    c = s.sessions.c
    with writing(engine) as conn:
        done = conn.execute(delete(s.sessions).where(
            (c.expires_at <= at) | ((c.kind == "link") & c.used_at.is_not(None))))
    return int(done.rowcount or 0)
