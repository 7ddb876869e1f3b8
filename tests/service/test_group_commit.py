"""Group commit of ingest: batches handed in together are stored as if one after the other.

``store.records.ingest`` lets one thread commit while the others' batches wait, then the
first waiting one commits them all in one transaction. Each caller must get the outcome of
its own batch (accepted, retries, conflicts, its sequence range) exactly as if the batches
had been stored one at a time in the order they came, and every id is stored once.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from service_helpers import parquet_bytes, reference_table

from driftwise.app import models
from driftwise.app.models import layout_of
from driftwise.app.records import prepare_batch
from driftwise.store import open_store, registry
from driftwise.store import records as store


@pytest.fixture
def engine(store_url: str, tmp_path: Path) -> Any:
    engine = open_store(store_url, tmp_path / "data")
    models.register_model(engine, "m", "binary", {"probabilities": "proba",
                                                  "target": "label"}, None)
    models.upload_reference(engine, "m", parquet_bytes(reference_table()),
                            "application/vnd.apache.parquet")
    yield engine
    engine.dispose()


def _batch(engine: Any, ids: list[str], a: float = 0.5) -> tuple[int, Any]:
    model = registry.get_model(engine, "m")
    items = [{"id": rid, "features": {"a": a, "b": 1.0, "c": "u"}, "probabilities": 0.5}
             for rid in ids]
    return model.id, prepare_batch(layout_of(engine, model), items, received_at=1.0)


def _job(engine: Any, ids: list[str], a: float = 0.5) -> store._Job:
    model_id, p = _batch(engine, ids, a)
    return store._Job(model_id, p.table, p.ids, p.digests, p.timestamps)


def test_a_group_keeps_the_order_of_its_batches(engine: Any) -> None:
    jobs = [_job(engine, ["1", "2"]), _job(engine, ["3"]),
            _job(engine, ["2", "4"]),  # a retry of 2 (same payload) and a new id
            _job(engine, ["1"], a=9.0),  # 1 again with another payload: a conflict
            _job(engine, ["5", "6"])]
    store._commit_group(engine, jobs)
    got = [(j.outcome.accepted, j.outcome.duplicates, j.outcome.conflicts,
            j.outcome.seq_range) for j in jobs if j.outcome is not None]
    assert got == [(2, 0, [], (0, 2)), (1, 0, [], (2, 3)), (1, 1, [], (3, 4)),
                   (0, 0, ["1"], None), (2, 0, [], (4, 6))]
    model_id = jobs[0].model_id
    rows, _ = store.read_rows(engine, model_id, seq=(0, 100))
    assert rows["_id"].to_pylist() == ["1", "2", "3", "4", "5", "6"]
    assert rows["_seq"].to_pylist() == list(range(6))
    assert rows["f.a"].to_pylist() == [0.5] * 6


def test_concurrent_callers_get_their_own_outcomes(engine: Any) -> None:
    # 8 threads x 12 batches; ids overlap between threads, payloads differ by thread
    # parity: a repeated id is a retry when the payloads match and a conflict otherwise.
    results: dict[tuple[int, int], store.IngestOutcome] = {}
    sent: dict[tuple[int, int], tuple[list[str], float]] = {}
    barrier = threading.Barrier(8)

    def run(t: int) -> None:
        barrier.wait()
        for k in range(12):
            ids = [f"r{(t // 2) * 100 + k * 5 + i}" for i in range(5)] + [f"own{t}-{k}"]
            a = 0.5 if t % 2 == 0 else 0.5 + (t % 4 == 1)
            model_id, p = _batch(engine, ids, a)
            sent[t, k] = (ids, a)
            results[t, k] = store.ingest(engine, model_id, p.table, p.ids, p.digests,
                                         p.timestamps)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 96
    for key, out in results.items():
        assert out.accepted + out.duplicates + len(out.conflicts) == len(sent[key][0])
        if out.seq_range is not None:
            assert out.seq_range[1] - out.seq_range[0] == out.accepted
    stored, _ = store.read_rows(engine, registry.get_model(engine, "m").id,
                                seq=(0, 10**6))
    ids_stored = stored["_id"].to_pylist()
    assert len(ids_stored) == len(set(ids_stored))
    assert stored["_seq"].to_pylist() == list(range(len(ids_stored)))
    assert sum(o.accepted for o in results.values()) == len(ids_stored)
    assert set(ids_stored) == {rid for ids, _ in sent.values() for rid in ids}
    values = dict(zip(ids_stored, stored["f.a"].to_pylist(), strict=True))
    ranges = sorted(o.seq_range for o in results.values() if o.seq_range is not None)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    for key, out in results.items():
        ids, a = sent[key]
        for rid in out.duplicate_ids:
            assert values[rid] == a  # a retry matches what is stored
        for rid in out.conflicts:
            assert values[rid] != a  # a conflict does not
        kept = stored.slice(*((out.seq_range[0], out.accepted) if out.seq_range
                              else (0, 0)))["_id"].to_pylist()
        assert kept == [r for r in ids if r not in out.duplicate_ids
                        and r not in out.conflicts]


def test_a_failing_group_fails_each_of_its_callers(engine: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any) -> store.IngestOutcome:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "_ingest", broken)
    model_id, p = _batch(engine, ["x"])
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.ingest(engine, model_id, p.table, p.ids, p.digests, p.timestamps)
    monkeypatch.undo()
    # the queue is free again
    assert store.ingest(engine, model_id, p.table, p.ids, p.digests,
                        p.timestamps).accepted == 1
    assert isinstance(p.table, pa.Table)
