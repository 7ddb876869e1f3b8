"""Ingest through the API: JSON, Arrow IPC and Parquet bodies, idempotency by record id,
per-record refusals naming the field, body limits, late labels."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from service_helpers import ServiceFactory, parquet_bytes, records, register

BATCH = "/v1/models/m/records/batch"
ARROW = {"content-type": "application/vnd.apache.arrow.stream"}
PARQUET = {"content-type": "application/vnd.apache.parquet"}
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def model(service: TestClient) -> TestClient:
    """The service with model ``m`` registered and its reference uploaded."""
    register(service)
    return service


def _table(batch: list[dict[str, Any]], timestamps: bool = False) -> pa.Table:
    """``batch`` as the columns an Arrow or Parquet body carries."""
    columns: dict[str, Any] = {
        "id": [r["id"] for r in batch],
        **{name: [r["features"][name] for r in batch] for name in ("a", "b", "c")},
        "probabilities": [r["probabilities"] for r in batch],
        "latency_ms": [r["latency_ms"] for r in batch]}
    if timestamps:
        columns["timestamp"] = pa.array([int(r["timestamp"] * 1e6) for r in batch],
                                        pa.timestamp("us", tz="UTC"))
    return pa.table(columns)


def _arrow(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _stored(client: TestClient) -> int:
    records_: int = client.get("/v1/models/m").json()["records"]
    return records_


def test_a_single_record_is_stored_once(model: TestClient) -> None:
    record = records(1)[0]
    first = model.post("/v1/models/m/records", json=record)
    assert first.status_code == 201
    assert first.json() == {"accepted": 1, "duplicates": 0, "refused": []}
    retry = model.post("/v1/models/m/records", json=record)
    assert retry.status_code == 200
    assert retry.json() == {"accepted": 0, "duplicates": 1, "refused": []}
    changed = model.post("/v1/models/m/records", json={**record, "latency_ms": 99.0})
    assert changed.status_code == 409
    assert changed.json()["detail"] == "id: already stored with a different payload"
    assert _stored(model) == 1


def test_a_batch_sent_twice_is_stored_once(model: TestClient) -> None:
    batch = records(300)
    first = model.post(BATCH, json={"records": batch})
    assert first.status_code == 200
    assert first.json() == {"accepted": 300, "duplicates": 0, "refused": []}
    again = model.post(BATCH, json={"records": batch})
    assert again.json() == {"accepted": 0, "duplicates": 300, "refused": []}
    overlapping = model.post(BATCH, json={"records": batch[200:] + records(50, start=300)})
    assert overlapping.json() == {"accepted": 50, "duplicates": 100, "refused": []}
    assert _stored(model) == 350


def test_an_id_repeated_with_another_payload_is_refused_in_a_batch(
        model: TestClient) -> None:
    batch = records(10)
    model.post(BATCH, json={"records": batch})
    clash = {**batch[4], "features": {**batch[4]["features"], "b": 7.5}}
    answer = model.post(BATCH, json={"records": [clash, *records(5, start=10)]})
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 5, "duplicates": 0, "refused": [
        {"index": 0, "id": "r4", "field": "id",
         "reason": "already stored with a different payload"}]}
    only = model.post(BATCH, json={"records": [clash]})
    assert only.status_code == 409
    # Within one body: the same id twice with different payloads, neither is kept.
    twice = records(1, start=20)[0]
    inner = model.post(BATCH, json={"records": [twice, {**twice, "latency_ms": 1.0}]})
    assert inner.json()["accepted"] == 0
    assert [(r["id"], r["field"]) for r in inner.json()["refused"]] == [("r20", "id")]
    assert _stored(model) == 15


def test_arrow_and_parquet_bodies_are_the_same_records_as_json(model: TestClient) -> None:
    batch = records(200)
    arrow = model.post(BATCH, content=_arrow(_table(batch[:100])), headers=ARROW)
    assert arrow.json() == {"accepted": 100, "duplicates": 0, "refused": []}
    parquet = model.post(BATCH, content=parquet_bytes(_table(batch[100:])), headers=PARQUET)
    assert parquet.json() == {"accepted": 100, "duplicates": 0, "refused": []}
    # The same records as JSON are retries, whatever body carried them first.
    assert model.post(BATCH, json={"records": batch}).json() == \
        {"accepted": 0, "duplicates": 200, "refused": []}
    assert model.post(BATCH, content=_arrow(_table(batch)), headers=ARROW).json() == \
        {"accepted": 0, "duplicates": 200, "refused": []}
    assert _stored(model) == 200


def test_an_arrow_body_carries_timestamps_and_prefixed_features(model: TestClient) -> None:
    batch = records(50, timestamps=[1_700_000_000.0 + i for i in range(50)])
    table = _table(batch, timestamps=True).rename_columns(
        ["id", "features.a", "b", "c", "probabilities", "latency_ms", "timestamp"])
    answer = model.post(BATCH, content=_arrow(table), headers=ARROW)
    assert answer.json() == {"accepted": 50, "duplicates": 0, "refused": []}
    assert model.post(BATCH, json={"records": batch}).json()["duplicates"] == 50


def test_a_table_body_with_a_bad_row_keeps_the_others(model: TestClient) -> None:
    table = _table(records(4))
    table = table.set_column(1, "a", pa.array([0.5, float("nan"), None, 1.5]))
    answer = model.post(BATCH, content=_arrow(table), headers=ARROW)
    assert answer.json()["accepted"] == 3  # None is a missing value, NaN is refused
    assert [(r["index"], r["field"]) for r in answer.json()["refused"]] == \
        [(1, "features.a")]


@pytest.mark.parametrize(("body", "headers", "status", "detail"), [
    (b"not parquet", PARQUET, 422, "cannot read the body as Parquet"),
    (b"not arrow", ARROW, 422, "cannot read the body as Arrow IPC stream"),
    (b"{not json", {"content-type": "application/json"}, 422, "the body is not JSON"),
    (b'{"rows": []}', {"content-type": "application/json"}, 422, "`records` list"),
    (b"a,b\n1,2\n", {"content-type": "text/csv"}, 415, "send application/json"),
])
def test_an_unreadable_body_is_refused_whole(model: TestClient, body: bytes,
                                             headers: dict[str, str], status: int,
                                             detail: str) -> None:
    answer = model.post(BATCH, content=body, headers=headers)
    assert answer.status_code == status
    assert detail in answer.json()["detail"]
    assert _stored(model) == 0


def test_a_table_without_ids_is_refused(model: TestClient) -> None:
    answer = model.post(BATCH, content=_arrow(_table(records(3)).drop(["id"])),
                        headers=ARROW)
    assert answer.status_code == 422
    assert "`id` column" in answer.json()["detail"]


def _mixed() -> tuple[str, list[tuple[int, str, str]]]:
    """A raw JSON batch (NaN and Infinity literals included) of good and bad records, and
    the (index, field, reason fragment) of each bad one."""
    good = records(4, start=100)
    base = records(9)
    bad: list[Any] = [
        {**base[0], "features": {**base[0]["features"], "a": "high"}},
        {**base[1], "features": {"a": 1.0, "c": "u"}},
        {**base[2], "features": {**base[2]["features"], "zz": 1.0}},
        {**base[3], "features": {**base[3]["features"], "b": True}},
        {**base[4], "probabilities": 1.5},
        {**base[5], "timestamp": "yesterday"},
        {key: value for key, value in base[6].items() if key != "id"},
    ]
    items = [json.dumps(good[0]), *map(json.dumps, bad[:4]), json.dumps(good[1]),
             *map(json.dumps, bad[4:]), json.dumps(good[2]),
             json.dumps(base[7]).replace(str(base[7]["features"]["a"]), "NaN", 1),
             json.dumps(base[8]).replace(str(base[8]["features"]["b"]), "-Infinity", 1),
             json.dumps(good[3])]
    expected = [(1, "features.a", "expected a number"),
                (2, "features.b", "missing"),
                (3, "features.zz", "not a feature of this model"),
                (4, "features.b", "expected a number"),
                (6, "probabilities", "probability in [0, 1]"),
                (7, "timestamp", "datetime"),
                (8, "id", "required"),
                (10, "features.a", "finite"),
                (11, "features.b", "finite")]
    return '{"records": [' + ", ".join(items) + "]}", expected


def test_a_mixed_batch_keeps_the_good_records_and_names_each_refused_field(
        model: TestClient) -> None:
    body, expected = _mixed()
    answer = model.post(BATCH, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 200
    report = answer.json()
    assert report["accepted"] == 4 and report["duplicates"] == 0
    got = [(r["index"], r["field"], r["reason"]) for r in report["refused"]]
    assert [(i, f) for i, f, _ in got] == [(i, f) for i, f, _ in expected]
    for (_, _, reason), (_, _, fragment) in zip(got, expected, strict=True):
        assert fragment.lower() in reason.lower()
    assert [r["id"] for r in report["refused"]][:2] == ["r0", "r1"]
    # A retry of the good records alone (they take the fast path) is a duplicate.
    retry = model.post(BATCH, json={"records": records(4, start=100)})
    assert retry.json() == {"accepted": 0, "duplicates": 4, "refused": []}
    assert _stored(model) == 4


def test_a_batch_of_only_bad_records_is_422(model: TestClient) -> None:
    record = records(1)[0]
    answer = model.post(BATCH, json={"records": [
        {**record, "features": {"a": 1.0, "b": 2.0}}]})
    assert answer.status_code == 422
    assert answer.json()["refused"][0]["field"] == "features.c"


@pytest.mark.parametrize(("raw", "field"), [
    ('"a": NaN', "body.features.a"),
    ('"a": Infinity', "body.features.a"),
    ('"a": [1]', "body.features.a"),
])
def test_a_bad_single_record_is_422_naming_the_field(model: TestClient, raw: str,
                                                     field: str) -> None:
    body = '{"id": "x", "features": {' + raw + ', "b": 1.0, "c": "u"}, "probabilities": 0.5}'
    answer = model.post("/v1/models/m/records", content=body,
                        headers={"content-type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["field"] == field
    assert _stored(model) == 0


def test_a_single_record_missing_a_feature_is_422(model: TestClient) -> None:
    record = records(1)[0]
    del record["features"]["b"]
    answer = model.post("/v1/models/m/records", json=record)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("features.b: missing")


def _chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


@pytest.mark.parametrize("streamed", [False, True])
def test_a_body_over_the_limit_is_413(make_service: ServiceFactory, streamed: bool) -> None:
    client = make_service(max_body_bytes=1 << 20)
    register(client)
    small = make_service(max_body_bytes=16 * 1024)
    fits = json.dumps({"records": records(20)}).encode()
    assert len(fits) < 16 * 1024
    assert small.post(BATCH, content=fits,
                      headers={"content-type": "application/json"}).status_code == 200
    body = json.dumps({"records": records(200, start=100)}).encode()
    assert len(body) > 16 * 1024
    # Streamed without a length, the limit is found while reading.
    answer = small.post(BATCH, content=_chunks(body) if streamed else body,
                        headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["field"] == "body"
    assert _stored(small) == 20


def test_labels_of_unknown_ids_are_reported_and_bad_ones_refused(model: TestClient) -> None:
    batch = records(20)
    model.post(BATCH, json={"records": batch})
    body = ('{"labels": [{"id": "r1", "label": 1}, {"id": "r2", "label": 0}, '
            '{"id": "ghost", "label": 1}, {"id": "r3", "label": NaN}, {"id": "r4"}, '
            '{"id": "r5", "label": 1, "extra": 2}]}')
    answer = model.post("/v1/models/m/labels", content=body,
                        headers={"content-type": "application/json"})
    assert answer.status_code == 200
    report = answer.json()
    assert (report["stored"], report["unknown_ids"], report["windows_to_recompute"]) == \
        (2, ["ghost"], [])
    assert [(r["index"], r["id"], r["field"]) for r in report["refused"]] == \
        [(3, "r3", "label"), (4, "r4", "label"), (5, "r5", "extra")]


def test_the_same_record_written_another_way_is_a_retry(model: TestClient) -> None:
    sent = records(2)
    sent[0]["timestamp"] = "2024-01-02T03:04:05Z"
    sent[1]["timestamp"] = "2024-01-02T03:04:05"  # naive: UTC
    for record in sent:
        assert model.post("/v1/models/m/records", json=record).status_code == 201
    again = [{**sent[0], "timestamp": "2024-01-02T04:04:05+01:00", "error": False,
              "client_key": None},
             {**sent[1], "timestamp": 1_704_164_645, "prediction": None}]
    assert model.post(BATCH, json={"records": again}).json() == \
        {"accepted": 0, "duplicates": 2, "refused": []}
    later = {**sent[0], "timestamp": "2024-01-02T03:04:06Z"}
    assert model.post(BATCH, json={"records": [later]}).status_code == 409
