"""Accepted records (one Arrow blob per batch beside an id index) and their late labels."""

from __future__ import annotations

import bisect
import io
import json
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, and_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from driftwise.store import schema as s
from driftwise.store.db import reading, writing

__all__ = ["IngestOutcome", "LabelOutcome", "StaleModel", "ingest", "put_labels", "read_rows"]

# A duplicate key: through SQLAlchemy, or from psycopg itself on the statements sent
# straight to the driver (COPY, arrays).
try:
    from psycopg import IntegrityError as _PgIntegrityError

    _INTEGRITY: tuple[type[Exception], ...] = (IntegrityError, _PgIntegrityError)
except ModuleNotFoundError:  # PostgreSQL support not installed
    _INTEGRITY = (IntegrityError,)

_CHUNK = 500  # ids per IN (...) query: well under every driver's parameter limit
_ROWS = 1000  # index rows per multi-row INSERT (5 parameters each: SQLite allows 32766)
_IPC = pa.ipc.IpcWriteOptions(compression="zstd")
_IPC_PLAIN = pa.ipc.IpcWriteOptions()
_COMPRESS_ROWS = 256  # smaller blobs are stored uncompressed: zstd's set-up per column
# buffer costs ~0.6 ms, more than the whole blob otherwise takes, and saves little there
_GROUP_ROWS = 20_000  # records one group commit takes at most (beyond its first request)


@dataclass
class IngestOutcome:
    """What the store did with a batch: new records kept, retries recognised, clashes."""

    accepted: int = 0
    duplicates: int = 0
    conflicts: list[str] = field(default_factory=list)
    seq_range: tuple[int, int] | None = None
    duplicate_ids: list[str] = field(default_factory=list)


class StaleModel(Exception):
    """The model a batch was validated for is no longer the stored one (deleted, registered
    again, or given a new reference since): nothing of the batch was stored; validate it
    against the model as it is now and send it again."""


@dataclass
class LabelOutcome:
    """Labels stored, and ids the store holds no record for."""

    stored: int = 0
    unknown: list[str] = field(default_factory=list)
    windows_touched: list[int] = field(default_factory=list)


def _existing(conn: Any, model_id: int, ids: Sequence[str]) -> dict[str, str]:
    if conn.dialect.name == "postgresql":
        r = s.records.c
        return dict(_pg(conn, f"SELECT {r.record_id.name}, {r.digest.name} FROM "
                              f"{s.records.name} WHERE {r.model_id.name} = %s AND "
                              f"{r.record_id.name} = ANY(%b)", (model_id, list(ids))))
    r = s.records.c
    found: dict[str, str] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        found.update(_run(conn, f"SELECT {r.record_id.name}, {r.digest.name} FROM "
                                f"{s.records.name} WHERE {r.model_id.name} = ? AND "
                                f"{r.record_id.name} IN ({', '.join('?' * len(chunk))})",
                          (model_id, *chunk)))
    return found


