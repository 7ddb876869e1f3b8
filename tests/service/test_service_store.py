"""The store on SQLite and PostgreSQL: migrations, versions, idempotent ingest, leases,
revisioned results and API keys."""

from __future__ import annotations

import threading
from typing import Any

import pyarrow.compute as pc
import pytest
from service_helpers import records
from sqlalchemy import Engine, func, inspect, select

from driftwise.app.records import RecordLayout, prepare_batch
from driftwise.errors import ConflictError, NotFoundError
from driftwise.store import evaluation as ev
from driftwise.store import keys, open_store, ready, registry
from driftwise.store import records as store_records
from driftwise.store import schema as s
from driftwise.store.db import current_revision, head_revision, make_engine, migrate

LAYOUT = RecordLayout("binary", (("a", "numeric"), ("b", "numeric"), ("c", "categorical")))
CONFIG = {"model": {"name": "m", "task": "binary", "positive_class": "1"},
          "columns": {"probabilities": "proba"}}


@pytest.fixture
def engine(store_url: str) -> Any:
    engine = open_store(store_url)
    yield engine
    engine.dispose()


def _model(engine: Engine) -> registry.ModelRow:
    """A registered model with a reference (its layout LAYOUT)."""
    registry.create_model(engine, "m", "binary", CONFIG)
    registry.put_reference(engine, "m", 1, 10, LAYOUT.to_dict(), b"data", b"monitor", "0")
    return registry.get_model(engine, "m")


def _ingest(engine: Engine, model_id: int, batch: list[dict[str, Any]]) -> (
        store_records.IngestOutcome):
    prepared = prepare_batch(LAYOUT, batch, received_at=1_000.0)
    assert not prepared.refused
    return store_records.ingest(engine, model_id, prepared.table, prepared.ids,
                                prepared.digests, prepared.timestamps)


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_new_database_is_migrated_to_the_head_once(new_store_url: str) -> None:
    engine = make_engine(new_store_url)
    try:
        assert ready(engine) == (False,
                                 f"store at migration None, expected {head_revision()}")
        migrate(engine)
        assert ready(engine) == (True, "ok")
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
        assert set(s.metadata.tables) <= set(inspect(engine).get_table_names())
        migrate(engine)  # at the head already: nothing to do
        open_store(new_store_url).dispose()
        assert ready(engine) == (True, "ok")
    finally:
        engine.dispose()


def test_configurations_and_references_are_versioned(engine: Engine) -> None:
    model = registry.create_model(engine, "m", "binary", CONFIG)
    assert (model.config_version, model.reference_version, model.records) == (1, 0, 0)
    with pytest.raises(ConflictError, match="already registered"):
        registry.create_model(engine, "m", "binary", CONFIG)
    second = {**CONFIG, "windows": {"rows": 50}}
    assert registry.update_config(engine, "m", second).config_version == 2
    assert registry.update_config(engine, "m", CONFIG).config_version == 3
    assert registry.config_of(engine, model.id, 2) == second
    assert registry.get_model(engine, "m").config == CONFIG

    # A Monitor fitted with an older configuration is not stored as the reference's.
    with pytest.raises(ConflictError, match="configuration changed"):
        registry.put_reference(engine, "m", 2, 10, LAYOUT.to_dict(), b"d1", b"f1", "0")
    assert registry.put_reference(engine, "m", 3, 10, LAYOUT.to_dict(), b"d1", b"f1",
                                  "0") == 1
    assert registry.put_reference(engine, "m", 3, 20, LAYOUT.to_dict(), b"d2", b"f2",
                                  "0") == 2
    newest = registry.reference(engine, model.id)
    assert newest is not None and (newest.version, newest.rows, newest.data) == (2, 20, b"d2")
    first = registry.reference(engine, model.id, 1)
    assert first is not None and first.data == b"d1"
    assert registry.fitted_blob(engine, model.id, 3, 1) == (b"f1", "0")
    assert registry.layout(engine, model.id, 2) == LAYOUT.to_dict()
    assert registry.versions(engine, model.id) == (3, 2, "m")


