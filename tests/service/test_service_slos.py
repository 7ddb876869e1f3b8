"""SLOs through the service: a breach is a critical alert with the lifecycle, and each
SLO's compliance, error budget and burn rate are in the API and in /metrics."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from service_helpers import records, register, wait_windows

LATENCY = {"name": "latency", "metric": "ops.latency_ms.p99", "objective": "<= 100",
           "target": 0.75, "period_windows": 4, "burn_windows": 2}


def _window(client: TestClient, n: int, latency_ms: float) -> None:
    batch = records(200, start=200 * n, seed=300 + n, latency_ms=latency_ms)
    assert client.post("/v1/models/m/records/batch",
                       json={"records": batch}).json()["accepted"] == 200
    wait_windows(client, "m", n + 1)


def _gauges(client: TestClient) -> dict[tuple[str, str], float]:
    out = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for s in family.samples:
            if s.name.startswith("driftwise_slo_") and s.labels.get("model") == "m":
                out[(s.name, s.labels["slo"])] = float(s.value)
    return out


def test_latency_slo_breach_budget_and_burn(service: TestClient) -> None:
    register(service, slos=[LATENCY])
    states = []
    for n, latency in enumerate([5.0, 5.0, 250.0, 250.0, 5.0]):
        _window(service, n, latency)
        states.append([(a["rule"], a["severity"], a["state"])
                       for a in service.get("/v1/models/m/alerts").json()])
    breach = ("slo:latency", "critical")
    assert states == [[], [], [(*breach, "open")], [(*breach, "open")],
                      [(*breach, "resolved")]]
    (slo,) = service.get("/v1/models/m/slos").json()["slos"]
    # The period is the newest 4 windows (1-4): two met, two missed; the budget allows a
    # quarter of them to miss, so twice the budget is spent. The burn window (3-4) has one
    # miss in two: a burn rate of 0.5 / 0.25.
    assert (slo["windows"], slo["good"], slo["latest_window"], slo["latest_met"]) == (
        4, 2, 4, True)
    assert slo["compliance"] == pytest.approx(0.5)
    assert slo["budget_consumed"] == pytest.approx(2.0)
    assert slo["budget_remaining"] == pytest.approx(-1.0)
    assert slo["burn_rate"] == pytest.approx(2.0)
    assert slo["alert_id"] is None  # resolved
    gauges = _gauges(service)
    assert gauges[("driftwise_slo_compliance_ratio", "latency")] == pytest.approx(0.5)
    assert gauges[("driftwise_slo_error_budget_remaining_ratio", "latency")] == \
        pytest.approx(-1.0)
    assert gauges[("driftwise_slo_burn_rate", "latency")] == pytest.approx(2.0)
    assert gauges[("driftwise_slo_objective_met", "latency")] == 1.0
    assert gauges[("driftwise_slo_target_ratio", "latency")] == 0.75


def test_an_slo_on_a_realized_metric_counts_only_labelled_windows(
        service: TestClient) -> None:
    register(service, slos=[LATENCY, {"name": "auc", "metric": "performance.roc_auc",
                                      "objective": ">= 0.6", "period_windows": 5}])
    _window(service, 0, 250.0)
    by_name = {s["name"]: s for s in service.get("/v1/models/m/slos").json()["slos"]}
    # No label has arrived: the realized SLO has no window yet, and nothing fires for it.
    assert by_name["auc"]["windows"] == 0 and by_name["auc"]["compliance"] is None
    assert by_name["auc"]["budget_remaining"] is None and by_name["auc"]["latest_met"] is None
    assert by_name["latency"]["alert_id"] == 1
    assert [a["rule"] for a in service.get("/v1/models/m/alerts").json()] == ["slo:latency"]
    assert ("driftwise_slo_compliance_ratio", "auc") not in _gauges(service)
    assert service.get("/v1/models/nope/slos").status_code == 404
