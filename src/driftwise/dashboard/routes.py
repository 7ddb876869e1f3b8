"""The dashboard's routes: the pages, signing in and out, and their security headers.

Pages are plain ``def`` routes, so their store reads run in the thread pool. Every
response carries a Content-Security-Policy that allows no script and no fetch at all, and
styles only from the page's one ``<style>`` element (its nonce); framing is refused.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import FastAPI, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Engine

from driftwise.app import fleet
from driftwise.dashboard import fleet_page, incident_page, model_page, pages, views
from driftwise.dashboard.auth import (
    COOKIE,
    SESSION_TTL_S,
    Gate,
    LoginRequired,
    Viewer,
    safe_next,
    same_origin,
)
from driftwise.errors import NotFoundError
from driftwise.service.auth import Authority
from driftwise.service.schemas import IncidentReport

__all__ = ["mount", "security_headers"]

MAX_WINDOW = 2**31 - 1
MAX_INCIDENT = 2**31 - 1  # ids are 32-bit in the store, as the API bounds them
#: Page builders get the viewer and the response's CSP nonce.
Build = Callable[[Viewer, str], str]


def security_headers(nonce: str | None) -> dict[str, str]:
    """The headers of every dashboard response (``nonce``: the page's stylesheet's)."""
    style = f"'nonce-{nonce}'" if nonce else "'none'"
    return {"Content-Security-Policy": f"default-src 'none'; style-src {style}; "
            "img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}


def _page(html: str, nonce: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers=security_headers(nonce))


def _redirect(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303, headers=security_headers(None))


def _with_session(response: Response, token: str) -> Response:
    response.set_cookie(COOKIE, token, max_age=int(SESSION_TTL_S), path="/", secure=True,
                        httponly=True, samesite="strict")
    return response


def _incident_number(text: str) -> int:
    """An incident's number from its path; NotFoundError for anything else."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10 \
            or not 1 <= int(text) <= MAX_INCIDENT:
        raise NotFoundError(f"no incident {text!r}")
    return int(text)


def _nonce() -> str:
    return secrets.token_urlsafe(18)


def mount(app: FastAPI, engine: Engine, authority: Authority) -> None:
    """Add the dashboard's pages to ``app`` (the service's, with its store and keys)."""
    gate = Gate(engine, authority)

    def serve(request: Request, build: Build) -> Response:
        try:
            viewer = gate.viewer(request)
        except LoginRequired as exc:
            return _redirect(f"/login?next={quote(exc.next_path, safe='')}")
        nonce = _nonce()
        try:
            return _page(build(viewer, nonce), nonce)
        except NotFoundError as exc:
            return _page(pages.error_page(404, str(exc), nonce, viewer), nonce, 404)

    def serve_json(request: Request, build: Callable[[Viewer], tuple[str, object]]
                   ) -> Response:
        """``build``'s ``(file name, value)`` as a JSON download, under the pages' sign-in
        (the session cookie does not stand for a key at the API)."""
        try:
            viewer = gate.viewer(request)
        except LoginRequired as exc:
            return _redirect(f"/login?next={quote(exc.next_path, safe='')}")
        try:
            name, found = build(viewer)
        except NotFoundError as exc:
            nonce = _nonce()
            return _page(pages.error_page(404, str(exc), nonce, viewer), nonce, 404)
        headers = {**security_headers(None),
                   "Content-Disposition": f'attachment; filename="{name}"'}
        return Response(json.dumps(found, indent=2, default=str) + "\n",
                        media_type="application/json", headers=headers)

    def refuse(status: int, message: str) -> HTMLResponse:
        nonce = _nonce()
        return _page(pages.error_page(status, message, nonce, None), nonce, status)

    @app.get("/", include_in_schema=False)
    def overview(request: Request) -> Response:
        return serve(request, lambda viewer, nonce: pages.overview_page(
            views.summaries(engine, viewer), views.open_alerts(engine, viewer), nonce, viewer))

    @app.get("/fleet", include_in_schema=False)
    def fleet_graph(request: Request) -> Response:
        return serve(request, lambda viewer, nonce: fleet_page.fleet_page(
            fleet.fleet(engine, viewer.models), nonce, viewer))

    # Before the page's route, whose path would take "7.json" as the incident.
    @app.get("/incidents/{incident}.json", include_in_schema=False)
    def incident_export(request: Request, incident: str) -> Response:
        def build(viewer: Viewer) -> tuple[str, object]:
            number = _incident_number(incident)
            report = views.incident_view(engine, viewer, number).report
            # The API's answer to the same question, field for field.
            return f"incident-{number}.json", IncidentReport.model_validate(report).model_dump(
                mode="json")
        return serve_json(request, build)

    @app.get("/incidents/{incident}", include_in_schema=False)
    def incident(request: Request, incident: str) -> Response:
        return serve(request, lambda viewer, nonce: incident_page.incident_page(
            views.incident_view(engine, viewer, _incident_number(incident)), nonce, viewer))

    @app.get("/models/{name}", include_in_schema=False)
    def model(request: Request, name: str) -> Response:
        return serve(request, lambda viewer, nonce: model_page.model_page(
            views.model_view(engine, viewer, name), nonce, viewer))

    @app.get("/models/{name}/features/{feature:path}", include_in_schema=False)
    def feature(request: Request, name: str, feature: str,
                window: str | None = None) -> Response:
        chosen = None
        if window:
            if not window.isdigit() or int(window) > MAX_WINDOW:
                return refuse(400, "window: expected a window number (0, 1, 2…)")
            chosen = int(window)
        return serve(request, lambda viewer, nonce: model_page.feature_page(
            views.feature_view(engine, viewer, name, feature, chosen), nonce, viewer))

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request,
                   next_path: Annotated[str | None, Query(alias="next")] = None) -> Response:
        target = safe_next(next_path)
        if gate.open() or gate.session(request) is not None:
            return _redirect(target)
        nonce = _nonce()
        return _page(pages.login_page(nonce, target), nonce)

    @app.post("/login", include_in_schema=False)
    def login(request: Request, key: Annotated[str, Form()] = "",
              next_path: Annotated[str, Form(alias="next")] = "/") -> Response:
        if not same_origin(request):
            return refuse(403, "This sign-in did not come from this site's form.")
        target = safe_next(next_path)
        if gate.open():
            return _redirect(target)
        token = gate.sign_in(key)
        if token is None:
            nonce = _nonce()
            return _page(pages.login_page(nonce, target, "That key is unknown, revoked, or "
                                          "may not read."), nonce, 401)
        return _with_session(_redirect(target), token)

    @app.get("/login/link", include_in_schema=False)
    def login_link(token: str = "") -> Response:
        session = gate.spend(token) if token else None
        if session is None:
            return refuse(400, "This sign-in link is unknown, expired or already used: ask "
                               "for a new one (driftwise login-link).")
        return _with_session(_redirect("/"), session)

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        if not same_origin(request):
            return refuse(403, "This sign-out did not come from this site's form.")
        gate.sign_out(request)
        response = _redirect("/login")
        response.delete_cookie(COOKIE, path="/", secure=True, httponly=True,
                               samesite="strict")
        return response