def test_deleting_a_model_deletes_every_row_it_owns(engine: Engine) -> None:
    model = _model(engine)
    _ingest(engine, model.id, records(20))
    store_records.put_labels(engine, model.id, {"r1": "1"})
    other = registry.create_model(engine, "other", "binary", CONFIG)
    registry.delete_model(engine, "m")
    with pytest.raises(NotFoundError):
        registry.get_model(engine, "m")
    for table in s.metadata.sorted_tables:
        if "model_id" in table.c:
            with engine.connect() as conn:
                left = conn.execute(select(func.count()).select_from(table).where(
                    table.c.model_id == model.id)).scalar_one()
            assert left == 0, table.name
    assert [m.name for m in registry.list_models(engine)] == [other.name]
    with pytest.raises(NotFoundError):
        registry.delete_model(engine, "m")


def test_ingest_keeps_each_record_once_and_reports_clashes(engine: Engine) -> None:
    model = _model(engine)
    batch = records(100)
    first = _ingest(engine, model.id, batch)
    assert (first.accepted, first.duplicates, first.seq_range) == (100, 0, (0, 100))
    again = _ingest(engine, model.id, batch)
    assert (again.accepted, again.duplicates, again.conflicts) == (0, 100, [])

    changed = [dict(r) for r in batch[90:]]
    changed[3]["latency_ms"] = 999.0
    mixed = _ingest(engine, model.id, changed + records(50, start=0, prefix="n"))
    assert (mixed.accepted, mixed.duplicates, mixed.conflicts) == (50, 9, ["r93"])
    assert mixed.seq_range == (100, 150)
    assert registry.get_model(engine, "m").records == 150
    assert _count(engine, s.records) == 150

    rows, _ = store_records.read_rows(engine, model.id, seq=(95, 105))
    assert rows["_seq"].to_pylist() == list(range(95, 105))
    assert rows["_id"].to_pylist() == [f"r{i}" for i in range(95, 100)] + \
        [f"n{i}" for i in range(5)]
    stored = rows.filter(pc.equal(rows["_id"], "r98"))
    assert stored["f.a"].to_pylist() == [batch[98]["features"]["a"]]


