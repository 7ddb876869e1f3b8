"""OpenTelemetry spans of the service, caught by the SDK's in-memory exporter."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from driftwise.config.settings import ServiceSettings
from driftwise.service.server import build_app
from driftwise.service.tracing import Tracing

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


def _records(rng: np.random.Generator, n: int, start: int) -> list[dict[str, object]]:
    x = rng.normal(size=n)
    return [{"id": f"r{start + i}", "features": {"x": float(v)},
             "probabilities": float(1 / (1 + np.exp(-v)))} for i, v in enumerate(x)]


def test_ingest_span_continues_the_callers_trace_and_evaluation_is_traced(
        tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings = ServiceSettings(data_dir=tmp_path, evaluator="thread", poll_interval_s=0.05)
    rng = np.random.default_rng(0)
    x = rng.normal(size=1000)
    p = 1 / (1 + np.exp(-x))
    reference = pa.table({"x": x, "p": p, "y": (rng.random(1000) < p).astype(int)})
    sink = pa.BufferOutputStream()
    import pyarrow.parquet as pq

    pq.write_table(reference, sink)
    with TestClient(build_app(settings, Tracing(provider))) as client:
        assert client.post("/v1/models", json={
            "name": "m", "task": "binary", "columns": {"probabilities": "p", "target": "y"},
            "config": {"windows": {"rows": 200, "min_rows": 50}}}).status_code == 201
        answer = client.put("/v1/models/m/reference", content=sink.getvalue().to_pybytes(),
                            headers={"content-type": "application/vnd.apache.parquet"})
        assert answer.status_code == 201, answer.text
        one = {**_records(rng, 1, 0)[0], "traceparent": f"00-{TRACE_ID}-{PARENT}-01"}
        assert client.post("/v1/models/m/records", json=one).status_code == 201
        assert client.post("/v1/models/m/records/batch",
                           json={"records": _records(rng, 199, 1)}).status_code == 200
        deadline = time.monotonic() + 30
        while not client.get("/v1/models/m/windows").json():
            assert time.monotonic() < deadline, "no window evaluated"
            time.sleep(0.05)
    spans = exporter.get_finished_spans()
    ingest = [s for s in spans if s.name == "driftwise.ingest"]
    assert len(ingest) == 2
    child = next(s for s in ingest if s.attributes["driftwise.records"] == 1)
    assert format(child.context.trace_id, "032x") == TRACE_ID
    assert child.parent is not None and format(child.parent.span_id, "016x") == PARENT
    batch = next(s for s in ingest if s.attributes["driftwise.records"] == 199)
    assert batch.attributes["driftwise.accepted"] == 199
    evaluated = [s for s in spans if s.name == "driftwise.evaluate"]
    assert [s.attributes["driftwise.window"] for s in evaluated] == [0]
    assert evaluated[0].attributes["driftwise.rows"] == 200
    assert evaluated[0].attributes["driftwise.status"] == "ok"


def test_tracing_is_off_without_an_endpoint() -> None:
    tracing = Tracing.from_endpoint(None)
    with tracing.span("driftwise.ingest", model="m") as span:
        assert span is None
