"""The service's windows detect what the Monitor detects: clean traffic drawn like the
reference raises few dataset-drift flags, a shifted feature is flagged in every window."""

from __future__ import annotations

from fastapi.testclient import TestClient
from service_helpers import records, register, wait_windows

BATCH = "/v1/models/m/records/batch"


def test_clean_traffic_is_quiet_and_a_shifted_feature_is_detected(
        service: TestClient) -> None:
    register(service, windows={"rows": 200, "min_rows": 50})
    clean = records(2000, seed=21)  # ten windows from the reference's distribution
    shifted = records(600, start=2000, seed=22, shift=1.0)  # feature a moved by 1 sd
    for start in range(0, 2000, 500):
        service.post(BATCH, json={"records": clean[start:start + 500]})
    service.post(BATCH, json={"records": shifted})
    wait_windows(service, "m", 13)
    answer = service.get("/v1/models/m/results", params={"metric": [
        "drift.dataset.drift_detected", "drift.columns.a.drift_detected"]})
    flags: dict[str, list[bool]] = {}
    for point in sorted(answer.json()["results"], key=lambda p: p["window"]):
        flags.setdefault(point["metric"], []).append(point["value"])
    dataset = flags["drift.dataset.drift_detected"]
    column_a = flags["drift.columns.a.drift_detected"]
    assert len(dataset) == 13
    # The columns' p-values are FDR-corrected at 5%: with no drift a window is flagged with
    # a probability of about 0.05, so more than 3 flags in 10 windows has odds of 1 in 1000.
    assert sum(dataset[:10]) <= 3, dataset
    assert dataset[10:] == [True, True, True]
    assert column_a[10:] == [True, True, True]
    for window in (10, 11, 12):
        evidence = service.get(f"/v1/models/m/windows/{window}").json()["evidence"]
        assert "a" in [c["name"] for c in evidence["drifted_columns"]]
