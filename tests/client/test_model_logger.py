"""ModelLogger against real servers: never blocks or raises on the request path, bounds its
memory, retries until the service is back, and delivers every record exactly once."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftwise.client import Client, ModelLogger
from tests.conftest import LiveServer, free_port

COLUMNS = {"probabilities": "proba", "prediction": "pred", "target": "label"}
WINDOWS = {"windows": {"rows": 100, "min_rows": 50}}

Records = Callable[..., list[dict[str, Any]]]


def _log(logger: ModelLogger, record: dict[str, Any], **extra: Any) -> bool:
    return logger.log(record["id"], record["features"], prediction=record["prediction"],
                      probabilities=record["probabilities"],
                      latency_ms=record["latency_ms"], **extra)


@pytest.fixture
def hung_url() -> Iterator[str]:
    """A URL whose server accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_log_returns_at_once_while_the_service_hangs(hung_url: str,
                                                     make_records: Records) -> None:
    timeout = 5.0  # each request to the hung service takes this long to fail
    logger = ModelLogger("m", hung_url, timeout=timeout, batch_size=100,
                         flush_interval=0.01)
    records = make_records(100)
    started = time.perf_counter()
    queued = [_log(logger, records[i % 100]) for i in range(10_000)]
    elapsed = time.perf_counter() - started
    assert all(queued) and logger.stats.queued == 10_000
    # Ten thousand calls take a fraction of what one request to the service takes.
    assert elapsed < timeout / 2, elapsed
    started = time.perf_counter()
    assert logger.close(timeout=0.5) is False  # bounded even though a send is stuck
    assert time.perf_counter() - started < timeout
    assert not logger.log("late", {"a": 1.0})  # after close: refused, counted
    assert logger.stats.dropped >= 1


def test_log_never_raises(make_records: Records) -> None:
    logger = ModelLogger("m", f"http://127.0.0.1:{free_port()}", max_retries=0,
                         flush_interval=30.0)
    record = make_records(1)[0]
    assert logger.log("x", None) is False  # type: ignore[arg-type]
    assert logger.log("x", 42) is False  # type: ignore[arg-type]
    assert logger.log(object(), {"a": object()}) is True  # type: ignore[arg-type]
    assert logger.label("x", object()) is True
    assert _log(logger, record, traceparent="garbage", client_key="k") is True
    assert logger.stats.dropped == 2 and logger.stats.queued == 3
    assert logger.close(timeout=5) is False  # nothing listens: all dropped or rejected
    assert logger.stats.dropped + logger.stats.rejected == 5


def test_the_queue_bound_drops_and_counts(make_records: Records) -> None:
    # Nothing listens and the first retry waits long: nothing leaves the logger.
    logger = ModelLogger("m", f"http://127.0.0.1:{free_port()}", max_queue=100,
                         backoff=60.0, max_backoff=60.0, flush_interval=0.01)
    records = make_records(100)
    kept = [_log(logger, records[i % 100]) for i in range(1000)]
    assert sum(kept) == 100 and kept[:100] == [True] * 100
    assert logger.stats.queued == 100 and logger.stats.dropped == 900
    assert logger.pending == 100
    started = time.perf_counter()
    assert logger.close(timeout=0.2) is False  # gives up on the waiting batch
    assert time.perf_counter() - started < 10
    assert logger.stats.dropped == 1000 and logger.stats.sent == 0 and logger.pending == 0


def _prepare_store(data_dir: Path, name: str, reference: pa.Table) -> None:
    """Register ``name`` with its reference in the store at ``data_dir``, through the
    service's app in this process (no server: the one under test starts later)."""
    from fastapi.testclient import TestClient

    from driftwise.config.settings import ServiceSettings
    from driftwise.service.server import build_app

    sink = io.BytesIO()
    pq.write_table(reference, sink)
    app = build_app(ServiceSettings(data_dir=data_dir, evaluator="off"))
    with TestClient(app) as http:
        made = http.post("/v1/models", json={"name": name, "task": "binary",
                                             "columns": COLUMNS, "config": WINDOWS})
        assert made.status_code == 201, made.text
        put = http.put(f"/v1/models/{name}/reference", content=sink.getvalue(),
                       headers={"content-type": "application/vnd.apache.parquet"})
        assert put.status_code == 201, put.text


