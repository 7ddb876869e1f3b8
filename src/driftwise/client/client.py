"""``Client``: every call of the driftwise service API, over httpx."""

from __future__ import annotations

import io
import math
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from driftwise.errors import DriftwiseError

__all__ = ["ApiError", "Client"]

ARROW = "application/vnd.apache.arrow.stream"
PARQUET = "application/vnd.apache.parquet"


class ApiError(DriftwiseError):
    """The service answered with an error: its status, what it said (``detail``: the
    answer's ``detail``, else the whole answer) and the field it named, if any."""

    def __init__(self, status: int, detail: Any, method: str = "", path: str = "",
                 field: str | None = None) -> None:
        self.status, self.detail, self.field = status, detail, field
        super().__init__(f"{method} {path}: {status}: {detail}".strip())


def _httpx() -> Any:
    try:
        import httpx
    except ModuleNotFoundError:
        raise DriftwiseError("the driftwise client needs httpx: pip install "
                             "'driftwise[client]'") from None
    return httpx


#: Record fields of a table body; a feature with one of these names is sent as
#: ``features.<name>`` (the service reads any other column as a feature).
FIELDS = ("id", "timestamp", "prediction", "probabilities", "latency_ms", "error",
          "client_key", "traceparent", "trace_id")


def plain(value: Any) -> Any:
    """NumPy scalars and arrays, datetimes and nested mappings as JSON-ready values; a
    missing value (NaN, pandas' NA and NaT) as ``None`` (JSON has no NaN: the service reads
    null as missing)."""
    if isinstance(value, float):  # also NumPy's float64
        return None if math.isnan(value) else float(value)
    if isinstance(value, str | bool | int) or value is None:
        return value
    if isinstance(value, datetime):
        return None if type(value).__name__ == "NaTType" else value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(value, "tolist"):  # NumPy scalars and arrays
        return plain(value.tolist())
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _jsonable(record: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): plain(v) for k, v in record.items()}


def _segment(name: str) -> str:
    """A model name as one path segment."""
    return quote(str(name), safe="")


