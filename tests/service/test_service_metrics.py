"""/metrics: the Prometheus exposition, read back with prometheus-client's own parser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from service_helpers import labels_of, records, register, wait_windows

from driftwise.store import keys, open_store

ADMIN = "metrics-test-admin-key-0123456789"
BOUNDED_LABELS = {"model", "feature", "metric", "detector", "severity", "quantile", "le",
                  "version", "kind", "rule"}


def _scrape(client: TestClient, **headers: str) -> dict[str, Any]:
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {family.name: family for family in text_string_to_metric_families(answer.text)}


def _value(families: dict[str, Any], family: str, sample: str | None = None,
           **labels: str) -> float:
    found = [s.value for s in families[family].samples
             if s.name == (sample or family) and all(s.labels.get(k) == v
                                                    for k, v in labels.items())]
    assert len(found) == 1, (family, sample, labels, found)
    return float(found[0])


def test_an_empty_store_exposes_its_version_and_no_model(service: TestClient) -> None:
    families = _scrape(service)
    assert _value(families, "driftwise_models") == 0
    assert families["driftwise_build_info"].samples[0].labels["version"]


def test_the_exposition_matches_the_stored_results(service: TestClient) -> None:
    register(service, windows={"rows": 200, "min_rows": 50},
             alerts=[{"metric": "drift.dataset.share", "condition": ">= 0.0",
                      "severity": "critical", "name": "any-share"}])
    clean = records(400, client_key="client-secret-1")
    shifted = records(200, start=400, shift=3.0, seed=7, client_key="client-secret-2")
    for batch in (clean, shifted):
        answer = service.post("/v1/models/m/records/batch", json={"records": batch})
        assert answer.json()["accepted"] == len(batch)
    service.post("/v1/models/m/labels", json={"labels": labels_of(clean[:200])})
    windows = wait_windows(service, "m", 3)
    families = _scrape(service)

    assert all(name.startswith("driftwise_") for name in families)
    assert _value(families, "driftwise_records_ingested", "driftwise_records_ingested_total",
                  model="m") == 600
    assert _value(families, "driftwise_windows_evaluated",
                  "driftwise_windows_evaluated_total", model="m") == len(windows)
    assert _value(families, "driftwise_labelled_records", "driftwise_labelled_records_total",
                  model="m") == 200
    newest = max(w["window"] for w in windows)
    assert _value(families, "driftwise_last_window", model="m") == newest

    # The newest window's per-feature p-values are the stored ones.
    stored = {p["metric"]: p["value"] for p in service.get(
        "/v1/models/m/results", params={"prefix": "drift."}).json()["results"]
        if p["window"] == newest}
    for feature in ("a", "b", "c"):
        assert _value(families, "driftwise_feature_drift_p_value", model="m",
                      feature=feature) == pytest.approx(
            stored[f"drift.columns.{feature}.p_value"], rel=1e-12)
    assert _value(families, "driftwise_feature_drift_detected", model="m",
                  feature="a") == 1.0  # the shifted window
    assert _value(families, "driftwise_dataset_drift_share", model="m") == pytest.approx(
        stored["drift.dataset.share"])
    assert _value(families, "driftwise_alerts_firing", model="m", severity="critical") == 1
    assert _value(families, "driftwise_alerts_firing", model="m", severity="warning") == 0

    # Histograms: cumulative buckets, +Inf equal to the count; every evaluated record's
    # latency is counted (3..9 ms: all within 10 ms, none within 1 ms... 5 ms partly).
    latency = families["driftwise_model_server_latency_seconds"]
    buckets = [(float(s.labels["le"]), s.value) for s in latency.samples
               if s.name.endswith("_bucket") and s.labels["model"] == "m"]
    counts = [v for _, v in sorted(buckets)]
    assert counts == sorted(counts) and buckets[-1][0] == float("inf")
    evaluated_rows = sum(w["rows"] for w in windows)
    assert counts[-1] == evaluated_rows == _value(
        families, "driftwise_model_server_latency_seconds",
        "driftwise_model_server_latency_seconds_count", model="m")
    assert dict(buckets)[0.01] == evaluated_rows
    assert dict(buckets)[0.005] == sum(1 for r in (clean + shifted)[:evaluated_rows]
                                       if r["latency_ms"] <= 5.0)
    duration = families["driftwise_evaluation_duration_seconds"]
    total = [s.value for s in duration.samples if s.name.endswith("_count")]
    assert total == [len(windows)]

    # Bounded labels only: no record id or client key anywhere.
    names = {k for f in families.values() for s in f.samples for k in s.labels}
    assert names <= BOUNDED_LABELS
    values = {v for f in families.values() for s in f.samples for v in s.labels.values()}
    assert not values & {r["id"] for r in clean + shifted}
    assert not values & {"client-secret-1", "client-secret-2"}


def test_bands_value_and_expectations_are_exposed(service: TestClient) -> None:
    register(service, windows={"rows": 200, "min_rows": 50},
             business_value={"matrix": {"tp": 5, "fp": -1, "fn": -20, "tn": 1}, "per": 1000},
             expectations={"columns": {"a": {"range": {"min": -4, "max": 4}}}})
    batch = records(400)
    batch[5]["features"]["a"] = 40.0  # one value far out of range: the rule fails
    answer = service.post("/v1/models/m/records/batch", json={"records": batch})
    assert answer.json()["accepted"] == 400
    windows = wait_windows(service, "m", 2)
    newest = max(w["window"] for w in windows)
    stored = {p["metric"]: p["value"] for p in service.get(
        "/v1/models/m/results", params={"prefix": ""}).json()["results"]
        if p["window"] == newest}
    families = _scrape(service)
    assert _value(families, "driftwise_performance_estimated_lower", model="m",
                  metric="roc_auc") == pytest.approx(stored["estimated.roc_auc.lower"])
    assert _value(families, "driftwise_performance_estimated_upper", model="m",
                  metric="roc_auc") == pytest.approx(stored["estimated.roc_auc.upper"])
    for kind, metric in (("estimated", "business.estimated_value"),
                         ("reference", "business.reference_value"),
                         ("estimated_change", "business.estimated_change")):
        assert _value(families, "driftwise_business_value", model="m", kind=kind) == \
            pytest.approx(stored[metric])
    first = {p["metric"]: p["value"] for p in service.get(
        "/v1/models/m/results", params={"prefix": "expectations."}).json()["results"]
        if p["window"] == min(w["window"] for w in windows)}
    assert first["expectations.a.range.passed"] is False
    assert _value(families, "driftwise_expectation_passed", model="m", feature="a",
                  rule="range") == float(stored["expectations.a.range.passed"])


@pytest.fixture
def engine(store_url: str) -> Iterator[Any]:
    engine = open_store(store_url)
    yield engine
    engine.dispose()


def test_metrics_needs_a_metrics_read_or_admin_key_once_keys_exist(
        make_service: Any, engine: Any) -> None:
    client = make_service(api_key=ADMIN)
    client.headers["authorization"] = f"Bearer {ADMIN}"
    register(client, "a")
    register(client, "b")
    client.headers.pop("authorization")
    assert client.get("/metrics").status_code == 401
    ingest_only, _ = keys.create_key(engine, "sender", ("ingest",))
    assert client.get("/metrics", headers={"authorization": f"Bearer {ingest_only}"}
                      ).status_code == 403
    for scopes in (("metrics",), ("read",)):
        text, _ = keys.create_key(engine, "scraper", scopes)
        families = _scrape(client, authorization=f"Bearer {text}")
        assert _value(families, "driftwise_models") == 2
    limited, _ = keys.create_key(engine, "team-a", ("metrics",), models=("a",))
    families = _scrape(client, authorization=f"Bearer {limited}")
    assert _value(families, "driftwise_models") == 1
    models = {s.labels.get("model") for f in families.values() for s in f.samples}
    assert models - {None} == {"a"}
    metrics_only, _ = keys.create_key(engine, "scraper-only", ("metrics",))
    assert client.get("/v1/models", headers={"authorization": f"Bearer {metrics_only}"}
                      ).status_code == 403
