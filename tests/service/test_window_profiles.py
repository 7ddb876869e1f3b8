"""Per-window profiles in the store: a run of windows merges into one sample, and a drift
too small for any one window shows in the merged week."""

from __future__ import annotations

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from service_helpers import records, reference_table, register, wait_windows

from driftwise.detect import DriftDetector
from driftwise.detect.engine import window_profile

BATCH = "/v1/models/m/records/batch"


def test_merged_windows_equal_one_comparison_of_all_their_records(
        service: TestClient) -> None:
    register(service, windows={"rows": 300, "min_rows": 50})
    sent = records(1800, seed=31, shift=0.12)  # six windows, each too small to tell
    for start in range(0, 1800, 600):
        service.post(BATCH, json={"records": sent[start:start + 600]})
    wait_windows(service, "m", 6)
    single = service.get("/v1/models/m/results", params={
        "metric": "drift.columns.a.drift_detected"}).json()["results"]
    answer = service.get("/v1/models/m/drift", params={"first": 0, "last": 5})
    assert answer.status_code == 200, answer.text
    merged = answer.json()
    assert merged["windows"] == [0, 1, 2, 3, 4, 5]
    report = merged["report"]
    assert report["current_rows"] == 1800
    columns = {c["name"]: c for c in report["columns"]}
    # The same comparison, recomputed here from the records the six windows held: the
    # store's merged windows equal one profile of all their records.
    reference = DriftDetector().fit(reference_table().select(["a", "b", "c"]))
    table = pa.Table.from_pylist([r["features"] for r in sent])
    expected = reference.compare(window_profile(reference.profile_, table))
    for col in expected.columns:
        got = columns[col.name]
        assert abs(got["statistic"] - col.statistic) <= 1e-9 * max(1.0, col.statistic)
        assert got["p_value"] == pytest.approx(col.p_value, rel=1e-6), col.name
    assert columns["a"]["drift_detected"]
    assert sum(p["value"] for p in single) < 6  # not every window alone saw it
    two = service.get("/v1/models/m/drift", params={"first": 4}).json()
    assert two["windows"] == [4, 5] and two["report"]["current_rows"] == 600
    none = service.get("/v1/models/m/drift", params={"first": 100})
    assert none.status_code == 404 and "no window profile" in none.text
