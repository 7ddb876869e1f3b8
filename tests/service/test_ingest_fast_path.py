"""The fast paths of record validation give exactly what the general path gives.

``prepare_batch`` first tries a path without a Pydantic model per record; on any record it
is not sure of it gives up and the general path (per-record refusals) decides. A random
mix of good and bad values checks that whenever the fast path answers, its table, ids,
digests and times equal the general path's, and that the general path then refused nothing.
Arrow and Parquet bodies have a fast path of their own, column by column: random tables of
many column types check it against the general path on the records made of their rows.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pyarrow as pa
import pytest

from driftwise.app import ingest
from driftwise.app import records as rec

LAYOUTS = {
    "binary": rec.RecordLayout("binary", (("a", "numeric"), ("b", "numeric"),
                                          ("c", "categorical"))),
    "multiclass": rec.RecordLayout("multiclass", (("a", "numeric"), ("c", "categorical")),
                                   ("x", "y")),
    "regression": rec.RecordLayout("regression", (("a", "numeric"), ("c", "categorical"))),
}

NUMBERS: list[Any] = [0.0, -0.0, 1.5, -2.25, 1e308, 5e-324, 3, -7, 0, 2**53 + 1, 10**30, None]
BAD_NUMBERS: list[Any] = [float("nan"), float("inf"), True, False, "1.5", "", [1], {"a": 1},
                          10**400]
TEXTS: list[Any] = ["u", "", "1.0", "é", 'q"uote', 4, 2.5, 1.0, True, False, None, "x" * 10_000]
BAD_TEXTS: list[Any] = [float("nan"), float("-inf"), "x" * 10_001, [1], {"k": "v"}]
TIMES: list[Any] = [None, "2026-03-01T12:00:00Z", "2026-03-01T12:00:00",
                    "2026-03-01T12:00:00.123456+02:00", 1_772_000_000, 1_772_000_000.5,
                    datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 1),
                    datetime(2026, 3, 1, tzinfo=timezone(timedelta(hours=-5)))]
BAD_TIMES: list[Any] = ["yesterday", "2026-13-01", float("inf"), True, [1]]
TRACEPARENT = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"


def _pick(rng: random.Random, good: list[Any], bad: list[Any], p_bad: float) -> Any:
    return rng.choice(bad) if rng.random() < p_bad else rng.choice(good)


def _record(rng: random.Random, layout: rec.RecordLayout, i: int, p_bad: float) -> Any:
    if rng.random() < p_bad / 10:
        return rng.choice([None, "r", 3, ["id"]])
    features: dict[str, Any] = {
        name: _pick(rng, NUMBERS, BAD_NUMBERS, p_bad) if kind == "numeric"
        else _pick(rng, TEXTS, BAD_TEXTS, p_bad) for name, kind in layout.features}
    if rng.random() < p_bad / 4:
        features.pop(rng.choice(list(features)))
    if rng.random() < p_bad / 4:
        features["zz"] = 1.0
    record: dict[str, Any] = {"id": rng.choice([f"r{i}", f"r{i}", "", "x" * 201, 7])
                              if rng.random() < p_bad / 4 else f"r{i}",
                              "features": features}
    if layout.task == "binary":
        proba = _pick(rng, [0.25, 0, 1, 1.0, None, {"1": 0.4}],
                      [1.5, -0.1, True, "0.5", float("nan"), {"1": 0.2, "0": 0.8}], p_bad)
    elif layout.task == "multiclass":
        proba = _pick(rng, [{"x": 0.25, "y": 0.75}, {"x": 1}, {"y": 1.0, "x": 0}, None],
                      [{"x": 0.5}, {"x": 0.5, "z": 0.5}, 0.5, {"x": True, "y": 0}], p_bad)
    else:
        proba = _pick(rng, [None], [0.5, {"x": 1.0}], p_bad)
    optional: dict[str, Any] = {
        "probabilities": proba,
        "prediction": _pick(rng, NUMBERS, BAD_NUMBERS, p_bad) if layout.task == "regression"
        else _pick(rng, TEXTS, BAD_TEXTS, p_bad),
        "timestamp": _pick(rng, TIMES, BAD_TIMES, p_bad),
        "latency_ms": _pick(rng, [None, 0, 0.0, 12, 3.5], [-1, -0.5, True, float("nan"),
                                                           "3"], p_bad),
        "error": _pick(rng, [False, True], [1, 0, None, "true"], p_bad),
        "client_key": _pick(rng, [None, "acct-1", "", "k" * 200], ["k" * 201, 5], p_bad),
        "traceparent": _pick(rng, [None, TRACEPARENT], [TRACEPARENT.upper(), "00-1-2-3",
                                                        TRACEPARENT + "\n"], p_bad),
        "trace_id": _pick(rng, [None, "c" * 32], ["c" * 31, "C" * 32], p_bad),
    }
    for key, value in optional.items():
        if value is not None or rng.random() < 0.3:
            if rng.random() < 0.7:
                record[key] = value
    if rng.random() < p_bad / 10:
        record["extra"] = 1
    return record


@pytest.mark.parametrize("task", sorted(LAYOUTS))
def test_fast_path_equals_general_path(task: str) -> None:
    layout = LAYOUTS[task]
    plain = rec._Plain(layout)
    rng = random.Random(20261201)
    answered = 0
    for trial in range(3000):
        p_bad = 0.0 if trial % 3 == 0 else rng.choice([0.02, 0.1, 0.3])
        n = rng.randint(1, 6)
        items = [_record(rng, layout, i, p_bad) for i in range(n)]
        if rng.random() < 0.05 and isinstance(items[0], dict):
            items.append(dict(items[0]))  # an id twice in one body
        fast = plain.batch(items, 1_700_000_000.25)
        if fast is None:
            continue
        answered += 1
        slow = rec._prepare(layout, items, 1_700_000_000.25)
        assert slow.refused == [] and slow.duplicates_in_body == 0, (items, slow.refused)
        assert fast.ids == slow.ids
        assert fast.digests == slow.digests, items
        assert fast.timestamps == slow.timestamps
        assert fast.table.schema == slow.table.schema
        assert fast.table.equals(slow.table), items
        assert fast.refused == [] and fast.duplicates_in_body == 0
    assert answered > 1000  # the fast path is taken for good batches


def test_the_digest_is_of_the_names_and_values_in_marshal_format_2() -> None:
    import hashlib
    import marshal

    keys, values = ("_id", "_ts", "f.a", "f.c"), ("r1", 1.5, -0.0, "é")
    want = hashlib.blake2b(marshal.dumps((keys, values), 2), digest_size=16).hexdigest()
    assert rec._digest_of(keys, values) == want
    assert rec._digest(dict(zip(keys, values, strict=True))) == want


def test_prepare_batch_falls_back_with_refusals() -> None:
    layout = LAYOUTS["binary"]
    good = {"id": "g", "features": {"a": 1.0, "b": 2, "c": "u"}, "probabilities": 0.5}
    bad = {"id": "b", "features": {"a": "zz", "b": 2, "c": "u"}, "probabilities": 0.5}
    out = rec.prepare_batch(layout, [good, bad], received_at=1.0)
    assert out.ids == ["g"]
    assert [(r.index, r.id, r.field) for r in out.refused] == [(1, "b", "features.a")]


def _column(rng: random.Random, n: int, kind: str) -> pa.Array:
    """A random column for a field of ``kind`` (numeric, label, probability, ...)."""
    def some(values: list[Any], p_null: float = 0.2) -> list[Any]:
        return [None if rng.random() < p_null else rng.choice(values) for _ in range(n)]

    if kind == "numeric":
        choice = rng.choice(["f64", "f64", "f32", "i64", "u8", "bad"])
        if choice == "f64":
            extra = [float("nan"), float("inf")] if rng.random() < 0.2 else []
            return pa.array(some([0.0, -0.0, 1.5, 1e300, -2.5, *extra]), pa.float64())
        if choice == "f32":
            return pa.array(some([0.1, 2.5, -1.0]), pa.float32())
        if choice == "i64":
            return pa.array(some([0, 3, -7, 2**53 + 1, 2**62]), pa.int64())
        if choice == "u8":
            return pa.array(some([0, 255]), pa.uint8())
        return rng.choice([pa.array(some([True, False]), pa.bool_()),
                           pa.array(some(["1.5", "x"]), pa.string())])
    if kind == "label":
        choice = rng.choice(["str", "str", "large", "i64", "bool", "bad"])
        if choice == "str":
            long = ["x" * 10_001] if rng.random() < 0.1 else []
            return pa.array(some(["u", "", "é", "1.0", "x" * 10_000, *long]), pa.string())
        if choice == "large":
            return pa.array(some(["u", "v"]), pa.large_string())
        if choice == "i64":
            return pa.array(some([1, -2, 10**15]), pa.int64())
        if choice == "bool":
            return pa.array(some([True, False]), pa.bool_())
        return rng.choice([pa.array(some([1.0, 2.5]), pa.float64()), pa.nulls(n)])
    if kind == "probability":
        values = [0.0, 0.25, 1.0] + ([1.5, -0.1] if rng.random() < 0.2 else [])
        return rng.choice([pa.array(some(values, 0.1), pa.float64()),
                           pa.array(some([0, 1], 0.1), pa.int32())])
    if kind == "latency":
        values = [0.0, 3.5, 12.0] + ([-1.0] if rng.random() < 0.2 else [])
        return rng.choice([pa.array(some(values), pa.float64()),
                           pa.array(some([0, 7]), pa.int32())])
    if kind == "error":
        return rng.choice([pa.array(some([True, False]), pa.bool_()),
                           pa.array(some([0, 1]), pa.int8())])
    if kind == "client":
        long = ["k" * 201] if rng.random() < 0.1 else []
        return pa.array(some(["acct", "", "k" * 200, *long]), pa.string())
    if kind == "traceparent":
        bad = [TRACEPARENT.upper()] if rng.random() < 0.2 else []
        return pa.array(some([TRACEPARENT, *bad], 0.5), pa.string())
    if kind == "trace_id":
        bad = ["c" * 31] if rng.random() < 0.2 else []
        return pa.array(some(["c" * 32, *bad], 0.5), pa.string())
    assert kind == "timestamp"
    choice = rng.choice(["us", "ms", "s", "naive", "ns", "iso", "epoch", "far"])
    base = [1_772_000_000_000_000, 1_772_000_000_123_456, 0]
    if choice == "us":
        return pa.array(some(base), pa.timestamp("us", "UTC"))
    if choice == "ms":
        return pa.array(some([v // 1000 for v in base]), pa.timestamp("ms", "+05:00"))
    if choice == "s":
        return pa.array(some([v // 10**6 for v in base]), pa.timestamp("s", "Europe/Paris"))
    if choice == "naive":
        return pa.array(some(base), pa.timestamp("us"))
    if choice == "ns":
        return pa.array(some([v * 1000 for v in base]), pa.timestamp("ns", "UTC"))
    if choice == "iso":
        return pa.array(some(["2026-03-01T12:00:00Z", "2026-03-01T12:00:00", "nope"]))
    if choice == "epoch":
        return pa.array(some([1_772_000_000, 5]), pa.int64())
    return pa.array(some([-62_000_000_000_000_000, 250_000_000_000_000_000]),
                    pa.timestamp("us", "UTC"))


def _table(rng: random.Random, layout: rec.RecordLayout, n: int) -> pa.Table:
    columns: dict[str, pa.Array] = {}
    ids = [f"r{i}" for i in range(n)]
    if rng.random() < 0.1:
        ids[-1] = rng.choice(["", "x" * 201, None, "r0"])
    columns["id"] = pa.array(ids, pa.string())
    for name, kind in layout.features:
        columns[name] = _column(rng, n, "numeric" if kind == "numeric" else "label")
    optional = {"timestamp": "timestamp", "latency_ms": "latency", "error": "error",
                "client_key": "client", "traceparent": "traceparent",
                "trace_id": "trace_id",
                "prediction": "numeric" if layout.task == "regression" else "label"}
    if layout.task == "binary":
        optional["probabilities"] = "probability"
    for field, kind in optional.items():
        if rng.random() < 0.6:
            columns[field] = _column(rng, n, kind)
    if layout.task != "binary" and rng.random() < 0.2:
        columns["probabilities"] = pa.nulls(n, pa.float64())
    if rng.random() < 0.05:
        columns["zz"] = pa.array([1.0] * n)
    if rng.random() < 0.05:
        columns[f"features.{layout.features[0][0]}"] = pa.array([1.0] * n)
    return pa.table(columns)


@pytest.mark.parametrize("task", sorted(LAYOUTS))
def test_table_fast_path_equals_general_path(task: str) -> None:
    layout = LAYOUTS[task]
    plain = rec._Plain(layout)
    rng = random.Random(7)
    answered = 0
    for _ in range(1500):
        table = _table(rng, layout, rng.randint(1, 6))
        fast = plain.table(table, 1_700_000_000.25)
        if fast is None:
            continue
        answered += 1
        rows = ingest._records(table)
        slow = rec._prepare(layout, rows, 1_700_000_000.25)
        assert slow.refused == [] and slow.duplicates_in_body == 0, (table, slow.refused)
        assert fast.ids == slow.ids
        assert fast.timestamps == slow.timestamps, table
        assert fast.digests == slow.digests, table
        assert fast.table.equals(slow.table), table
    assert answered > 100


def test_table_bodies_take_the_table_path(monkeypatch: pytest.MonkeyPatch) -> None:
    layout = LAYOUTS["binary"]
    table = pa.table({"id": ["a", "b"], "a": [1.0, 2.0], "b": [1, 2], "c": ["u", "v"],
                      "probabilities": [0.5, 0.25]})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    rows = ingest.rows_of_table(sink.getvalue().to_pybytes(),
                                "application/vnd.apache.arrow.stream")
    monkeypatch.setattr(ingest, "_records", lambda _t: pytest.fail("rows were made"))
    out = rec.prepare_batch(layout, rows, received_at=1.0)
    assert out.ids == ["a", "b"] and out.refused == []
