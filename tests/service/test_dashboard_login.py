"""Signing in to the dashboard: the form, the session cookie, one-time links, signing out,
revoked keys, cross-site forms and redirects that stay on the site."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from service_helpers import ServiceFactory, register

from driftwise.cli import run
from driftwise.dashboard.auth import COOKIE
from driftwise.store import keys, open_store, sessions

ADMIN = "admin-secret-for-the-dashboard"
SITE = "https://testserver"
SAME_SITE = {"origin": SITE}


@pytest.fixture
def engine(store_url: str) -> Iterator[Any]:
    engine = open_store(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def guarded(make_service: ServiceFactory) -> TestClient:
    """The service with an admin key, over HTTPS (a Secure cookie is sent back only
    there), with model ``m`` registered."""
    client = make_service(api_key=ADMIN)
    client.base_url = SITE  # type: ignore[assignment]
    client.headers.update({"authorization": f"Bearer {ADMIN}"})
    register(client)
    client.headers.pop("authorization")
    return client


def _sign_in(client: TestClient, key: str, next_path: str = "/",
             headers: dict[str, str] | None = None) -> Any:
    return client.post("/login", data={"key": key, "next": next_path},
                       headers=SAME_SITE if headers is None else headers,
                       follow_redirects=False)


def _get(client: TestClient, path: str) -> Any:
    return client.get(path, follow_redirects=False)


def test_an_open_service_needs_no_sign_in(make_service: ServiceFactory) -> None:
    client = make_service()
    page = _get(client, "/")
    assert page.status_code == 200 and "Fleet overview" in page.text
    assert "Sign out" not in page.text
    assert _get(client, "/login").headers["location"] == "/"


def test_a_page_sends_a_stranger_to_the_form_and_back(guarded: TestClient) -> None:
    answer = _get(guarded, "/models/m?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fmodels%2Fm%3Fx%3D1"
    form = _get(guarded, answer.headers["location"])
    assert form.status_code == 200
    assert 'name="next" value="/models/m?x=1"' in form.text
    assert 'type="password"' in form.text
    signed = _sign_in(guarded, ADMIN, "/models/m?x=1")
    assert signed.status_code == 303 and signed.headers["location"] == "/models/m?x=1"
    assert _get(guarded, "/models/m").status_code == 200


def test_the_session_cookie_is_http_only_secure_and_strict(guarded: TestClient) -> None:
    answer = _sign_in(guarded, ADMIN)
    cookie = answer.headers["set-cookie"]
    name_value, *flags = [part.strip() for part in cookie.split(";")]
    name, _, value = name_value.partition("=")
    assert name == COOKIE and value.startswith("ds_")
    lowered = {f.lower() for f in flags}
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= lowered
    assert ADMIN not in cookie  # the cookie stands for the key; it is not the key
    page = _get(guarded, "/")
    assert page.status_code == 200 and "Sign out" in page.text


def test_a_key_that_cannot_read_is_refused(guarded: TestClient, engine: Any) -> None:
    ingest, _ = keys.create_key(engine, "ingester", ("ingest",))
    metrics, _ = keys.create_key(engine, "prometheus", ("metrics",))
    reader, _ = keys.create_key(engine, "reader", ("read",))
    for text in ("", "dw_abc_nope", ADMIN + "x", ingest, metrics):
        answer = _sign_in(guarded, text)
        assert answer.status_code == 401, text
        assert "set-cookie" not in answer.headers
        assert "unknown, revoked, or may not read" in answer.text
    assert _sign_in(guarded, reader).status_code == 303
    assert _get(guarded, "/").status_code == 200


@pytest.mark.parametrize("headers", [{}, {"origin": "https://evil.example"},
                                     {"origin": "null"},
                                     {"referer": "https://evil.example/login"},
                                     {"origin": "https://testserver.evil.example"}])
def test_a_form_posted_from_another_site_is_refused(guarded: TestClient,
                                                    headers: dict[str, str]) -> None:
    answer = _sign_in(guarded, ADMIN, headers=headers)
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers
    assert _get(guarded, "/").status_code == 303  # still not signed in


def test_a_same_site_referer_is_enough_without_origin(guarded: TestClient) -> None:
    answer = _sign_in(guarded, ADMIN, headers={"referer": f"{SITE}/login?next=/"})
    assert answer.status_code == 303


def test_signing_out_needs_this_site_and_ends_the_session(guarded: TestClient) -> None:
    _sign_in(guarded, ADMIN)
    token = guarded.cookies[COOKIE]
    refused = guarded.post("/logout", headers={"origin": "https://evil.example"},
                           follow_redirects=False)
    assert refused.status_code == 403
    assert _get(guarded, "/").status_code == 200
    out = guarded.post("/logout", headers=SAME_SITE, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert f'{COOKIE}=""' in out.headers["set-cookie"] or "max-age=0" in \
        out.headers["set-cookie"].lower()
    # The old token is dead in the store, not only forgotten by this browser.
    guarded.cookies.set(COOKIE, token)
    assert _get(guarded, "/").status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x",
                                    "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
                                    "http:/evil.example", "/\r\nSet-Cookie: x=1", "evil",
                                    "/%0d%0a\t"])
def test_the_next_page_never_leaves_the_site(guarded: TestClient, target: str) -> None:
    answer = _sign_in(guarded, ADMIN, target)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    assert "set-cookie" in answer.headers
    again = guarded.get("/login", params={"next": target}, follow_redirects=False)
    assert again.headers["location"] == "/"  # signed in: the form sends on, to the site


def test_a_next_page_of_the_site_is_kept(guarded: TestClient) -> None:
    answer = _sign_in(guarded, ADMIN, "/models/m/features/a?window=2")
    assert answer.headers["location"] == "/models/m/features/a?window=2"
    assert urlsplit(answer.headers["location"]).netloc == ""


def test_a_one_time_link_from_the_cli_signs_in_once(guarded: TestClient, store_url: str,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DRIFTWISE_API_KEY", ADMIN)
    assert run(["login-link", "--database-url", store_url, "--base-url", SITE]) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith(f"{SITE}/login/link?token=ds_")
    first = _get(guarded, url)
    assert first.status_code == 303 and first.headers["location"] == "/"
    assert COOKIE in first.headers["set-cookie"]
    assert _get(guarded, "/").status_code == 200
    guarded.cookies.clear()
    again = _get(guarded, url)
    assert again.status_code == 400
    assert "already used" in again.text
    assert "set-cookie" not in again.headers


def test_a_link_for_a_stored_key_limits_like_the_key(guarded: TestClient, engine: Any,
                                                     store_url: str,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    _text, key = keys.create_key(engine, "viewer", ("read",), ("other",))
    _ingest, ingest_key = keys.create_key(engine, "ingester", ("ingest",))
    assert run(["login-link", "--database-url", store_url, "--key-id", ingest_key.id]) == 2
    assert run(["login-link", "--database-url", store_url, "--key-id", key.id,
                "--base-url", SITE]) == 0
    url = capsys.readouterr().out.strip()
    assert _get(guarded, url).status_code == 303
    assert "No model to show yet" in _get(guarded, "/").text  # m is not the key's
    assert _get(guarded, "/models/m").status_code == 404


def test_an_expired_link_fails(guarded: TestClient, engine: Any) -> None:
    token = sessions.create_link(engine, None, ttl_s=0.2)
    time.sleep(0.3)
    answer = _get(guarded, f"/login/link?token={token}")
    assert answer.status_code == 400 and "set-cookie" not in answer.headers
    assert _get(guarded, "/login/link").status_code == 400


def test_revoking_a_key_ends_its_sessions(guarded: TestClient, engine: Any) -> None:
    text, key = keys.create_key(engine, "reader", ("read",))
    _sign_in(guarded, text)
    assert _get(guarded, "/models/m").status_code == 200
    keys.revoke_key(engine, key.id)
    answer = _get(guarded, "/models/m")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_an_admin_session_ends_when_the_service_drops_its_admin_key(
        make_service: ServiceFactory, engine: Any) -> None:
    keys.create_key(engine, "someone", ("read",))  # the service stays closed without ADMIN
    token = sessions.create_session(engine, None, ttl_s=600)
    client = make_service()
    client.base_url = SITE  # type: ignore[assignment]
    client.cookies.set(COOKIE, token)
    assert _get(client, "/").status_code == 303


def test_every_answer_carries_the_security_headers(guarded: TestClient) -> None:
    _sign_in(guarded, ADMIN)
    for path in ("/", "/models/m", "/models/nope", "/login/link?token=x"):
        answer = _get(guarded, path)
        csp = answer.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, path
        assert "script-src" not in csp and "unsafe-inline" not in csp
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
    page = _get(guarded, "/")
    nonce = page.headers["content-security-policy"].split("'nonce-")[1].split("'")[0]
    assert f'<style nonce="{nonce}">' in page.text
    assert "<script" not in page.text and " style=" not in page.text
    assert _get(guarded, "/").headers["content-security-policy"] != \
        page.headers["content-security-policy"]  # a fresh nonce per answer
