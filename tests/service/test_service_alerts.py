"""Alerts through the service: the lifecycle advanced with each evaluated window, stored
with its trail, shown in /metrics, and acted on by people (acknowledge, silence, resolve)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from service_helpers import records, register, wait_windows

from driftwise.store import keys, open_store

RULE = {"name": "share", "metric": "drift.dataset.share", "condition": ">= 0.3", "for": 2,
        "clear": "< 0.1", "clear_for": 2, "severity": "critical"}
ADMIN = "alerts-test-admin-key-0123456789"
SEED = 200  # the records of window n are drawn with seed SEED + n


def _window(client: TestClient, n: int, shift: float) -> None:
    """Window ``n`` (200 records; ``shift`` moves feature a, one of three features)."""
    batch = records(200, start=200 * n, shift=shift, seed=SEED + n)
    assert client.post("/v1/models/m/records/batch",
                       json={"records": batch}).json()["accepted"] == 200
    wait_windows(client, "m", n + 1)


def _open_gauge(client: TestClient, severity: str = "critical") -> float:
    text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "driftwise_alerts_open" and s.labels == {"model": "m",
                                                                   "severity": severity}:
                return float(s.value)
    raise AssertionError("no driftwise_alerts_open sample for m")


def test_one_incident_is_one_alert_with_hysteresis_and_its_trail(service: TestClient) -> None:
    register(service, alerts=[RULE])
    shifts = [0.0, 3.0, 3.0, 3.0, 0.0, 0.0, 0.0]
    states = []
    for n, shift in enumerate(shifts):
        _window(service, n, shift)
        states.append([a["state"] for a in service.get("/v1/models/m/alerts").json()])
        if n == 2:
            assert _open_gauge(service) == 1
    # Opens after two drifting windows (window 2), stays open through the third, resolves
    # after two clean windows (window 5); one alert throughout.
    shares = [p["value"] for p in service.get(
        "/v1/models/m/results", params={"metric": "drift.dataset.share"}).json()["results"]]
    assert states == [[], [], ["open"], ["open"], ["open"], ["resolved"], ["resolved"]], shares
    assert _open_gauge(service) == 0
    (alert,) = service.get("/v1/models/m/alerts").json()
    assert (alert["rule"], alert["severity"], alert["alert_id"]) == ("share", "critical", 1)
    assert alert["alert"]["opened_window"] == 2 and alert["alert"]["resolved_window"] == 5
    assert alert["alert"]["resolved_by"] == "condition"
    detail = service.get("/v1/models/m/alerts/1").json()
    assert [e["kind"] for e in detail["events"]] == [
        "opened", "still_firing", "still_firing", "resolved"]
    assert all(e["rule"] == "share" for e in detail["events"])
    assert service.get("/v1/alerts", params={"state": "open"}).json() == []
    assert [a["model"] for a in service.get("/v1/alerts").json()] == ["m"]


def test_people_acknowledge_silence_and_resolve(service: TestClient) -> None:
    register(service, alerts=[{**RULE, "for": 1}])
    _window(service, 0, 3.0)
    base = "/v1/models/m/alerts/1"
    acked = service.post(f"{base}/acknowledge", json={"by": "ana"})
    assert acked.status_code == 200, acked.text
    assert acked.json()["alert"]["acknowledged_by"] == "ana"
    assert acked.json()["events"][-1]["kind"] == "acknowledged"
    assert service.post(f"{base}/acknowledge", json={"by": "bo"}).status_code == 409
    assert service.post(f"{base}/silence", json={"by": "ana"}).status_code == 422
    assert service.post(f"{base}/silence", json={"by": "ana", "for_s": 60, "until": 1e10}
                        ).status_code == 422
    silenced = service.post(f"{base}/silence", json={"by": "ana", "for_s": 3600})
    assert silenced.status_code == 200, silenced.text
    assert silenced.json()["alert"]["silenced_until"] > silenced.json()["updated_at"]
    # Still drifting: the alert stays open (and silent) across the next window.
    _window(service, 1, 3.0)
    assert service.get(base).json()["state"] == "open"
    resolved = service.post(f"{base}/resolve", json={"by": "ana"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["state"] == "resolved"
    assert resolved.json()["alert"]["resolved_by"] == "hand"
    assert service.post(f"{base}/resolve", json={"by": "ana"}).status_code == 409
    assert service.post("/v1/models/m/alerts/99/acknowledge",
                        json={"by": "ana"}).status_code == 404
    assert service.post(f"{base}/acknowledge", json={"by": ""}).status_code == 422
    # A hand-resolved alert stays closed: the still-drifting next window starts a new one.
    _window(service, 2, 3.0)
    assert [(a["alert_id"], a["state"]) for a in service.get("/v1/models/m/alerts").json()
            ] == [(2, "open"), (1, "resolved")]


def test_a_clear_condition_that_overlaps_the_firing_one_is_refused(
        service: TestClient) -> None:
    body = {"name": "m", "task": "binary",
            "columns": {"probabilities": "proba", "target": "label"},
            "config": {"model": {"positive_class": "1"},
                       "alerts": [{**RULE, "clear": ">= 0.2"}]}}
    answer = service.post("/v1/models", json=body)
    assert answer.status_code == 422
    assert "share" in answer.json()["detail"]


@pytest.fixture
def engine(store_url: str) -> Iterator[Any]:
    engine = open_store(store_url)
    yield engine
    engine.dispose()


def test_acting_on_alerts_needs_the_alerts_scope(make_service: Any, engine: Any) -> None:
    client = make_service(api_key=ADMIN)
    client.headers["authorization"] = f"Bearer {ADMIN}"
    register(client, alerts=[{**RULE, "for": 1}])
    _window(client, 0, 3.0)
    client.headers.pop("authorization")
    path = "/v1/models/m/alerts/1/acknowledge"
    reader, _ = keys.create_key(engine, "reader", ("read",))
    assert client.get("/v1/models/m/alerts", headers={"authorization": f"Bearer {reader}"}
                      ).status_code == 200
    assert client.post(path, json={"by": "x"}, headers={"authorization": f"Bearer {reader}"}
                       ).status_code == 403
    responder, _ = keys.create_key(engine, "on-call", ("alerts",))
    answer = client.post(path, json={"by": "on-call"},
                         headers={"authorization": f"Bearer {responder}"})
    assert answer.status_code == 200, answer.text
    other, _ = keys.create_key(engine, "other-team", ("read",), models=("other",))
    assert client.get("/v1/alerts", headers={"authorization": f"Bearer {other}"}
                      ).json() == []


def test_a_rule_dropped_from_the_config_resolves_its_alert(service: TestClient) -> None:
    register(service, alerts=[{**RULE, "for": 1}])
    _window(service, 0, 3.0)
    assert [a["state"] for a in service.get("/v1/models/m/alerts").json()] == ["open"]
    updated = service.put("/v1/models/m/config", json={"config": {
        "model": {"positive_class": "1"}, "windows": {"rows": 200, "min_rows": 50}}})
    assert updated.status_code == 200, updated.text
    _window(service, 1, 3.0)  # still drifting, but no rule watches it any more
    (alert,) = service.get("/v1/models/m/alerts").json()
    assert alert["state"] == "resolved" and alert["alert"]["resolved_by"] == "rule_removed"
    assert alert["alert"]["resolved_window"] == 1
    assert _open_gauge(service) == 0


def test_a_key_limited_to_some_models_gets_full_pages_of_their_alerts(
        make_service: Any, engine: Any) -> None:
    client = make_service(api_key=ADMIN)
    client.headers["authorization"] = f"Bearer {ADMIN}"
    for name in ("m", "other"):
        register(client, name, alerts=[{**RULE, "for": 1}])
        batch = records(200, shift=3.0, seed=SEED, prefix=name)
        assert client.post(f"/v1/models/{name}/records/batch",
                           json={"records": batch}).json()["accepted"] == 200
        wait_windows(client, name, 1)
    # "other" alerted last, so it is first in the newest-first list: a page of one must
    # still hold the model the key may read.
    mine, _ = keys.create_key(engine, "team-m", ("read",), models=("m",))
    page = client.get("/v1/alerts", params={"limit": 1},
                      headers={"authorization": f"Bearer {mine}"}).json()
    assert [a["model"] for a in page] == ["m"]
