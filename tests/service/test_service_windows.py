"""Windows through the API: row and period windows evaluated once each and in order, late
labels as new revisions, results queries, window detail and evidence."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from service_helpers import (
    ServiceFactory,
    labels_of,
    records,
    reference_table,
    register,
    wait_for,
    wait_windows,
)

BATCH = "/v1/models/m/records/batch"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
DAY = 86_400
MIDNIGHT = 1_700_006_400  # 2023-11-15 00:00 UTC


def _results(client: TestClient, **params: object) -> list[dict[str, object]]:
    answer = client.get("/v1/models/m/results", params=params)  # type: ignore[arg-type]
    assert answer.status_code == 200, answer.text
    found: list[dict[str, object]] = answer.json()["results"]
    return found


def test_row_windows_are_evaluated_once_each_in_order(service: TestClient) -> None:
    register(service, windows={"rows": 100, "min_rows": 50})
    batch = records(450)
    for start, stop in ((0, 30), (30, 170), (170, 171), (171, 450)):
        assert service.post(BATCH, json={"records": batch[start:stop]}).status_code == 200
    windows = wait_windows(service, "m", 4)
    assert [w["window"] for w in windows] == [0, 1, 2, 3]
    assert [w["seq_range"] for w in windows] == [[0, 100], [100, 200], [200, 300],
                                                 [300, 400]]
    assert [w["label"] for w in windows] == ["rows 0-99", "rows 100-199", "rows 200-299",
                                             "rows 300-399"]
    assert all(w["rows"] == 100 and w["status"] == "ok" and w["revision"] == 0
               for w in windows)
    # The last 50 records wait for the next 50; then window 4 closes, and only it.
    service.post(BATCH, json={"records": records(60, start=450)})
    windows = wait_windows(service, "m", 5)
    assert len(windows) == 5 and windows[4]["seq_range"] == [400, 500]
    rows = [v["value"] for v in _results(service, metric="ops.rows")]
    assert rows == [100] * 5


def test_two_servers_on_one_store_evaluate_each_window_once(
        make_service: ServiceFactory, caplog: pytest.LogCaptureFixture) -> None:
    first, second = make_service(), make_service()
    register(first, windows={"rows": 50, "min_rows": 20})
    with caplog.at_level(logging.WARNING, logger="driftwise"):
        for start in range(0, 600, 100):
            client = first if start % 200 else second
            client.post(BATCH, json={"records": records(100, start=start)})
        windows = wait_windows(second, "m", 12)
    assert [w["seq_range"] for w in windows] == [[50 * i, 50 * i + 50] for i in range(12)]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def _dated(days: range, per_day: int) -> list[dict[str, object]]:
    """``per_day`` records on each of ``days`` (after MIDNIGHT), shuffled."""
    stamps = [MIDNIGHT + day * DAY + 60 * (i + 1) for day in days for i in range(per_day)]
    batch = records(len(stamps), start=days[0] * per_day, timestamps=stamps)
    rng = np.random.default_rng(days[0])
    return [batch[i] for i in rng.permutation(len(batch))]  # arrival order ≠ time order


def test_period_windows_close_by_calendar_day(make_service: ServiceFactory) -> None:
    client = make_service(window_idle_s=0.5)
    reference = reference_table(1000)
    reference = reference.append_column("ts", pa.array(
        [(MIDNIGHT - 30 * DAY + 60 * i) * 1_000_000 for i in range(1000)],
        pa.timestamp("us", tz="UTC")))
    register(client, windows={"period": "day", "min_rows": 20},
             columns={"timestamp": "ts"}, reference=reference)
    assert client.post(BATCH, json={"records": _dated(range(2), 40)}).json()["accepted"] == 80
    assert client.post(BATCH, json={"records": _dated(range(2, 4), 40)}).json()[
        "accepted"] == 80
    # Days 1-3 close once a record of a later day arrived; day 4 once idle (it is over).
    windows = wait_windows(client, "m", 4)
    days = [datetime.fromtimestamp(MIDNIGHT + d * DAY, UTC).strftime("%Y-%m-%d")
            for d in range(4)]
    assert [w["label"] for w in windows] == days
    assert [w["rows"] for w in windows] == [40] * 4
    assert [w["time_range"] for w in windows] == \
        [[MIDNIGHT + d * DAY, MIDNIGHT + (d + 1) * DAY] for d in range(4)]
    # Results by the time of their records: the second day only.
    second = _results(client, metric="ops.rows", since=MIDNIGHT + DAY + 1,
                      until=MIDNIGHT + 2 * DAY - 1)
    assert [(p["window"], p["value"]) for p in second] == [(1, 40)]


def test_late_labels_add_a_revision_of_realized_performance(service: TestClient) -> None:
    register(service, windows={"rows": 200, "min_rows": 50})
    batch = records(400)
    service.post(BATCH, json={"records": batch})
    wait_windows(service, "m", 2)
    before = {p["metric"]: p["value"] for p in _results(service, prefix="estimated.")
              if p["window"] == 0}
    assert set(before) >= {"estimated.accuracy", "estimated.roc_auc"}
    assert {p["metric"]: p["value"] for p in _results(
        service, metric="performance.labelled_rows")} == {"performance.labelled_rows": 0}

    answer = service.post("/v1/models/m/labels", json={"labels": labels_of(batch[:200])})
    assert answer.json()["windows_to_recompute"] == [0]

    def revised() -> list[dict[str, object]] | None:
        found: list[dict[str, object]] = service.get("/v1/models/m/windows").json()
        return found if found[0]["revision"] == 1 else None

    windows = wait_for(revised, what="revision 1 of window 0")
    assert windows[1]["revision"] == 0
    every = _results(service, prefix="performance.accuracy", revisions=True)
    assert [(p["window"], p["revision"]) for p in every
            if p["metric"] == "performance.accuracy"] == [(0, 1)]
    detail = service.get("/v1/models/m/windows/0").json()
    assert detail["metrics"]["performance.labelled_rows"] == 200
    accuracy = detail["metrics"]["performance.accuracy"]
    truth = [r["label"] for r in labels_of(batch[:200])]
    predicted = [int(r["probabilities"] >= 0.5) for r in batch[:200]]
    assert accuracy == pytest.approx(np.mean(np.equal(truth, predicted)))
    # The estimates made when the window closed stay at revision 0, unchanged.
    after = _results(service, prefix="estimated.", revisions=True)
    assert {p["metric"]: p["value"] for p in after if p["window"] == 0} == before
    assert {p["revision"] for p in after} == {0}

    # More labels: revision 2, and window 1 gets its first.
    service.post("/v1/models/m/labels", json={"labels": labels_of(batch[150:300])})
    wait_for(lambda: [w["revision"] for w in service.get("/v1/models/m/windows").json()]
             == [2, 1], what="revisions 2 and 1")
    revisions = [(p["window"], p["revision"]) for p in
                 _results(service, metric="performance.labelled_rows", revisions=True)]
    assert revisions == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]
    latest = {p["window"]: p["value"] for p in
              _results(service, metric="performance.labelled_rows")}
    assert latest == {0: 200, 1: 100}


def test_results_by_name_prefix_and_window(service: TestClient) -> None:
    register(service, windows={"rows": 100, "min_rows": 50})
    service.post(BATCH, json={"records": records(300)})
    wait_windows(service, "m", 3)
    named = _results(service, metric=["ops.rows", "drift.dataset.share"])
    assert sorted({p["metric"] for p in named}) == ["drift.dataset.share", "ops.rows"]
    assert [p["window"] for p in named if p["metric"] == "ops.rows"] == [0, 1, 2]
    prefixed = _results(service, prefix="drift.columns.a.")
    assert {p["metric"] for p in prefixed} >= {"drift.columns.a.p_value",
                                               "drift.columns.a.drift_detected"}
    assert all(str(p["metric"]).startswith("drift.columns.a.") for p in prefixed)
    assert _results(service, prefix="drift.columns.a%") == []  # no wildcard
    assert _results(service, metric="no.such.metric") == []
    everything = _results(service)
    assert {p["window"] for p in everything} == {0, 1, 2}
    assert len(everything) == 3 * len({p["metric"] for p in everything})


def test_window_detail_has_metrics_by_name_and_evidence(service: TestClient) -> None:
    register(service, windows={"rows": 200, "min_rows": 50})
    batch = records(200, shift=1.5, traceparent=TRACEPARENT, client_key="acct-7")
    service.post(BATCH, json={"records": batch})
    wait_windows(service, "m", 1)
    detail = service.get("/v1/models/m/windows/0").json()
    assert (detail["window"], detail["rows"], detail["config_version"],
            detail["reference_version"]) == (0, 200, 1, 1)
    metrics = detail["metrics"]
    assert metrics["drift.dataset.drift_detected"] is True
    assert metrics["drift.columns.a.drift_detected"] is True
    assert 0 <= metrics["drift.columns.a.p_value"] < 1e-6
    assert metrics["ops.rows"] == 200
    assert metrics["ops.latency_ms.p50"] == pytest.approx(
        np.percentile([r["latency_ms"] for r in batch], 50))
    evidence = detail["evidence"]
    assert [c["name"] for c in evidence["drifted_columns"]] == ["a"]
    assert evidence["drifted_columns"][0]["test"] and evidence["status"] == detail["status"]
    sample = evidence["sample"]
    assert 0 < len(sample) <= 20
    assert [row["id"] for row in sample] == [r["id"] for r in batch[:len(sample)]]
    assert {row["trace"] for row in sample} == {TRACEPARENT}
    assert {row["client"] for row in sample} == {"acct-7"}
    assert [row["a"] for row in sample] == [r["features"]["a"] for r in batch[:len(sample)]]
    assert service.get("/v1/models/m/windows/1").status_code == 404
    assert service.get("/v1/models/m/windows/-1").status_code == 422