def test_concurrent_overlapping_batches_store_each_record_once(store_url: str,
                                                              engine: Engine) -> None:
    """Eight servers (an engine each) storing overlapping batches at once."""
    model = _model(engine)
    every = records(350)
    batches = [every[25 * i:25 * i + 175] for i in range(8)]  # overlapping slices
    outcomes: list[store_records.IngestOutcome] = []
    barrier = threading.Barrier(len(batches))

    def send(batch: list[dict[str, Any]]) -> None:
        server = make_engine(store_url)
        try:
            barrier.wait()
            outcomes.append(_ingest(server, model.id, batch))
        finally:
            server.dispose()

    threads = [threading.Thread(target=send, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == 8  # none failed
    assert sum(o.accepted for o in outcomes) == 350
    assert sum(o.duplicates for o in outcomes) == 8 * 175 - 350
    assert not any(o.conflicts for o in outcomes)
    with engine.connect() as conn:
        seqs = sorted(conn.execute(select(s.records.c.seq)).scalars())
    assert seqs == list(range(350))
    assert registry.get_model(engine, "m").records == 350


def test_labels_of_unknown_records_are_reported(engine: Engine) -> None:
    model = _model(engine)
    _ingest(engine, model.id, records(10))
    outcome = store_records.put_labels(engine, model.id, {"r1": "1", "r2": "0", "zz": "1"})
    assert (outcome.stored, outcome.unknown, outcome.windows_touched) == (2, ["zz"], [])
    store_records.put_labels(engine, model.id, {"r1": "0"})  # a later label replaces
    _, labels = store_records.read_rows(engine, model.id, seq=(0, 10))
    assert labels == {"r1": "0", "r2": "0"}


def _window(model_id: int, metrics_rows: int = 10) -> ev.WindowRecord:
    return ev.WindowRecord(model_id, 0, "rows 0-9", "ok", metrics_rows, (0, 10),
                           (1_000.0, 1_000.0), 1, 1, 2_000.0, 0.1, 0, {"status": "ok"})


def test_a_model_is_evaluated_by_one_server_at_a_time(engine: Engine) -> None:
    model = _model(engine)
    _ingest(engine, model.id, records(10))
    [held] = ev.claim(engine, "A", 60)
    assert (held.model_id, held.next_window, held.records) == (model.id, 0, 10)
    assert ev.claim(engine, "B", 60) == []
    assert [c.model_id for c in ev.claim(engine, "A", 60)] == [model.id]  # renewed
    ev.release(engine, "A")
    [taken] = ev.claim(engine, "B", 60)

    metrics = {"ops.rows": 10, "drift.dataset.drift_detected": True, "x.share": 0.25,
               "x.none": None}
    after = {"next_window": 1, "next_seq": 10, "state": {"k": [1, 2]}}
    # A lost its lease: what it evaluated is not stored.
    assert not ev.commit_window(engine, "A", held, _window(model.id), metrics, after)
    assert ev.windows(engine, model.id) == []
    assert ev.commit_window(engine, "B", taken, _window(model.id), metrics, after)
    # The same window again (a replay at the old position) is refused.
    assert not ev.commit_window(engine, "B", taken, _window(model.id), metrics, after)
    [stored] = ev.windows(engine, model.id)
    assert (stored.seq, stored.rows, stored.seq_range, stored.revision) == (0, 10, (0, 10), 0)
    values = {r["metric"]: r["value"] for r in ev.results(engine, model.id)}
    assert values == metrics
    assert type(values["ops.rows"]) is int and values["drift.dataset.drift_detected"] is True
    [cursor] = ev.claim(engine, "B", 60)
    assert (cursor.next_window, cursor.next_seq, cursor.state) == (1, 10, {"k": [1, 2]})

    # An expired lease is free for anyone.
    ev.claim(engine, "B", -1)
    assert [c.model_id for c in ev.claim(engine, "C", 60)] == [model.id]


def test_late_labels_add_a_revision_and_keep_the_first(engine: Engine) -> None:
    model = _model(engine)
    _ingest(engine, model.id, records(10))
    [cursor] = ev.claim(engine, "A", 60)
    assert ev.commit_window(engine, "A", cursor, _window(model.id),
                            {"estimated.accuracy": 0.8, "performance.accuracy": None},
                            {"next_window": 1, "next_seq": 10})
    assert ev.dirty_windows(engine, model.id) == []
    touched = store_records.put_labels(engine, model.id, {"r3": "1"})
    assert touched.windows_touched == [0]
    [dirty] = ev.dirty_windows(engine, model.id)
    assert ev.commit_revision(engine, "A", dirty, {"performance.accuracy": 0.7})
    assert not ev.commit_revision(engine, "A", dirty, {"performance.accuracy": 0.1})
    assert ev.dirty_windows(engine, model.id) == []
    latest = {(r["metric"], r["revision"]): r["value"] for r in ev.results(engine, model.id)}
    assert latest == {("estimated.accuracy", 0): 0.8, ("performance.accuracy", 1): 0.7}
    every = ev.results(engine, model.id, prefix="performance.", all_revisions=True)
    assert [(r["revision"], r["value"]) for r in every] == [(0, None), (1, 0.7)]
    window = ev.window(engine, model.id, 0)
    assert window is not None and window.revision == 1


def test_labels_stored_while_a_window_is_evaluated_mark_it_for_recomputation(
        engine: Engine) -> None:
    model = _model(engine)
    _ingest(engine, model.id, records(10))
    store_records.put_labels(engine, model.id, {"r1": "1"})
    [cursor] = ev.claim(engine, "A", 60)
    _, seen = store_records.read_rows(engine, model.id, seq=(0, 10))  # the evaluation reads
    assert seen == {"r1": "1"}
    # A label arrives before the window is stored: no window holds r3 yet to be marked.
    assert store_records.put_labels(engine, model.id, {"r3": "0"}).windows_touched == []
    assert ev.commit_window(engine, "A", cursor, _window(model.id), {"ops.rows": 10},
                            {"next_window": 1, "next_seq": 10}, labels_seen=seen)
    assert [w.seq for w in ev.dirty_windows(engine, model.id)] == [0]


def test_labels_stored_during_a_recomputation_mark_the_window_again(engine: Engine) -> None:
    model = _model(engine)
    _ingest(engine, model.id, records(10))
    [cursor] = ev.claim(engine, "A", 60)
    assert ev.commit_window(engine, "A", cursor, _window(model.id), {"ops.rows": 10},
                            {"next_window": 1, "next_seq": 10}, labels_seen={})
    store_records.put_labels(engine, model.id, {"r1": "1"})
    [dirty] = ev.dirty_windows(engine, model.id)
    _, seen = store_records.read_rows(engine, model.id, seq=(0, 10))  # recomputation reads
    store_records.put_labels(engine, model.id, {"r2": "0"})  # and a label comes meanwhile
    assert ev.commit_revision(engine, "A", dirty, {"performance.accuracy": 1.0}, seen)
    [again] = ev.dirty_windows(engine, model.id)
    assert again.revision == 1
    _, seen = store_records.read_rows(engine, model.id, seq=(0, 10))
    assert ev.commit_revision(engine, "A", again, {"performance.accuracy": 0.5}, seen)
    assert ev.dirty_windows(engine, model.id) == []


def test_a_window_evaluated_with_all_its_labels_is_not_recomputed(engine: Engine) -> None:
    model = _model(engine)
    _ingest(engine, model.id, records(10))
    store_records.put_labels(engine, model.id, {"r1": "1"})
    [cursor] = ev.claim(engine, "A", 60)
    _, seen = store_records.read_rows(engine, model.id, seq=(0, 10))
    assert ev.commit_window(engine, "A", cursor, _window(model.id), {"ops.rows": 10},
                            {"next_window": 1, "next_seq": 10}, labels_seen=seen)
    assert ev.dirty_windows(engine, model.id) == []


def test_api_keys_are_found_by_their_secret_until_revoked(engine: Engine) -> None:
    assert not keys.has_keys(engine)
    text, key = keys.create_key(engine, "ingester", ("ingest",), ("m",))
    assert keys.find_key(engine, text) == key
    assert key.allows("ingest", "m") and not key.allows("ingest", "other")
    assert not key.allows("read", "m")
    assert keys.find_key(engine, text[:-2] + ("xx" if not text.endswith("xx") else "yy")) \
        is None
    assert keys.find_key(engine, "dw_nothing_here") is None
    assert keys.find_key(engine, "not a key") is None
    assert keys.has_keys(engine)
    with engine.connect() as conn:
        stored = conn.execute(select(s.api_keys.c.hash)).scalar_one()
    assert text.split("_", 2)[2] not in stored  # only a digest is kept
    keys.revoke_key(engine, key.id)
    assert keys.find_key(engine, text) is None
    assert not keys.has_keys(engine)
    assert [k.revoked_at is not None for k in keys.list_keys(engine)] == [True]
    with pytest.raises(NotFoundError):
        keys.revoke_key(engine, key.id)


def test_a_store_url_is_logged_without_its_password() -> None:
    from driftwise.service.server import _shown

    shown = _shown("postgresql+psycopg://bob:s3cret@db.internal:5432/driftwise")
    assert "s3cret" not in shown and shown.startswith("postgresql+psycopg://bob:***@")