def test_retries_deliver_everything_once_the_service_is_up(
        start_server: Callable[..., LiveServer], reference: pa.Table, tmp_path: Path,
        make_records: Records) -> None:
    data_dir = tmp_path / "data"
    _prepare_store(data_dir, "late", reference)
    port = free_port()
    logger = ModelLogger("late", f"http://127.0.0.1:{port}", batch_size=50,
                         flush_interval=0.05, backoff=0.05, max_backoff=0.5,
                         max_retries=1000)
    records = make_records(300, prefix="late-")
    assert all(_log(logger, r) for r in records)
    deadline = time.monotonic() + 10
    while logger.stats.retries < 3:  # nothing listens yet: it is failing and retrying
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert logger.stats.sent == 0
    server = start_server(data_dir=data_dir, port=port)  # the service comes up now
    assert logger.flush(timeout=60) is True
    assert (logger.stats.sent, logger.stats.dropped, logger.stats.rejected) == (300, 0, 0)
    with Client(server.url) as client:
        assert client.model("late")["records"] == 300
        client.wait_windows("late", 3, timeout=60)
    assert logger.close() is True
    assert logger.stats.duplicates == 0


class LoseAnswers(httpx.BaseTransport):
    """Delivers every request, but loses the answer of every other batch (the service
    stored it; the client sees a network error and sends it again)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.batches = self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path.endswith("/records/batch"):
            self.batches += 1
            if self.batches % 2 == 1:
                response.read()
                response.close()
                self.lost += 1
                raise httpx.ReadError("the answer was lost", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def test_flush_and_close_deliver_exactly_once_despite_lost_answers(
        live_server_session: str, binary_model: str, make_records: Records,
        make_labels: Callable[..., dict[str, int]]) -> None:
    transport = LoseAnswers()
    client = Client(live_server_session, transport=transport)
    logger = ModelLogger(binary_model, client, batch_size=40, flush_interval=0.05,
                         backoff=0.01, max_backoff=0.05)
    records = make_records(500, prefix="once-")

    def send(part: list[dict[str, Any]]) -> None:
        for r in part:
            _log(logger, r, traceparent=f"00-{'ab' * 16}-{'cd' * 8}-01")

    threads = [threading.Thread(target=send, args=(records[i:400:4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert logger.flush(timeout=60) is True
    stats = logger.stats
    assert stats.queued == 400 and stats.sent == 400 and stats.dropped == 0
    assert transport.lost >= 5 and stats.retries >= transport.lost
    # Every batch's first answer was lost: its records were stored then, and recognised
    # when it was sent again.
    assert stats.duplicates == 400
    with Client(live_server_session) as check:
        assert check.model(binary_model)["records"] == 400

        # Labels go through the logger too, after the records they label.
        labels = make_labels(500, prefix="once-")
        for rid, label in list(labels.items())[:400]:  # windows 0-3 get realized metrics
            assert logger.label(rid, label)
        assert logger.label("once-unknown", 1)
        send(records[400:])
        assert logger.close() is False  # the unknown id is reported as rejected
        assert (stats.sent, stats.labels_sent, stats.rejected, stats.dropped) == (
            500, 400, 1, 0)
        assert check.model(binary_model)["records"] == 500
        check.wait_windows(binary_model, 5, timeout=60)
        deadline = time.monotonic() + 30
        while len(check.results(binary_model, ["performance.accuracy"])) < 4:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert client.model(binary_model)["records"] == 500  # the logger left it open
    client.close()


def test_flush_does_not_wait_for_the_batching_interval(live_server_session: str,
                                                      binary_model: str,
                                                      make_records: Records) -> None:
    interval = 30.0
    with ModelLogger(binary_model, live_server_session, flush_interval=interval) as logger:
        for r in make_records(10, prefix="quick-"):
            _log(logger, r)
        started = time.perf_counter()
        assert logger.flush(timeout=interval) is True
        assert time.perf_counter() - started < interval / 2
        assert logger.stats.sent == 10
    assert logger.close() is True  # already closed: its verdict again


def test_unsendable_values_are_refused_alone(live_server_session: str, binary_model: str,
                                             make_records: Records) -> None:
    logger = ModelLogger(binary_model, live_server_session, flush_interval=0.05)
    good = make_records(20, prefix="values-")
    for r in good[:10]:
        _log(logger, r)
    _log(logger, {**good[10], "id": "values-object", "features": {**good[10]["features"],
                                                                  "a": object()}})
    _log(logger, {**good[10], "id": "values-inf", "features": {**good[10]["features"],
                                                               "a": float("inf")}})
    _log(logger, {**good[10], "id": "values-nan", "features": {**good[10]["features"],
                                                               "a": float("nan")}})
    for r in good[10:]:
        _log(logger, r, traceparent="not-a-traceparent")  # left out, record kept
    assert logger.flush(timeout=30) is False  # two were refused
    assert (logger.stats.sent, logger.stats.rejected, logger.stats.dropped) == (21, 2, 0)
    logger.close()
    with Client(live_server_session) as check:
        assert check.model(binary_model)["records"] == 21