def _blob(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    options = _IPC if table.num_rows >= _COMPRESS_ROWS else _IPC_PLAIN
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return sink.getvalue()


@dataclass
class _Job:
    """One caller's batch waiting for a group commit."""

    model_id: int
    table: pa.Table
    ids: Sequence[str]
    digests: Sequence[str]
    timestamps: Sequence[float]
    expect: tuple[float, int] | None = None
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    outcome: IngestOutcome | None = None
    error: BaseException | None = None


class _Queue:
    """The batches of one engine waiting for their commit, and whether one is running."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: list[_Job] = []
        self.busy = False


_QUEUES: weakref.WeakKeyDictionary[Engine, _Queue] = weakref.WeakKeyDictionary()
_QUEUES_LOCK = threading.Lock()


def _queue_of(engine: Engine) -> _Queue:
    with _QUEUES_LOCK:
        queue = _QUEUES.get(engine)
        if queue is None:
            queue = _QUEUES[engine] = _Queue()
        return queue


def ingest(engine: Engine, model_id: int, table: pa.Table, ids: Sequence[str],
           digests: Sequence[str], timestamps: Sequence[float], *,
           expect: tuple[float, int] | None = None) -> IngestOutcome:
    """Keep the records of ``table`` whose ids are new; returns once they are committed.

    An id already stored with the same digest is a retry (counted, not stored again); with a
    different digest it is a conflict (reported, not stored). The transaction commits the
    blob, the index rows and the model's sequence counter together, so a crash leaves either
    all of a batch or none of it.

    Group commit: while one thread of this process commits, the batches other threads hand
    in meanwhile wait, and the first of them then commits all of them in one transaction
    (one fsync, one blob) and answers each. Each caller gets the outcome of its own batch,
    as if the batches had been stored one after the other in the order they came: batches
    that share an id are never in one transaction.

    ``expect``, the model's ``(created_at, reference_version)`` the batch was validated
    against, is checked inside the transaction: when the stored model differs (or is gone)
    nothing is stored and :class:`StaleModel` is raised. A caller may then validate with a
    cached model and pay for no lookup of its own.
    """
    job = _Job(model_id, table, ids, digests, timestamps, expect)
    queue = _queue_of(engine)
    with queue.lock:
        queue.jobs.append(job)
        job.lead = not queue.busy
        queue.busy = True
    if not job.lead:
        job.done.wait()
    if job.lead and job.outcome is None and job.error is None:
        _lead(engine, queue)
    if job.error is not None:
        raise job.error
    assert job.outcome is not None
    return job.outcome


def _lead(engine: Engine, queue: _Queue) -> None:
    """Commit the waiting batches (this caller's first), then hand the lead on."""
    with queue.lock:
        jobs: list[_Job] = []
        rows = 0
        while queue.jobs and (not jobs or rows + queue.jobs[0].table.num_rows
                              <= _GROUP_ROWS):
            jobs.append(queue.jobs.pop(0))
            rows += jobs[-1].table.num_rows
    try:
        _commit_group(engine, jobs)
    except BaseException as exc:
        for job in jobs:
            if job.outcome is None:
                job.error = exc
    finally:
        with queue.lock:
            if queue.jobs:
                queue.jobs[0].lead = True
                queue.jobs[0].done.set()
            else:
                queue.busy = False
        for job in jobs:
            job.done.set()


def _commit_group(engine: Engine, jobs: list[_Job]) -> None:
    """Store ``jobs`` in as few transactions as keep their order's meaning: one per model
    and record layout, a new one where a batch repeats an id of the batches before it."""
    while jobs:
        first = jobs[0]
        part, seen = [first], set(first.ids)
        rest: list[_Job] = []
        for job in jobs[1:]:
            same = (job.model_id == first.model_id and job.expect == first.expect
                    and job.table.schema == first.table.schema)
            if same and not rest and seen.isdisjoint(job.ids):
                part.append(job)
                seen.update(job.ids)
            else:
                rest.append(job)
        try:
            _commit_part(engine, part)
        except Exception as exc:  # this part's callers get the error; the others go on
            for job in part:
                job.error = exc
        jobs = rest


def _commit_part(engine: Engine, part: list[_Job]) -> None:
    if len(part) == 1:
        job = part[0]
        job.outcome = _ingest_retrying(engine, job.model_id, job.table, job.ids, job.digests,
                                       job.timestamps, job.expect)
        return
    table = pa.concat_tables([job.table for job in part])
    ids = [rid for job in part for rid in job.ids]
    digests = [d for job in part for d in job.digests]
    stamps = [t for job in part for t in job.timestamps]
    outcome = _ingest_retrying(engine, part[0].model_id, table, ids, digests, stamps,
                               part[0].expect)
    duplicates, conflicts = set(outcome.duplicate_ids), set(outcome.conflicts)
    seq = outcome.seq_range[0] if outcome.seq_range else 0
    for job in part:
        mine = IngestOutcome(duplicate_ids=[r for r in job.ids if r in duplicates],
                             conflicts=[r for r in job.ids if r in conflicts])
        mine.duplicates = len(mine.duplicate_ids)
        mine.accepted = len(job.ids) - mine.duplicates - len(mine.conflicts)
        if mine.accepted:
            mine.seq_range = (seq, seq + mine.accepted)
            seq += mine.accepted
        job.outcome = mine


def _ingest_retrying(engine: Engine, model_id: int, table: pa.Table, ids: Sequence[str],
                     digests: Sequence[str], timestamps: Sequence[float],
                     expect: tuple[float, int] | None) -> IngestOutcome:
    for attempt in range(3):
        try:
            return _ingest(engine, model_id, table, ids, digests, timestamps, expect)
        except _INTEGRITY:
            # Another server stored one of these ids between our check and our insert:
            # run again, and that id is now a retry or a conflict like any other.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _ingest(engine: Engine, model_id: int, table: pa.Table, ids: Sequence[str],
            digests: Sequence[str], timestamps: Sequence[float],
            expect: tuple[float, int] | None) -> IngestOutcome:
    outcome = IngestOutcome()
    with writing(engine) as conn:
        if conn.dialect.name == "postgresql":
            # Writers of one model queue here (as BEGIN IMMEDIATE queues them on SQLite), so
            # no other transaction stores one of these ids between the check and the insert.
            found = _run(conn, _LOCK_MODEL, (model_id,))
        else:
            found = _run(conn, _MODEL_NOW, (model_id,))
        if not found or (expect is not None and tuple(found[0]) != expect):
            raise StaleModel(model_id)
        existing = _existing(conn, model_id, ids)
        keep = []
        for i, (rid, digest) in enumerate(zip(ids, digests, strict=True)):
            old = existing.get(rid)
            if old is None:
                keep.append(i)
            elif old == digest:
                outcome.duplicates += 1
                outcome.duplicate_ids.append(rid)
            else:
                outcome.conflicts.append(rid)
        if not keep:
            return outcome
        n = len(keep)
        ts = [timestamps[i] for i in keep]
        low, high = min(ts), max(ts)
        end = _run(conn, _BUMP, (n, high, high, model_id))[0][0]
        start = end - n
        rows = table if n == table.num_rows else table.take(pa.array(keep, pa.int64()))
        rows = rows.add_column(0, "_seq", pa.array(range(start, end), pa.int64()))
        _run(conn, _BATCH, (model_id, start, n, low, high, time.time(), _blob(rows)))
        _insert_index(conn, [(model_id, ids[i], start + j, ts[j], digests[i])
                             for j, i in enumerate(keep)])
        outcome.accepted = n
        outcome.seq_range = (start, end)
    return outcome


def _insert_index(conn: Any, rows: Sequence[tuple[int, str, int, float, str]]) -> None:
    """The index rows, ``_ROWS`` to a statement. Not an executemany: SQLite's steps once
    per row and gives up the GIL at each step, so beside other busy request threads every
    row waited for the GIL again while the write lock was held."""
    r = s.records.c
    columns = ", ".join(c.name for c in (r.model_id, r.record_id, r.seq, r.ts, r.digest))
    if conn.dialect.name == "postgresql":
        # COPY: psycopg formats the rows in C; arrays of 1,000 texts took longer to send
        # (each text checked for quoting in Python) than PostgreSQL took to insert them.
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {s.records.name} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    one = "(" + ", ".join([mark] * 5) + ")"
    for at in range(0, len(rows), _ROWS):
        chunk = rows[at:at + _ROWS]
        sql = f"INSERT INTO {s.records.name} ({columns}) VALUES " + \
            ", ".join([one] * len(chunk))
        conn.exec_driver_sql(sql, tuple(v for row in chunk for v in row))


# The ingest transaction's statements, sent straight to the driver: building and compiling
# them through SQLAlchemy took longer than SQLite took to run them (a one-record ingest).
_m, _b = s.models.c, s.batches.c
_MODEL_NOW = (f"SELECT {_m.created_at.name}, {_m.reference_version.name} FROM {s.models.name} "
              f"WHERE {_m.id.name} = ?")
_LOCK_MODEL = _MODEL_NOW + " FOR UPDATE"
_BUMP = (f"UPDATE {s.models.name} SET {_m.next_seq.name} = {_m.next_seq.name} + ?, "
         f"{_m.max_ts.name} = CASE WHEN {_m.max_ts.name} IS NULL OR {_m.max_ts.name} < ? "
         f"THEN ? ELSE {_m.max_ts.name} END WHERE {_m.id.name} = ? "
         f"RETURNING {_m.next_seq.name}")
_BATCH_COLUMNS = (_b.model_id, _b.seq_start, _b.rows, _b.min_ts, _b.max_ts, _b.received_at,
                  _b.payload)
_BATCH = (f"INSERT INTO {s.batches.name} ({', '.join(c.name for c in _BATCH_COLUMNS)}) "
          f"VALUES ({', '.join('?' * len(_BATCH_COLUMNS))})")


def _run(conn: Any, sql: str, params: Sequence[Any]) -> list[Any]:
    """One statement with ``?`` parameters; its rows (none for a statement without)."""
    if conn.dialect.name == "postgresql":
        return _pg(conn, sql.replace("?", "%s"), params)
    result = conn.exec_driver_sql(sql, tuple(params))
    return list(result.fetchall()) if result.returns_rows else []


def _pg(conn: Any, sql: str, params: Sequence[Any]) -> list[Any]:
    """One statement on PostgreSQL, never prepared: psycopg prepares a statement after five
    runs, and a generic plan made while the records table was small scans all of it later
    (the id check of a 1,000-record batch went from 10 ms to over a second in 40 batches).
    Arrays for the ids: one parameter each, not one per id."""
    with conn.connection.driver_connection.cursor() as cursor:
        cursor.execute(sql, params, prepare=False)
        return cursor.fetchall() if cursor.description else []


def _upsert(conn: Any) -> Any:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def put_labels(engine: Engine, model_id: int, labels: dict[str, str | float]) -> LabelOutcome:
    """Store labels of known records (a later label replaces an earlier one); mark the
    evaluated windows they fall in for a recomputation of realized performance."""
    outcome = LabelOutcome()
    ids = list(labels)
    now = time.time()
    with writing(engine) as conn:
        windows: set[int] = set()
        known: set[str] = set()
        unmarked: list[int] = []  # the seq of records with no window marked
        r = s.records.c
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            for rid, window, seq in conn.execute(select(r.record_id, r.window, r.seq).where(
                    r.model_id == model_id, r.record_id.in_(chunk))):
                known.add(rid)
                if window is not None:
                    windows.add(window)
                else:
                    unmarked.append(seq)
        windows.update(_row_windows(conn, model_id, unmarked))
        outcome.unknown = [rid for rid in ids if rid not in known]
        rows = [{"model_id": model_id, "record_id": rid, "value": json.dumps(labels[rid]),
                 "received_at": now} for rid in ids if rid in known]
        if rows:
            stmt = _upsert(conn)(s.labels)
            stmt = stmt.on_conflict_do_update(
                index_elements=["model_id", "record_id"],
                set_={"value": stmt.excluded.value, "received_at": stmt.excluded.received_at})
            conn.execute(stmt, rows)
        if windows:
            conn.execute(update(s.windows).where(s.windows.c.model_id == model_id,
                                                 s.windows.c.seq.in_(sorted(windows)))
                         .values(labels_dirty=True))
        outcome.stored = len(rows)
        outcome.windows_touched = sorted(windows)
    return outcome


def read_rows(engine: Engine, model_id: int, *, seq: tuple[int, int] | None = None,
              ts: tuple[float, float] | None = None) -> tuple[pa.Table, dict[str, Any]]:
    """Stored rows with ``seq`` in [lo, hi) or ``ts`` in [start, end), in arrival order, and
    the labels of those rows by record id."""
    b = s.batches.c
    with reading(engine) as conn:
        if seq is not None:
            lo, hi = seq
            cond = and_(b.seq_start < hi, b.seq_start + b.rows > lo)
        else:
            assert ts is not None
            lo_t, hi_t = ts
            cond = and_(b.min_ts < hi_t, b.max_ts >= lo_t)
        blobs = conn.execute(select(b.payload).where(b.model_id == model_id, cond)
                             .order_by(b.seq_start)).scalars().all()
        labels = labels_of(conn, model_id, seq=seq, ts=ts)
    tables = [pa.ipc.open_stream(bytes(blob)).read_all() for blob in blobs]
    if not tables:
        return pa.table({}), {}
    table = pa.concat_tables(tables, promote_options="permissive")
    if seq is not None:
        mask = pc.and_(pc.greater_equal(table["_seq"], seq[0]), pc.less(table["_seq"], seq[1]))
    else:
        assert ts is not None
        mask = pc.and_(pc.greater_equal(table["_ts"], ts[0]), pc.less(table["_ts"], ts[1]))
    return table.filter(mask), labels


def labels_of(conn: Any, model_id: int, *, seq: tuple[int, int] | None = None,
              ts: tuple[float, float] | None = None) -> dict[str, Any]:
    """The labels of the rows with ``seq`` in [lo, hi) or ``ts`` in [start, end)."""
    r = s.records.c
    if seq is not None:
        cond: Any = r.seq.between(seq[0], seq[1] - 1)
    else:
        assert ts is not None
        cond = and_(r.ts >= ts[0], r.ts < ts[1])
    found = conn.execute(select(s.labels.c.record_id, s.labels.c.value).join(
        s.records, and_(r.model_id == s.labels.c.model_id,
                        r.record_id == s.labels.c.record_id)).where(
        s.labels.c.model_id == model_id, cond)).all()
    return {rid: json.loads(v) for rid, v in found}


def mark_window(conn: Any, model_id: int, window: int, *, seq: tuple[int, int] | None = None,
                ts: tuple[float, float] | None = None) -> None:
    """Record which period window the rows fell in (so late labels find their window).

    A row window (``seq``) needs no mark: its rows are those of its sequence range, which
    the window row keeps (:func:`_row_windows` finds it from a record's ``seq``). Marking
    its 10,000 index rows held the write lock for most of a window's commit."""
    if seq is not None or ts is None:
        return
    r = s.records.c
    conn.execute(update(s.records).where(r.model_id == model_id, r.ts >= ts[0], r.ts < ts[1],
                                         r.window.is_(None)).values(window=window))


def _row_windows(conn: Any, model_id: int, seqs: Sequence[int]) -> set[int]:
    """The evaluated row windows whose sequence ranges hold some of ``seqs``."""
    if not seqs:
        return set()
    w = s.windows.c
    spans = sorted(conn.execute(select(w.seq_lo, w.seq_hi, w.seq).where(
        w.model_id == model_id, w.seq_lo.is_not(None), w.seq_lo <= max(seqs),
        w.seq_hi > min(seqs))).all())
    starts = [lo for lo, _hi, _n in spans]
    found = set()
    for seq in seqs:
        at = bisect.bisect_right(starts, seq) - 1
        if at >= 0 and seq < spans[at][1]:
            found.add(spans[at][2])
    return found
