"""API keys: who may call what, and the health routes that stay open."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_helpers import ServiceFactory, records, register
from sqlalchemy import text

from driftwise.store import keys, open_store
from driftwise.store.db import head_revision

ADMIN = "admin-secret-for-tests"


@pytest.fixture
def engine(store_url: str) -> Iterator[Any]:
    engine = open_store(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def guarded(make_service: ServiceFactory, engine: Any) -> TestClient:
    """The service with an admin key in its settings and models ``m`` and ``other``."""
    client = make_service(api_key=ADMIN)
    admin = {"authorization": f"Bearer {ADMIN}"}
    client.headers.update(admin)
    register(client)
    register(client, "other")
    client.headers.pop("authorization")
    return client


def _bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def test_health_is_open_and_everything_else_needs_a_key(guarded: TestClient) -> None:
    assert guarded.get("/healthz").json() == {"status": "alive"}
    assert guarded.get("/readyz").json() == {"status": "ready"}
    for method, path in (("get", "/v1/models"), ("get", "/v1/models/m"),
                         ("post", "/v1/models/m/records/batch"),
                         ("get", "/v1/models/m/results"), ("delete", "/v1/models/m")):
        answer = guarded.request(method, path)
        assert answer.status_code == 401, path
        assert answer.headers["www-authenticate"] == "Bearer"
    assert guarded.get("/v1/models", headers=_bearer("dw_abc_nope")).status_code == 401
    assert guarded.get("/v1/models", headers=_bearer(ADMIN + "x")).status_code == 401


def test_the_admin_key_may_do_everything(guarded: TestClient) -> None:
    for headers in (_bearer(ADMIN), {"x-api-key": ADMIN}):
        assert [m["name"] for m in guarded.get("/v1/models", headers=headers).json()] == \
            ["m", "other"]
    answer = guarded.post("/v1/models/m/records/batch", json={"records": records(3)},
                          headers=_bearer(ADMIN))
    assert answer.json()["accepted"] == 3
    assert guarded.delete("/v1/models/other", headers=_bearer(ADMIN)).status_code == 204


def test_a_key_acts_within_its_scopes(guarded: TestClient, engine: Any) -> None:
    ingest, _ = keys.create_key(engine, "ingester", ("ingest",))
    read, _ = keys.create_key(engine, "reader", ("read",))
    record = records(1)[0]
    assert guarded.post("/v1/models/m/records", json=record,
                        headers=_bearer(ingest)).status_code == 201
    assert guarded.post("/v1/models/m/labels", json={"labels": [{"id": "r0", "label": 1}]},
                        headers={"x-api-key": ingest}).status_code == 200
    refused = guarded.get("/v1/models/m", headers=_bearer(ingest))
    assert refused.status_code == 403
    assert "lacks the 'read' scope" in refused.json()["detail"]
    assert guarded.get("/v1/models/m", headers=_bearer(read)).status_code == 200
    assert guarded.get("/v1/models/m/windows", headers=_bearer(read)).status_code == 200
    assert guarded.post("/v1/models/m/records", json=records(1, start=5)[0],
                        headers=_bearer(read)).status_code == 403
    # Registering, configuring and deleting need the admin scope.
    for method, path, body in (("post", "/v1/models", {"name": "n", "task": "binary"}),
                               ("put", "/v1/models/m/config", {"config": {}}),
                               ("delete", "/v1/models/m", None)):
        assert guarded.request(method, path, json=body,
                               headers=_bearer(read)).status_code == 403, path
    admin, _ = keys.create_key(engine, "operator", ("admin",))
    assert guarded.delete("/v1/models/other", headers=_bearer(admin)).status_code == 204


def test_a_key_limited_to_a_model_sees_no_other(guarded: TestClient, engine: Any) -> None:
    mine, _ = keys.create_key(engine, "team-m", ("ingest", "read"), ("m",))
    assert guarded.post("/v1/models/m/records", json=records(1)[0],
                        headers=_bearer(mine)).status_code == 201
    elsewhere = guarded.post("/v1/models/other/records", json=records(1)[0],
                             headers=_bearer(mine))
    assert elsewhere.status_code == 403
    assert "on model 'other'" in elsewhere.json()["detail"]
    assert guarded.get("/v1/models/other", headers=_bearer(mine)).status_code == 403
    assert guarded.get("/v1/models/other/results", headers=_bearer(mine)).status_code == 403
    assert [m["name"] for m in guarded.get("/v1/models", headers=_bearer(mine)).json()] == \
        ["m"]


def test_a_revoked_key_is_refused_at_once(guarded: TestClient, engine: Any) -> None:
    text, key = keys.create_key(engine, "short-lived", ("read",))
    assert guarded.get("/v1/models/m", headers=_bearer(text)).status_code == 200
    keys.revoke_key(engine, key.id)
    answer = guarded.get("/v1/models/m", headers=_bearer(text))
    assert answer.status_code == 401
    assert answer.json()["detail"] == "unknown or revoked API key"


def test_stored_keys_alone_close_the_service(make_service: ServiceFactory,
                                             engine: Any) -> None:
    """Without DRIFTWISE_API_KEY a key in the store is enough to require keys."""
    text, _ = keys.create_key(engine, "reader", ("read",))
    client = make_service()
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/models").status_code == 401
    assert client.get("/v1/models", headers=_bearer(text)).json() == []
    assert client.post("/v1/models", json={"name": "m", "task": "binary"},
                       headers=_bearer(text)).status_code == 403


def test_without_any_key_a_loopback_service_is_open(service: TestClient) -> None:
    assert service.get("/v1/models").json() == []
    assert service.post("/v1/models", json={"name": "m", "task": "binary",
                                            "columns": {"probabilities": "p"}}
                        ).status_code == 201


def test_readyz_is_503_while_the_store_is_not_at_the_head_migration(
        service: TestClient, engine: Any) -> None:
    assert service.get("/readyz").status_code == 200
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000_older'"))
    answer = service.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["detail"] == \
        f"store at migration 0000_older, expected {head_revision()}"
    assert service.get("/healthz").status_code == 200
