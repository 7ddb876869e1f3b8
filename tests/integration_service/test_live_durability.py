"""SIGKILL of a real ``driftwise serve`` in the middle of concurrent ingest, on SQLite and on
PostgreSQL: every acknowledged record survives exactly once, and no batch is half-written.

Four client threads send batches of 200 records (unique ids) and note which batches got a
2xx answer; the server is killed with SIGKILL (its pid only: its evaluator child must die
with it) while requests are in flight; then the store is checked directly, the server is
restarted on it, and every batch is sent again: an acknowledged one comes back all
duplicates, an unacknowledged one is either all duplicates (it was committed before the
kill, the answer was lost) or all new, never a mixture.
"""

from __future__ import annotations

import io
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest
from live_helpers import LiveServer, records, register

THREADS = 4
BATCH = 200
MAX_BATCHES = 40  # per thread: a bound whatever happens
ACKED_BEFORE_KILL = 24


class Sender(threading.Thread):
    """Sends its batches until one fails (the server is gone) or it has sent them all."""

    def __init__(self, url: str, index: int, start_sending: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.index, self.go = url, index, start_sending
        self.acked: list[int] = []
        self.unacked: list[int] = []
        self.sent = 0

    def batch(self, j: int) -> list[dict[str, Any]]:
        return records(f"t{self.index}b{j}r", BATCH, seed=1000 * self.index + j,
                       start=0, t0=1.7e9 + 10_000 * j)

    def run(self) -> None:
        self.go.wait()
        with httpx.Client(base_url=self.url, timeout=30.0) as http:
            for j in range(MAX_BATCHES):
                self.sent = j + 1
                try:
                    r = http.post("/v1/models/m/records/batch", json={"records": self.batch(j)})
                except httpx.HTTPError:
                    self.unacked.append(j)
                    return
                if 200 <= r.status_code < 300:
                    assert r.json()["accepted"] == BATCH, r.text
                    self.acked.append(j)
                else:
                    self.unacked.append(j)
                    return


def _store_counts(conn: Any, senders: list[Sender]) -> tuple[int, dict[str, int]]:
    """Straight from the database: per sent batch, how many of its ids are stored; also
    checks every stored blob is whole, the blobs' sequence numbers leave no gap and the
    counters agree."""
    cur = conn.cursor()
    cur.execute("SELECT id, next_seq FROM models WHERE name = 'm'")
    model_id, next_seq = cur.fetchone()
    cur.execute(f"SELECT count(*) FROM records WHERE model_id = {model_id}")
    (stored,) = cur.fetchone()
    cur.execute(f"SELECT seq_start, rows, payload FROM batches WHERE model_id = {model_id} "
                "ORDER BY seq_start")
    blobs = cur.fetchall()
    expected = 0
    for seq_start, rows, payload in blobs:
        table = pa.ipc.open_stream(io.BytesIO(bytes(payload))).read_all()
        # One blob holds one request's batch, or several (group commit): whole ones.
        assert table.num_rows == rows and rows % BATCH == 0, rows
        assert table["_seq"].to_pylist() == list(range(seq_start, seq_start + rows))
        assert seq_start == expected, "a gap or an overlap in the batches' sequence numbers"
        expected += rows
    assert stored == next_seq == expected, (stored, next_seq, expected)
    per_batch: dict[str, int] = {}
    cur.execute(f"SELECT record_id FROM records WHERE model_id = {model_id}")
    for (rid,) in cur.fetchall():
        key = rid.rsplit("r", 1)[0]
        per_batch[key] = per_batch.get(key, 0) + 1
    cur.close()
    return stored, per_batch


def _direct(backend: str, data_dir: Path, url: str | None, senders: list[Sender]) -> (
        tuple[int, dict[str, int]]):
    if backend == "sqlite":
        conn = sqlite3.connect(data_dir / "driftwise.db")
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            return _store_counts(conn, senders)
        finally:
            conn.close()
    import psycopg

    assert url is not None
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return _store_counts(conn, senders)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sigkill_mid_ingest_loses_no_acknowledged_record(
        backend: str, servers: Any, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    env = {"DRIFTWISE_EVALUATOR": "process"}
    if url:
        env["DRIFTWISE_DATABASE_URL"] = url
    data_dir = tmp_path / "data"
    first: LiveServer = servers(data_dir, env=env).start()
    assert first.seen_children, "the process evaluator runs in a child of the server"
    with first.client() as client:
        register(client, "m")

    go = threading.Event()
    senders = [Sender(first.url, i, go) for i in range(THREADS)]
    for sender in senders:
        sender.start()
    go.set()
    deadline = time.monotonic() + 60
    while sum(len(s.acked) for s in senders) < ACKED_BEFORE_KILL:
        assert time.monotonic() < deadline, "ingest too slow"
        assert any(s.is_alive() for s in senders), "senders stopped before the kill"
        time.sleep(0.01)
    survivors = first.sigkill()
    for sender in senders:
        sender.join(timeout=60)
        assert not sender.is_alive()
    assert survivors == [], f"the evaluator outlived its SIGKILLed server: {survivors}"

    acked = [(s, j) for s in senders for j in s.acked]
    unacked = [(s, j) for s in senders for j in s.unacked]
    assert len(acked) >= ACKED_BEFORE_KILL
    assert unacked, "every sender was cut off by the kill"

    # Straight from the database, before any server touches it again.
    stored, per_batch = _direct(backend, data_dir, url, senders)
    assert all(count == BATCH for count in per_batch.values()), "a half-written batch"
    for sender, j in acked:
        assert per_batch.get(f"t{sender.index}b{j}") == BATCH, "an acknowledged batch lost"
    assert stored == BATCH * len(per_batch)
    assert len(acked) <= len(per_batch) <= len(acked) + len(unacked)

    second = servers(data_dir, env=env).start()
    with second.client() as client:
        assert client.model("m")["records"] == stored
        for sender, j in acked:
            again = client.log_batch("m", sender.batch(j))
            assert (again["accepted"], again["duplicates"]) == (0, BATCH), again
        committed_unacked = 0
        for sender, j in unacked:
            again = client.log_batch("m", sender.batch(j))
            assert again["refused"] == []
            assert again["accepted"] in (0, BATCH), f"half a batch was stored: {again}"
            assert again["accepted"] + again["duplicates"] == BATCH
            committed_unacked += again["accepted"] == 0
        assert stored == BATCH * (len(acked) + committed_unacked)
        total = BATCH * (len(acked) + len(unacked))
        assert client.model("m")["records"] == total
        # The restarted evaluator resumes: every full window, once, in order.
        windows = client.wait_windows("m", total // 1000, timeout=90)
        assert [w["window"] for w in windows] == list(range(total // 1000))
        assert all(w["rows"] == 1000 for w in windows)
    assert second.sigterm() in (0, -signal.SIGTERM)


def test_evaluator_dies_with_a_server_killed_at_startup(servers: Any, tmp_path: Path) -> None:
    """Killed as soon as it answers /readyz (its evaluator child is then typically still
    importing): the child must not live on as an orphan that holds the leases."""
    server = servers(tmp_path / "data", env={"DRIFTWISE_EVALUATOR": "process"}).start()
    assert server.seen_children
    assert server.sigkill() == []
