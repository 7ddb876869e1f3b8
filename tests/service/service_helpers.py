"""Data and polling helpers of the store and API tests."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

#: ``make_service(**settings)``, the fixture of conftest.py.
ServiceFactory = Callable[..., TestClient]

FEATURES = ("a", "b", "c")


def reference_table(n: int = 2000, seed: int = 0) -> pa.Table:
    """A binary classifier's reference: numeric ``a`` and ``b``, categorical ``c``, the
    positive class's probability ``proba`` (driven by ``a``) and the label."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    c = np.where(rng.random(n) < 0.6, "u", "v")
    proba = 1 / (1 + np.exp(-2 * a))
    label = (rng.random(n) < proba).astype(np.int64)
    return pa.table({"a": a, "b": b, "c": c, "proba": proba, "label": label})


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def csv_bytes(table: pa.Table) -> bytes:
    return table.to_pandas().to_csv(index=False).encode()


def records(n: int, *, start: int = 0, seed: int = 1, shift: float = 0.0,
            prefix: str = "r", timestamps: list[float] | None = None,
            **extra: Any) -> list[dict[str, Any]]:
    """``n`` JSON records drawn like the reference (``shift`` moves feature ``a``), ids
    ``<prefix><start>``…, the same for the same arguments; the labels drawn with them are
    kept for :func:`labels_of`."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n) + shift, rng.normal(size=n)
    c = np.where(rng.random(n) < 0.6, "u", "v")
    proba = 1 / (1 + np.exp(-2 * (a - shift)))
    label = (rng.random(n) < proba).astype(int)
    out = []
    for i in range(n):
        record: dict[str, Any] = {
            "id": f"{prefix}{start + i}",
            "features": {"a": float(a[i]), "b": float(b[i]), "c": str(c[i])},
            "probabilities": float(proba[i]), "latency_ms": 3.0 + i % 7, **extra}
        if timestamps is not None:
            record["timestamp"] = timestamps[i]
        out.append(record)
        LABELS[_key(record)] = int(label[i])
    return out


# The label drawn with each record, by its id and feature values (ids repeat across
# draws).
LABELS: dict[tuple[str, str], int] = {}


def _key(record: Mapping[str, Any]) -> tuple[str, str]:
    return record["id"], repr(sorted(record["features"].items()))


def labels_of(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The true labels of ``batch`` (as drawn by :func:`records`)."""
    return [{"id": r["id"], "label": LABELS[_key(r)]} for r in batch]


def register(client: TestClient, name: str = "m", *, windows: Mapping[str, Any] | None = None,
             columns: Mapping[str, Any] | None = None, reference: pa.Table | None = None,
             **config: Any) -> dict[str, Any]:
    """Register a binary model on ``proba``/``label`` and upload its reference."""
    body = {"name": name, "task": "binary",
            "columns": {"probabilities": "proba", "target": "label", **(columns or {})},
            "config": {"model": {"positive_class": "1"},
                       "windows": dict(windows or {"rows": 200, "min_rows": 50}), **config}}
    answer = client.post("/v1/models", json=body)
    assert answer.status_code == 201, answer.text
    table = reference if reference is not None else reference_table()
    uploaded = client.put(f"/v1/models/{name}/reference", content=parquet_bytes(table),
                          headers={"content-type": "application/vnd.apache.parquet"})
    assert uploaded.status_code == 201, uploaded.text
    model: dict[str, Any] = client.get(f"/v1/models/{name}").json()
    return model


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)


def wait_windows(client: TestClient, name: str, count: int,
                 timeout: float = 60.0) -> list[dict[str, Any]]:
    """The model's windows once at least ``count`` are evaluated."""
    def enough() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = client.get(f"/v1/models/{name}/windows").json()
        return found if len(found) >= count else None
    found: list[dict[str, Any]] = wait_for(enough, timeout, f"{count} windows of {name}")
    return found


def settled(client: TestClient, incident: int, count: int) -> dict[str, Any]:
    """The incident's report (through the API) once ``count`` of its actions finished."""
    def done() -> dict[str, Any] | None:
        report: dict[str, Any] = client.get(f"/v1/incidents/{incident}/report").json()
        finished = [a for a in report["actions"] if a["status"] != "pending"]
        return report if len(finished) >= count else None
    found: dict[str, Any] = wait_for(done, 30.0, f"{count} actions of incident {incident}")
    return found
