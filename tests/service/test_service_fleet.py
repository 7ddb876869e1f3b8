"""The fleet through the service: an alert of a model that consumes another joins the
upstream model's incident and is not paged; the incident resolves with its alerts."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from service_helpers import records, register, wait_windows

RULE = {"name": "drift", "metric": "drift.dataset.share", "condition": ">= 0.3",
        "clear": "< 0.1", "severity": "critical"}
# Refused at once (nothing listens on port 9): deliveries stay pending between retries.
ROUTES = [{"name": "pager", "type": "webhook", "url": "http://127.0.0.1:9/page"}]


def _model(client: TestClient, name: str, upstream: list[str], **spec: Any) -> None:
    register(client, name, model={"positive_class": "1", "upstream": upstream, **spec},
             alerts=[RULE])


def _window(client: TestClient, name: str, n: int, shift: float) -> None:
    batch = records(200, start=200 * n, shift=shift, seed=500 + n, prefix=name)
    assert client.post(f"/v1/models/{name}/records/batch",
                       json={"records": batch}).json()["accepted"] == 200
    wait_windows(client, name, n + 1)


def _statuses(client: TestClient, name: str) -> list[str]:
    (alert,) = client.get(f"/v1/models/{name}/alerts").json()
    detail = client.get(f"/v1/models/{name}/alerts/{alert['alert_id']}").json()
    return [d["status"] for d in detail["deliveries"]]


def test_downstream_alerts_join_the_upstream_incident(make_service: Any) -> None:
    client = make_service(alert_routes=ROUTES)
    _model(client, "features", [])
    _model(client, "score", ["features"])
    _model(client, "queue", ["score"])  # consumes features through score
    _model(client, "other", [])
    for name in ("features", "score", "queue", "other"):
        _window(client, name, 0, 0.0)
    for name in ("features", "score", "queue"):
        _window(client, name, 1, 3.0)
    (incident,) = client.get("/v1/incidents").json()
    assert incident["root_model"] == "features" and incident["state"] == "open"
    assert incident["models"] == ["features", "score", "queue"]
    assert {m["model"]: m["role"] for m in incident["members"]} == {
        "features": "root", "score": "downstream", "queue": "downstream"}
    # One page: the root's. The downstream alerts are recorded, never queued.
    assert _statuses(client, "score") == [] and _statuses(client, "queue") == []
    assert len(_statuses(client, "features")) == 1
    detail = client.get("/v1/models/queue/alerts/1").json()
    assert detail["incident"] == {"id": incident["id"], "role": "downstream",
                                  "root_model": "features"}
    fleet = {m["name"]: m for m in client.get("/v1/fleet").json()["models"]}
    assert fleet["queue"]["upstream"] == ["score"] and fleet["features"]["downstream"] == [
        "score"]
    assert [fleet[n]["state"] for n in ("features", "score", "queue", "other")] == [
        "critical", "critical", "critical", "ok"]
    # Clean windows resolve the alerts; the incident resolves with the last of them.
    for name in ("features", "score"):
        _window(client, name, 2, 0.0)
    assert client.get(f"/v1/incidents/{incident['id']}").json()["state"] == "open"
    _window(client, "queue", 2, 0.0)
    assert client.get(f"/v1/incidents/{incident['id']}").json()["state"] == "resolved"
    assert client.get("/v1/incidents", params={"state": "open"}).json() == []
    assert client.get("/v1/incidents/999").status_code == 404


def test_an_upstream_alert_after_the_downstream_one_merges_it_and_withdraws_its_page(
        make_service: Any) -> None:
    client = make_service(alert_routes=ROUTES)
    _model(client, "features", [])
    _model(client, "score", ["features"], upstream_wait_s=600)
    for name in ("features", "score"):
        _window(client, name, 0, 0.0)
    _window(client, "score", 1, 3.0)  # the downstream model is evaluated first
    (first,) = client.get("/v1/incidents").json()
    assert first["root_model"] == "score"
    assert _statuses(client, "score") == ["pending"]  # held for upstream_wait_s
    _window(client, "features", 1, 3.0)
    by_id = {i["id"]: i for i in client.get("/v1/incidents").json()}
    root = next(i for i in by_id.values() if i["root_model"] == "features")
    assert by_id[first["id"]]["state"] == "merged"
    assert by_id[first["id"]]["merged_into"] == root["id"]
    assert root["models"] == ["features", "score"]
    assert _statuses(client, "score") == ["grouped"]
    assert len(_statuses(client, "features")) == 1


def test_an_upstream_alert_older_than_the_window_is_another_incident(
        make_service: Any) -> None:
    client = make_service()
    _model(client, "features", [])
    _model(client, "score", ["features"], upstream_window_s=0)
    for name in ("features", "score"):
        _window(client, name, 0, 0.0)
    _window(client, "features", 1, 3.0)
    _window(client, "score", 1, 3.0)
    roots = sorted(i["root_model"] for i in client.get("/v1/incidents").json())
    assert roots == ["features", "score"]


def test_dependency_loops_are_refused(service: TestClient) -> None:
    _model(service, "a", ["b"])  # b is not registered yet: kept by name
    body = {"name": "b", "task": "binary", "columns": {"probabilities": "proba"},
            "config": {"model": {"positive_class": "1", "upstream": ["a"]}}}
    answer = service.post("/v1/models", json=body)
    assert answer.status_code == 422
    assert "loop (b -> a -> b)" in answer.json()["detail"]
    body["config"]["model"]["upstream"] = ["b"]
    assert "cannot consume itself" in service.post("/v1/models", json=body).json()["detail"]
    fleet = {m["name"]: m for m in service.get("/v1/fleet").json()["models"]}
    assert fleet["a"]["upstream"] == ["b"] and fleet["a"]["state"] == "no_data"


def test_a_key_limited_to_a_downstream_model_sees_its_part_of_the_incident(
        make_service: Any, store_url: str) -> None:
    from driftwise.store import keys, open_store

    admin = "fleet-test-admin-key-0123456789"
    client = make_service(api_key=admin)
    client.headers["authorization"] = f"Bearer {admin}"
    _model(client, "features", [])
    _model(client, "score", ["features"])
    for name in ("features", "score"):
        _window(client, name, 0, 0.0)
    for name in ("features", "score"):
        _window(client, name, 1, 3.0)
    engine = open_store(store_url)
    try:
        team, _ = keys.create_key(engine, "score-team", ("read",), models=("score",))
        outsider, _ = keys.create_key(engine, "other-team", ("read",), models=("nope",))
    finally:
        engine.dispose()
    headers = {"authorization": f"Bearer {team}"}
    (seen,) = client.get("/v1/incidents", headers=headers).json()
    assert seen["root_model"] == "features"  # the cause is named: it explains the alert
    assert seen["models"] == ["score"] and [m["model"] for m in seen["members"]] == ["score"]
    assert client.get(f"/v1/incidents/{seen['id']}", headers=headers).json()["models"] == [
        "score"]
    fleet = client.get("/v1/fleet", headers=headers).json()
    assert [(m["name"], m["upstream"]) for m in fleet["models"]] == [("score", [])]
    assert client.get("/v1/incidents", headers={"authorization": f"Bearer {outsider}"}
                      ).json() == []
    assert client.get(f"/v1/incidents/{seen['id']}",
                      headers={"authorization": f"Bearer {outsider}"}).status_code == 404
