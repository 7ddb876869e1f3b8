"""Models through the API: registration, configuration versions, references, deletion."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from service_helpers import (
    csv_bytes,
    parquet_bytes,
    records,
    reference_table,
    register,
    wait_windows,
)
from sqlalchemy import func, select

from driftwise.store import open_store
from driftwise.store import schema as s

PARQUET = {"content-type": "application/vnd.apache.parquet"}
MODEL = {"name": "m", "task": "binary", "columns": {"probabilities": "proba", "target": "label"},
         "config": {"model": {"positive_class": "1"}, "windows": {"rows": 100}}}


def test_register_list_and_get(service: TestClient) -> None:
    answer = service.post("/v1/models", json=MODEL)
    assert answer.status_code == 201
    created = answer.json()
    assert (created["name"], created["task"], created["config_version"],
            created["reference_version"], created["records"]) == ("m", "binary", 1, 0, 0)
    assert created["config"]["model"] == {"positive_class": "1", "name": "m",
                                          "task": "binary"}
    assert created["config"]["columns"] == MODEL["columns"]
    assert service.post("/v1/models", json={**MODEL, "name": "b"}).status_code == 201
    assert [m["name"] for m in service.get("/v1/models").json()] == ["b", "m"]
    assert service.get("/v1/models/m").json() == created
    again = service.post("/v1/models", json=MODEL)
    assert again.status_code == 409 and "already registered" in again.json()["detail"]


@pytest.mark.parametrize(("change", "field"), [
    ({"name": "has space"}, "body.name"),
    ({"task": "ranking"}, "body.task"),
    ({"surprise": 1}, "body.surprise"),
])
def test_a_bad_registration_names_its_field(service: TestClient, change: dict[str, object],
                                            field: str) -> None:
    answer = service.post("/v1/models", json={**MODEL, **change})
    assert answer.status_code == 422
    assert answer.json()["field"] == field


def test_a_configuration_the_monitor_refuses_is_422(service: TestClient) -> None:
    bad = {**MODEL, "config": {"windows": {"rows": "many"}}}
    answer = service.post("/v1/models", json=bad)
    assert answer.status_code == 422
    assert "windows.rows" in answer.json()["detail"]
    assert service.get("/v1/models").json() == []


def test_configuration_versions_increase_and_each_window_records_its_own(
        service: TestClient) -> None:
    register(service, windows={"rows": 100, "min_rows": 50})
    assert service.post("/v1/models/m/records/batch",
                        json={"records": records(200)}).status_code == 200
    wait_windows(service, "m", 2)
    config = {"model": {"positive_class": "1"}, "windows": {"rows": 50, "min_rows": 20}}
    answer = service.put("/v1/models/m/config", json={"config": config})
    assert answer.status_code == 200, answer.text
    model = answer.json()
    assert model["config_version"] == 2
    assert model["config"]["windows"] == {"rows": 50, "min_rows": 20}
    assert model["config"]["columns"] == MODEL["columns"]  # kept from version 1
    assert service.put("/v1/models/m/config",
                       json={"config": config}).json()["config_version"] == 3
    service.post("/v1/models/m/records/batch", json={"records": records(100, start=200)})
    windows = wait_windows(service, "m", 4)
    assert [(w["config_version"], w["rows"]) for w in windows] == \
        [(1, 100), (1, 100), (3, 50), (3, 50)]
    assert [w["seq_range"] for w in windows] == [[0, 100], [100, 200], [200, 250],
                                                 [250, 300]]
    refused = service.put("/v1/models/m/config", json={"config": {"windows": {"rows": 0}}})
    assert refused.status_code == 422
    assert service.get("/v1/models/m").json()["config_version"] == 3


@pytest.mark.parametrize("how", ["parquet", "csv", "multipart-parquet", "multipart-csv"])
def test_a_reference_is_uploaded_as_parquet_or_csv_raw_or_multipart(
        service: TestClient, how: str) -> None:
    assert service.post("/v1/models", json=MODEL).status_code == 201
    table = reference_table(500)
    if how == "parquet":
        answer = service.put("/v1/models/m/reference", content=parquet_bytes(table),
                             headers=PARQUET)
    elif how == "csv":
        answer = service.put("/v1/models/m/reference", content=csv_bytes(table),
                             headers={"content-type": "text/csv"})
    else:
        kind = how.split("-")[1]
        body = parquet_bytes(table) if kind == "parquet" else csv_bytes(table)
        answer = service.put("/v1/models/m/reference", files={
            "file": (f"reference.{kind}", body, "application/octet-stream")})
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"version": 1, "rows": 500}
    assert service.get("/v1/models/m").json()["reference_version"] == 1
    # The reference fixes the record layout: its features are accepted, no others.
    ok = service.post("/v1/models/m/records/batch", json={"records": records(5)})
    assert ok.json()["accepted"] == 5


def test_each_upload_is_a_new_reference_version(service: TestClient) -> None:
    register(service)
    second = service.put("/v1/models/m/reference", content=csv_bytes(reference_table(300)),
                         headers={"content-type": "text/csv"})
    assert second.json() == {"version": 2, "rows": 300}
    service.post("/v1/models/m/records/batch", json={"records": records(200)})
    [window] = wait_windows(service, "m", 1)
    assert window["reference_version"] == 2


@pytest.mark.parametrize(("content", "headers", "files"), [
    (b"", {"content-type": "text/csv"}, None),
    (b"PAR1 not really", PARQUET, None),
    (None, None, {"other": ("x.csv", b"a\n1\n", "text/csv")}),
])
def test_an_unreadable_reference_is_refused(service: TestClient, content: bytes | None,
                                            headers: dict[str, str] | None,
                                            files: dict[str, object] | None) -> None:
    assert service.post("/v1/models", json=MODEL).status_code == 201
    answer = service.put("/v1/models/m/reference", content=content, headers=headers,
                         files=files)
    assert answer.status_code == 422, answer.text
    assert service.get("/v1/models/m").json()["reference_version"] == 0


def test_records_before_a_reference_are_409(service: TestClient) -> None:
    assert service.post("/v1/models", json=MODEL).status_code == 201
    answer = service.post("/v1/models/m/records/batch", json={"records": records(3)})
    assert answer.status_code == 409
    assert "no reference yet" in answer.json()["detail"]


def test_delete_removes_the_model_and_everything_it_stored(service: TestClient,
                                                           store_url: str) -> None:
    register(service, windows={"rows": 50, "min_rows": 20})
    register(service, "keep")
    service.post("/v1/models/m/records/batch", json={"records": records(100)})
    wait_windows(service, "m", 2)
    service.post("/v1/models/m/labels", json={"labels": [{"id": "r1", "label": 1}]})
    assert service.delete("/v1/models/m").status_code == 204
    for path in ("/v1/models/m", "/v1/models/m/windows", "/v1/models/m/windows/0",
                 "/v1/models/m/results"):
        assert service.get(path).status_code == 404, path
    assert service.delete("/v1/models/m").status_code == 404
    assert [m["name"] for m in service.get("/v1/models").json()] == ["keep"]
    engine = open_store(store_url)
    try:
        with engine.connect() as conn:
            for table in (s.records, s.batches, s.windows, s.results, s.labels,
                          s.reference_sets, s.fitted_monitors, s.model_configs):
                owners = conn.execute(select(func.count()).select_from(table).where(
                    table.c.model_id != 2)).scalar_one()
                assert owners == 0, table.name
    finally:
        engine.dispose()


def test_a_model_registered_again_after_delete_has_its_new_layout(
        service: TestClient) -> None:
    register(service)
    assert service.post("/v1/models/m/records/batch",
                        json={"records": records(3)}).json()["accepted"] == 3
    assert service.delete("/v1/models/m").status_code == 204
    # The same name (and, on SQLite, the same id) with a reference of other features.
    register(service, reference=reference_table(300).drop(["a"]))
    batch = records(3)
    for record in batch:
        del record["features"]["a"]
    answer = service.post("/v1/models/m/records/batch", json={"records": batch})
    assert answer.json() == {"accepted": 3, "duplicates": 0, "refused": []}


def test_records_checked_against_a_replaced_reference_are_checked_again(
        service: TestClient) -> None:
    """The ingest path keeps models in a cache; a new reference makes the store refuse a
    batch validated against the old one, and the batch is validated again: records that
    lack a feature the new reference has are refused, never stored under the old layout."""
    register(service, reference=reference_table(300).drop(["a"]))
    old = records(2, prefix="old")
    for record in old:
        del record["features"]["a"]
    assert service.post("/v1/models/m/records/batch",
                        json={"records": old}).json()["accepted"] == 2
    uploaded = service.put("/v1/models/m/reference",
                           content=parquet_bytes(reference_table(300)), headers=PARQUET)
    assert uploaded.status_code == 201, uploaded.text
    late = records(2, prefix="late")
    for record in late:
        del record["features"]["a"]
    answer = service.post("/v1/models/m/records/batch", json={"records": late}).json()
    assert answer["accepted"] == 0
    assert {r["field"] for r in answer["refused"]} == {"features.a"}
    single = service.post("/v1/models/m/records", json=late[0])
    assert single.status_code == 422 and "features.a" in single.json()["detail"]
    full = service.post("/v1/models/m/records", json=records(1, prefix="new")[0])
    assert full.status_code == 201, full.text
    assert service.get("/v1/models/m").json()["records"] == 3


def test_records_for_a_deleted_model_are_refused_with_404(service: TestClient) -> None:
    register(service)
    assert service.post("/v1/models/m/records", json=records(1)[0]).status_code == 201
    assert service.delete("/v1/models/m").status_code == 204
    answer = service.post("/v1/models/m/records", json=records(1, prefix="x")[0])
    assert answer.status_code == 404, answer.text


@pytest.mark.parametrize(("method", "path", "body"), [
    ("get", "/v1/models/nope", None),
    ("put", "/v1/models/nope/config", {"config": {}}),
    ("delete", "/v1/models/nope", None),
    ("post", "/v1/models/nope/records", records(1)[0]),
    ("post", "/v1/models/nope/records/batch", {"records": records(2)}),
    ("post", "/v1/models/nope/labels", {"labels": [{"id": "r0", "label": 1}]}),
    ("get", "/v1/models/nope/windows", None),
    ("get", "/v1/models/nope/windows/0", None),
    ("get", "/v1/models/nope/results", None),
])
def test_an_unknown_model_is_404(service: TestClient, method: str, path: str,
                                 body: object) -> None:
    answer = service.request(method, path, json=body)
    assert answer.status_code == 404
    assert answer.json()["detail"] == "no model named 'nope'"


def test_an_unknown_model_reference_is_404(service: TestClient) -> None:
    answer = service.put("/v1/models/nope/reference", content=parquet_bytes(
        reference_table(100)), headers=PARQUET)
    assert answer.status_code == 404
