"""Who may call what: API keys with scopes, optionally limited to some models.

With no key configured at all (no DRIFTWISE_API_KEY and no stored key) the service runs
open, which ``ServiceSettings`` only allows on loopback. Once any key exists every route
but /healthz and /readyz needs one: no key is 401, a key without the scope or the model 403.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from driftwise.store import keys

__all__ = ["Authority"]


class Authority:
    """Checks keys against the store (with a short cache of whether any key exists)."""

    def __init__(self, engine: Engine, admin_key: str | None) -> None:
        self.engine, self.admin_key = engine, admin_key
        self._any: tuple[float, bool] = (0.0, False)

    def required(self) -> bool:
        """Whether requests need a key: an admin key is set or a live stored key exists
        (checked at most every 2 s)."""
        if self.admin_key is not None:
            return True
        checked, found = self._any
        if time.monotonic() - checked > 2.0:
            found = keys.has_keys(self.engine)
            self._any = (time.monotonic(), found)
        return found

    def is_admin_key(self, text: str) -> bool:
        """Whether ``text`` is the service's admin key (compared in constant time)."""
        return self.admin_key is not None and hmac.compare_digest(text.encode(),
                                                                  self.admin_key.encode())

    def check(self, request: Request, scope: str, model: str | None) -> keys.ApiKey | None:
        """Raise 401/403 unless the request's key allows ``scope`` on ``model``; the stored
        key presented (``None``: the admin key, or none needed)."""
        if not self.required():
            return None
        text = _presented(request)
        if text is None:
            raise HTTPException(401, "an API key is required: send `Authorization: Bearer "
                                "<key>` (or `X-API-Key`)",
                                headers={"WWW-Authenticate": "Bearer"})
        if self.is_admin_key(text):
            return None
        key = keys.find_key(self.engine, text)
        if key is None:
            raise HTTPException(401, "unknown or revoked API key",
                                headers={"WWW-Authenticate": "Bearer"})
        if not key.allows(scope, model):
            where = f" on model {model!r}" if model else ""
            raise HTTPException(403, f"this key ({key.id}) lacks the {scope!r} scope{where}")
        return key

    def _settled(self, request: Request) -> bool:
        """Whether the request may pass without asking the store: the service is open (as
        last checked, under 2 s ago) or the request presents the admin key."""
        if self.admin_key is None:
            checked, found = self._any
            return time.monotonic() - checked <= 2.0 and not found
        text = _presented(request)
        return text is not None and self.is_admin_key(text)

    def scope(self, scope: str) -> Callable[[Request], Awaitable[keys.ApiKey | None]]:
        """A FastAPI dependency checking ``scope`` (and the path's model, if any); its value
        is the key presented, as :meth:`check` returns it. It answers on the event loop when
        no lookup is needed, and looks stored keys up in a worker thread (never cached, so a
        revoked key is refused at once)."""
        async def dependency(request: Request) -> keys.ApiKey | None:
            if self._settled(request):
                return None
            return await run_in_threadpool(self.check, request, scope,
                                           request.path_params.get("name"))
        return dependency


def _presented(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        kind, _, value = header.partition(" ")
        if kind.lower() == "bearer" and value.strip():
            return value.strip()
    return request.headers.get("x-api-key") or None
