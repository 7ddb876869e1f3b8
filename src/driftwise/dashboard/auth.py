"""Who is looking at the dashboard: a session cookie standing for an API key.

A person signs in with a key that may read (the admin key or a stored key with ``read``,
``alerts`` or ``admin``), or with a one-time link printed by ``driftwise login-link``; the
service answers with a session cookie (HttpOnly, Secure, SameSite=Strict). Every page
request looks the session up and then its key, so an ended session or a revoked key is
refused at once. With no key configured at all the service is open (as its API is) and the
pages need no sign-in.

Cross-site requests: the cookie is SameSite=Strict, and the two forms that change state
(sign in, sign out) are refused unless their Origin (or Referer) is this site.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request
from sqlalchemy import Engine

from driftwise.service.auth import Authority
from driftwise.store import keys, sessions
from driftwise.store.keys import ApiKey

__all__ = ["COOKIE", "SESSION_TTL_S", "Gate", "LoginRequired", "Viewer", "safe_next",
           "same_origin"]

COOKIE = "driftwise_session"
SESSION_TTL_S = 12 * 3600.0


@dataclass(frozen=True)
class Viewer:
    """Who reads a page: ``key`` limits the models (``None``: every model, for the admin
    key or an open service); ``token`` is the session's (``None``: an open service)."""

    key: ApiKey | None
    token: str | None

    @property
    def models(self) -> tuple[str, ...] | None:
        """The models the viewer may read (``None``: every model)."""
        return None if self.key is None else self.key.models

    def sees(self, model: str) -> bool:
        """Whether the viewer may read ``model``."""
        return self.key is None or self.key.allows("read", model)

    @property
    def signed_in(self) -> bool:
        """Whether the viewer came in through a session (and so can sign out)."""
        return self.token is not None


class LoginRequired(Exception):
    """The request has no live session: send the person to the sign-in form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def safe_next(value: str | None) -> str:
    """``value`` when it is a path of this site (``/…``, no scheme, no host, no backslash,
    no control character), else ``/``: a sign-in never redirects elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or len(value) > 2000:
        return "/"
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def same_origin(request: Request) -> bool:
    """Whether a form was posted from this site: its Origin (else its Referer) names the
    host the request was sent to. Neither header present: refused (browsers send Origin
    with every form POST)."""
    host = request.headers.get("host")
    source = request.headers.get("origin") or request.headers.get("referer")
    if not host or not source or source == "null":
        return False
    parts = urlsplit(source)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


class Gate:
    """Sessions and sign-in for the pages, over the service's key checks."""

    def __init__(self, engine: Engine, authority: Authority) -> None:
        self.engine, self.authority = engine, authority

    def open(self) -> bool:
        """Whether the service is open (no key configured): pages need no sign-in."""
        return not self.authority.required()

    def viewer(self, request: Request) -> Viewer:
        """The viewer of ``request``; :class:`LoginRequired` when there is none."""
        if self.open():
            return Viewer(None, None)
        found = self.session(request)
        if found is None:
            query = f"?{request.url.query}" if request.url.query else ""
            raise LoginRequired(safe_next(request.url.path + query))
        return found

    def session(self, request: Request) -> Viewer | None:
        """The viewer the request's session cookie stands for, if it is live and its key
        still is (and may read)."""
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        found = sessions.find_session(self.engine, token)
        if found is None:
            return None
        live, key = self._reader(found.key_id)
        return Viewer(key, token) if live else None

    def _reader(self, key_id: str | None) -> tuple[bool, ApiKey | None]:
        """Whether a sign-in's key still may read, and the stored key (``None``: the admin
        key). The admin key counts while the service still has one: removing it from the
        settings ends its sessions; revoking a stored key ends its sessions."""
        if key_id is None:
            return self.authority.admin_key is not None, None
        key = keys.live_key(self.engine, key_id)
        return key is not None and key.allows("read", None), key

    def sign_in(self, text: str) -> str | None:
        """A session token for the key ``text`` when it may read, else ``None``."""
        text = text.strip()
        if not text:
            return None
        if self.authority.is_admin_key(text):
            return sessions.create_session(self.engine, None, SESSION_TTL_S)
        key = keys.find_key(self.engine, text)
        if key is None or not key.allows("read", None):
            return None
        return sessions.create_session(self.engine, key.id, SESSION_TTL_S)

    def spend(self, link: str) -> str | None:
        """A session token for a one-time link's key, spending the link; ``None`` when
        the link is unknown, expired or spent, or its key no longer may read."""
        found = sessions.spend_link(self.engine, link)
        if found is None or not self._reader(found.key_id)[0]:
            return None
        return sessions.create_session(self.engine, found.key_id, SESSION_TTL_S)

    def sign_out(self, request: Request) -> None:
        """End the request's session, if any."""
        token = request.cookies.get(COOKIE)
        if token:
            sessions.end_session(self.engine, token)
