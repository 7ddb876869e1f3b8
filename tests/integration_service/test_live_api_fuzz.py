"""Property-based fuzzing of the whole API from its own OpenAPI document (schemathesis).

Every operation of /openapi.json gets generated requests, valid and invalid, half of them
aimed at a model that exists (registered, with a reference, records and an evaluated
window, so that the result routes answer with real content). Whatever is sent, the service
must never answer 5xx, and every answer must be one the document describes: a declared
status code, the declared content type, a body matching the declared schema.

Bounded and reproducible: 30 examples per operation, derandomized Hypothesis, no example
database; a fresh store per operation that writes, so that a DELETE of the model spoils
no other operation's run.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from live_helpers import MODEL_COLUMNS, records, reference
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from driftwise.app.evaluation import evaluate_pending
from driftwise.config.settings import ServiceSettings
from driftwise.service.server import build_app
from driftwise.store import open_store

EXAMPLES = 30
PARQUET = "application/vnd.apache.parquet"
ARROW = "application/vnd.apache.arrow.stream"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck), print_blob=True)


@schemathesis.serializer(PARQUET, ARROW)
def _binary(_ctx: Any, value: Any) -> bytes:
    """The Arrow and Parquet bodies go as they are (random bytes, mostly: refused 422)."""
    if isinstance(value, bytes):
        return value
    return str(value).encode()


# An alert rule that opens an alert at the first window, for the alert routes.
ALWAYS = {"name": "rows", "metric": "ops.rows", "condition": ">= 1", "severity": "warning"}


def _populated_app(data_dir: Path) -> Any:
    """The service (no evaluator) over a store holding model ``m``: a reference, 1,200
    records, one evaluated window (evaluated here, by one pass of the evaluator) and the
    alert it opened."""
    app = build_app(ServiceSettings(data_dir=data_dir, evaluator="off", database_url=None,
                                    api_key=None))
    with TestClient(app) as client:
        r = client.post("/v1/models", json={"name": "m", "task": "binary",
                                            "columns": MODEL_COLUMNS,
                                            "config": {"windows": {"rows": 1000},
                                                       "alerts": [ALWAYS],
                                                       "checks": {"outliers": {
                                                           "alpha": 0.05}}}})
        assert r.status_code == 201, r.text
        r = client.put("/v1/models/m/reference", content=_parquet(reference(n=1500)),
                       headers={"content-type": PARQUET})
        assert r.status_code == 201, r.text
        r = client.post("/v1/models/m/records/batch", json={"records": records("r", 1200)})
        assert r.json()["accepted"] == 1200, r.text
        r = client.post("/v1/models/m/screen", json={"records": [_far()]})
        assert r.json()["quarantined"] == 1, r.text  # quarantine entry 1, for its routes
        r = client.post("/v1/models/m/blocks", json={"by": "fuzz", "client_key": "k"})
        assert r.status_code == 200, r.text  # block 1, for its lift
    engine = open_store(None, data_dir, upgrade=False)
    try:
        assert evaluate_pending(engine, "fuzz-setup") == 1
    finally:
        engine.dispose()
    return app


def _far() -> dict[str, Any]:
    """A record far outside the reference (quarantined by /screen)."""
    record = records("far", 1)[0]
    record["features"] = {**record["features"], "a": 1e6}
    return record


def _parquet(table: Any) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in record.items() if k != "features"}, **record["features"]}


def _explicit(operation: Any) -> list[Any]:
    """Valid requests on model ``m`` (run first, as Hypothesis' explicit examples), so
    that each operation is also exercised past its validation."""
    m = {"name": "m"}
    record = records("x", 1)[0]
    bodies: dict[str, list[dict[str, Any]]] = {
        "POST /v1/models": [{"body": {"name": "n", "task": "binary",
                                      "columns": MODEL_COLUMNS}}],
        "PUT /v1/models/{name}/config": [{"path_parameters": m, "body": {
            "config": {"windows": {"rows": 500}, "columns": MODEL_COLUMNS}}}],
        "PUT /v1/models/{name}/reference": [{"path_parameters": m, "media_type": PARQUET,
                                             "body": _parquet(reference(n=800, seed=3))}],
        "POST /v1/models/{name}/records": [{"path_parameters": m, "body": record}],
        "POST /v1/models/{name}/records/batch": [
            {"path_parameters": m, "body": {"records": records("y", 20)},
             "media_type": "application/json"},
            {"path_parameters": m, "media_type": PARQUET, "body": _parquet(pa.Table.from_pylist(
                [{**_flat(r)} for r in records("z", 20)]))}],
        "POST /v1/models/{name}/labels": [
            {"path_parameters": m, "body": {"labels": [{"id": "r1", "label": 1},
                                                       {"id": "nope", "label": 0}]}}],
        "GET /v1/models/{name}/windows/{window}": [
            {"path_parameters": {"name": "m", "window": 0}}],
        "GET /v1/models/{name}/drift": [
            {"path_parameters": m}, {"path_parameters": m, "query": {"first": 0, "last": 3}}],
        "GET /v1/models/{name}/results": [
            {"path_parameters": m, "query": {"prefix": "drift.", "revisions": "true"}}],
        "GET /v1/models/{name}/alerts/{alert_id}": [
            {"path_parameters": {"name": "m", "alert_id": 1}}],
        "POST /v1/models/{name}/alerts/{alert_id}/acknowledge": [
            {"path_parameters": {"name": "m", "alert_id": 1}, "body": {"by": "fuzz"}}],
        "POST /v1/models/{name}/alerts/{alert_id}/silence": [
            {"path_parameters": {"name": "m", "alert_id": 1},
             "body": {"by": "fuzz", "for_s": 60}}],
        "POST /v1/models/{name}/alerts/{alert_id}/resolve": [
            {"path_parameters": {"name": "m", "alert_id": 1}, "body": {"by": "fuzz"}}],
        "GET /v1/incidents/{incident_id}": [{"path_parameters": {"incident_id": 1}}],
        "GET /v1/incidents": [{"query": {"state": "open"}}],
        "GET /v1/incidents/{incident_id}/report": [{"path_parameters": {"incident_id": 1}}],
        "POST /v1/incidents/{incident_id}/notes": [
            {"path_parameters": {"incident_id": 1}, "body": {"by": "fuzz", "text": "seen"}}],
        "GET /v1/models/{name}/blocks": [{"path_parameters": m, "query": {"all": "true"}}],
        "POST /v1/models/{name}/blocks": [
            {"path_parameters": m, "body": {"by": "fuzz", "segment": {"c": "v"},
                                            "incident_id": 1}}],
        "POST /v1/models/{name}/blocks/{block_id}/lift": [
            {"path_parameters": {"name": "m", "block_id": 1}, "body": {"by": "fuzz"}}],
        "POST /v1/models/{name}/screen": [
            {"path_parameters": m, "body": {"records": [record, _far()]}}],
        "GET /v1/models/{name}/quarantine/{entry_id}": [
            {"path_parameters": {"name": "m", "entry_id": 1}}],
        "POST /v1/models/{name}/quarantine/{entry_id}/release": [
            {"path_parameters": {"name": "m", "entry_id": 1}, "body": {"by": "fuzz"}}],
        "POST /v1/models/{name}/quarantine/{entry_id}/discard": [
            {"path_parameters": {"name": "m", "entry_id": 1}, "body": {"by": "fuzz"}}],
    }
    return [operation.Case(**kwargs) for kwargs in bodies.get(operation.label, [])]


def _caller(statuses: Counter[int]) -> Any:
    def call(case: Any) -> None:
        statuses[case.call_and_validate(checks=CHECKS).status_code] += 1

    return call


def _operations(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", _populated_app(tmp_path_factory.mktemp("labels")))
    return [result.ok().label for result in schema.get_all_operations()]


def test_every_operation_answers_within_its_schema(tmp_path: Path,
                                                   tmp_path_factory: pytest.TempPathFactory
                                                   ) -> None:
    labels = _operations(tmp_path_factory)
    assert len(labels) >= 12, labels
    seen: dict[str, Counter[int]] = {}
    reader = _populated_app(tmp_path / "reads")  # shared by the operations that only read
    for index, label in enumerate(labels):
        app = reader if label.startswith("GET ") else _populated_app(tmp_path / f"op{index}")
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operation = schema.find_operation_by_label(label)
        assert operation is not None, label
        fixed = {"name": "m"} if "{name}" in operation.path else None
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed),
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed),
            operation.as_strategy(GenerationMode.NEGATIVE))

        statuses: Counter[int] = Counter()
        fuzz = given(case=strategy)(_caller(statuses))
        for case in _explicit(operation):
            fuzz = example(case=case)(fuzz)
        fuzz = FUZZ(fuzz)
        try:
            fuzz()
        except Exception as exc:
            raise AssertionError(f"{label}: {exc}") from exc
        seen[label] = statuses
    # The fuzz reached past the validation of every operation at least once.
    tally = {label: dict(statuses) for label, statuses in seen.items()}
    print(tally)
    assert all(any(code < 300 for code in statuses) for statuses in seen.values()), \
        tally