class Client:
    """A client of ``driftwise serve``.

    Parameters
    ----------
    url : str
        The service's base URL (default ``$DRIFTWISE_URL`` or http://127.0.0.1:8470).
    api_key : str, optional
        Sent as a bearer token (default ``$DRIFTWISE_CLIENT_KEY``).
    timeout : float
        Seconds per request.
    """

    def __init__(self, url: str | None = None, api_key: str | None = None,
                 timeout: float = 30.0, **httpx_options: Any) -> None:
        httpx = _httpx()
        self.url = (url or os.environ.get("DRIFTWISE_URL") or "http://127.0.0.1:8470"
                    ).rstrip("/")
        key = api_key or os.environ.get("DRIFTWISE_CLIENT_KEY")
        headers = {"authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout,
                                  **httpx_options)

    # -- plumbing -------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call; the decoded JSON answer (``None`` for 204), ApiError for 4xx/5xx."""
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                answer = response.json()
            except ValueError:
                answer = None
            found = isinstance(answer, dict)
            detail = answer.get("detail", answer) if found else response.text
            field = answer.get("field") if found else None
            raise ApiError(response.status_code, detail, method, path,
                           field if isinstance(field, str) else None)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- health ---------------------------------------------------------------------
    def healthy(self) -> bool:
        """Whether the service answers /healthz."""
        try:
            return bool(self._http.get("/healthz").status_code == 200)
        except Exception:
            return False

    def ready(self) -> bool:
        """Whether the service's store is reachable and migrated (/readyz)."""
        try:
            return bool(self._http.get("/readyz").status_code == 200)
        except Exception:
            return False

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until /readyz answers 200 (TimeoutError after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while not self.ready():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.url} not ready after {timeout:g} s")
            time.sleep(0.1)

    # -- models ---------------------------------------------------------------------
    def register_model(self, name: str, *, task: str | None = None,
                       columns: Mapping[str, Any] | None = None,
                       config: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Register a model (see docs/service.md)."""
        body = {"name": name, "task": task, "columns": columns, "config": config}
        return dict(self.request("POST", "/v1/models", json={k: v for k, v in body.items()
                                                             if v is not None}))

    def models(self) -> list[dict[str, Any]]:
        """Every registered model."""
        return list(self.request("GET", "/v1/models"))

    def model(self, name: str) -> dict[str, Any]:
        """One model."""
        return dict(self.request("GET", f"/v1/models/{_segment(name)}"))

    def update_config(self, name: str, config: Mapping[str, Any]) -> dict[str, Any]:
        """A new configuration version."""
        return dict(self.request("PUT", f"/v1/models/{_segment(name)}/config",
                                 json={"config": dict(config)}))

    def delete_model(self, name: str) -> None:
        """Delete a model and everything stored for it."""
        self.request("DELETE", f"/v1/models/{_segment(name)}")

    def upload_reference(self, name: str, data: Any) -> dict[str, Any]:
        """Upload the reference: a CSV/Parquet path, Parquet or CSV bytes, or a table
        (pyarrow, pandas, polars, a mapping of columns)."""
        if isinstance(data, str | os.PathLike):
            path = Path(data)
            body = path.read_bytes()
            media = "text/csv" if path.suffix.lower() in (".csv", ".tsv") or \
                path.name.endswith(".csv.gz") else PARQUET
        elif isinstance(data, bytes):
            body, media = data, PARQUET if data[:4] == b"PAR1" else "text/csv"
        else:
            import pyarrow.parquet as pq

            from driftwise.data import to_table

            sink = io.BytesIO()
            pq.write_table(to_table(data), sink)
            body, media = sink.getvalue(), PARQUET
        return dict(self.request("PUT", f"/v1/models/{_segment(name)}/reference",
                                 content=body, headers={"content-type": media}))

    # -- ingest ---------------------------------------------------------------------
    def log(self, name: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """Send one record (201 stored, 200 a retry of a stored one)."""
        return dict(self.request("POST", f"/v1/models/{_segment(name)}/records",
                                 json=_jsonable(record)))

    def log_batch(self, name: str, records: Sequence[Mapping[str, Any]] | Any,
                  format: str = "json") -> dict[str, Any]:
        """Send many records: a list of record mappings (JSON), or a table sent as Arrow
        IPC (``format="arrow"``) or Parquet (``format="parquet"``)."""
        path = f"/v1/models/{_segment(name)}/records/batch"
        if format == "json":
            return dict(self.request("POST", path, json={
                "records": [_jsonable(r) for r in records]}))
        import pyarrow as pa

        table = records if isinstance(records, pa.Table) else pa.Table.from_pylist(
            [_flat(r) for r in records])
        sink = io.BytesIO()
        if format == "arrow":
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            media = ARROW
        elif format == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, sink)
            media = PARQUET
        else:
            raise ValueError(f"format must be json, arrow or parquet, not {format!r}")
        return dict(self.request("POST", path, content=sink.getvalue(),
                                 headers={"content-type": media}))

    def labels(self, name: str, labels: Mapping[str, Any] | Iterable[Mapping[str, Any]]
               ) -> dict[str, Any]:
        """Late labels: ``{record_id: label}`` or ``[{"id": ..., "label": ...}]``."""
        items = [{"id": str(k), "label": plain(v)} for k, v in labels.items()] if \
            isinstance(labels, Mapping) else [_jsonable(i) for i in labels]
        return dict(self.request("POST", f"/v1/models/{_segment(name)}/labels",
                                 json={"labels": items}))

    # -- screening ------------------------------------------------------------------
    def screen(self, name: str, records: Mapping[str, Any] | Sequence[Mapping[str, Any]]
               ) -> list[dict[str, Any]]:
        """Verdicts before answering: per record ``{id, verdict, p_value, score, missing}``,
        ``verdict`` one of ``allow``, ``review``, ``quarantine`` (held by the service).
        One record (a mapping) or many."""
        items = [records] if isinstance(records, Mapping) else list(records)
        answer = self.request("POST", f"/v1/models/{_segment(name)}/screen",
                              json={"records": [_jsonable(r) for r in items]})
        return list(answer["verdicts"])

    def quarantine(self, name: str, state: str = "held", limit: int = 100
                   ) -> list[dict[str, Any]]:
        """Quarantined records, newest first (``state``: held, released, discarded, all)."""
        return list(self.request("GET", f"/v1/models/{_segment(name)}/quarantine",
                                 params={"state": state, "limit": limit}))

    def release(self, name: str, entry_id: int, by: str) -> dict[str, Any]:
        """Send a quarantined record into the monitored stream."""
        return dict(self.request(
            "POST", f"/v1/models/{_segment(name)}/quarantine/{int(entry_id)}/release",
            json={"by": by}))

    def discard(self, name: str, entry_id: int, by: str) -> dict[str, Any]:
        """Drop a quarantined record for good."""
        return dict(self.request(
            "POST", f"/v1/models/{_segment(name)}/quarantine/{int(entry_id)}/discard",
            json={"by": by}))

    def blocks(self, name: str, *, include_ended: bool = False) -> list[dict[str, Any]]:
        """Client keys and segments /screen quarantines outright, newest first."""
        return list(self.request("GET", f"/v1/models/{_segment(name)}/blocks",
                                 params={"all": include_ended}))

    def block(self, name: str, by: str, *, client_key: str | None = None,
              segment: Mapping[str, Any] | None = None, duration_s: float = 86_400.0,
              reason: str = "", incident_id: int | None = None) -> dict[str, Any]:
        """Block one client key or one segment (feature values) at /screen."""
        body: dict[str, Any] = {"by": by, "duration_s": duration_s, "reason": reason}
        if client_key is not None:
            body["client_key"] = client_key
        if segment is not None:
            body["segment"] = _jsonable(dict(segment))
        if incident_id is not None:
            body["incident_id"] = int(incident_id)
        return dict(self.request("POST", f"/v1/models/{_segment(name)}/blocks", json=body))

    def lift(self, name: str, block_id: int, by: str) -> dict[str, Any]:
        """End a block now."""
        return dict(self.request(
            "POST", f"/v1/models/{_segment(name)}/blocks/{int(block_id)}/lift",
            json={"by": by}))

    # -- alerts and incidents ---------------------------------------------------------
    def alerts(self, name: str | None = None, state: str | None = None
               ) -> list[dict[str, Any]]:
        """Alerts, newest first: of one model, or of every model the key may read."""
        path = "/v1/alerts" if name is None else f"/v1/models/{_segment(name)}/alerts"
        params = {} if state is None else {"state": state}
        return list(self.request("GET", path, params=params))

    def incidents(self, state: str | None = None) -> list[dict[str, Any]]:
        """The fleet's incidents, newest first (``state``: open, resolved, merged)."""
        params = {} if state is None else {"state": state}
        return list(self.request("GET", "/v1/incidents", params=params))

    def incident_report(self, incident_id: int) -> dict[str, Any]:
        """An incident's export: trail, actions and their results, impact, resolution."""
        return dict(self.request("GET", f"/v1/incidents/{int(incident_id)}/report"))

    def note(self, incident_id: int, by: str, text: str) -> dict[str, Any]:
        """Add a note to an incident's trail; the report as it then stands."""
        return dict(self.request("POST", f"/v1/incidents/{int(incident_id)}/notes",
                                 json={"by": by, "text": text}))

    # -- results --------------------------------------------------------------------
    def windows(self, name: str, *, limit: int = 1000, offset: int = 0) -> list[dict[str, Any]]:
        """Evaluated windows, oldest first."""
        return list(self.request("GET", f"/v1/models/{_segment(name)}/windows",
                                 params={"limit": limit, "offset": offset}))

    def window(self, name: str, window: int) -> dict[str, Any]:
        """One window with every metric and its evidence."""
        return dict(self.request("GET", f"/v1/models/{_segment(name)}/windows/{window}"))

    def results(self, name: str, metrics: Sequence[str] | None = None, *,
                prefix: str | None = None, since: float | None = None,
                until: float | None = None, revisions: bool = False) -> list[dict[str, Any]]:
        """Metric values per window."""
        params: dict[str, Any] = {"revisions": revisions}
        for key, value in (("metric", list(metrics or []) or None), ("prefix", prefix),
                           ("since", since), ("until", until)):
            if value is not None:
                params[key] = value
        return list(self.request("GET", f"/v1/models/{_segment(name)}/results",
                                 params=params)["results"])

    def wait_windows(self, name: str, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Block until at least ``count`` windows are evaluated; return them."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.windows(name, limit=min(max(count, 1000), 10_000))
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(found)} of {count} windows after {timeout:g} s")
            time.sleep(0.1)


def _flat(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record as one table row: features as columns (``features.<name>`` for a feature
    named like a record field)."""
    row = {k: plain(v) for k, v in record.items() if k != "features"}
    for name, value in record.get("features", {}).items():
        key = f"features.{name}" if name in FIELDS or name in row or \
            str(name).startswith("features.") else str(name)
        row[key] = plain(value)
    return row
