"""What a model server sends: prediction records and late labels, validated against the
model's layout and turned into the columnar batches the store keeps.

One rule for every body (JSON, Arrow IPC, Parquet): each record is checked on its own; a
bad record is refused with the field and the reason, and the good records of the same batch
are kept (a retry of the whole batch is then harmless: ingest is idempotent by record id).
"""

from __future__ import annotations

import hashlib
import marshal
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NaiveDatetime,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from driftwise.data.columns import category_label

__all__ = ["BatchIn", "LabelIn", "LabelsIn", "PreparedBatch", "RecordIn", "RecordLayout",
           "Refusal", "error_field", "prepare_batch", "prepare_labels"]

RecordId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Scalar = float | int | bool | str | None
MAX_TEXT = 10_000
TRACEPARENT = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class RecordIn(_Body):
    """One prediction as the model server saw it."""

    id: RecordId = Field(description="The prediction's id, unique per model; a retry with "
                         "the same id and payload is accepted once.")
    timestamp: AwareDatetime | NaiveDatetime | None = Field(
        None, description="When the prediction was made (naive: UTC); default: on arrival.")
    features: dict[str, Scalar] = Field(description="Every feature of the model by name "
                                        "(null for a missing value).")
    prediction: Scalar = Field(None, description="The predicted class or value.")
    probabilities: float | dict[str, float] | None = Field(
        None, description="Binary: the positive class's probability; multiclass: class -> "
        "probability.")
    latency_ms: Annotated[float, Field(ge=0)] | None = Field(
        None, description="The model server's latency for this prediction.")
    error: bool = Field(False, description="Whether the model server failed this request.")
    client_key: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="Who sent the query (an account, an API client).")
    traceparent: Annotated[str, StringConstraints(pattern=TRACEPARENT)] | None = Field(
        None, description="W3C trace context of the request.")
    trace_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] | None = Field(
        None, description="A trace id, when no full traceparent is at hand.")


class BatchIn(_Body):
    """Many records in one request."""

    records: list[RecordIn] = Field(max_length=100_000)


class LabelIn(_Body):
    """The true outcome of one prediction, by its record id."""

    id: RecordId
    label: float | int | bool | str


class LabelsIn(_Body):
    """Many labels in one request."""

    labels: list[LabelIn] = Field(max_length=100_000)


_RECORDS = TypeAdapter(list[RecordIn])
_LABELS = TypeAdapter(list[LabelIn])


@dataclass(frozen=True)
class Refusal:
    """A record that was not accepted, where, and why."""

    index: int
    id: str | None
    field: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"index": self.index, "id": self.id, "field": self.field,
                "reason": self.reason}


@dataclass(frozen=True)
class RecordLayout:
    """The features a model's records carry (with kinds) and how its outputs look."""

    task: str
    features: tuple[tuple[str, str], ...]  # (name, "numeric" | "categorical")
    classes: tuple[str, ...] = ()  # multiclass probability keys

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (stored with the reference)."""
        return {"task": self.task, "features": [list(f) for f in self.features],
                "classes": list(self.classes)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordLayout:
        """Inverse of :meth:`to_dict`."""
        return cls(data["task"], tuple((str(n), str(k)) for n, k in data["features"]),
                   tuple(data.get("classes", ())))

    @classmethod
    def from_reference(cls, task: str, table: pa.Table, names: Sequence[str],
                       classes: Sequence[str] = ()) -> RecordLayout:
        """The layout of records whose features are ``names`` columns of ``table``."""
        kinds = []
        for name in names:
            t = table.schema.field(name).type
            numeric = pa.types.is_integer(t) or pa.types.is_floating(t) or \
                pa.types.is_decimal(t)
            kinds.append((name, "numeric" if numeric else "categorical"))
        return cls(task, tuple(kinds), tuple(classes))

    def schema(self) -> pa.Schema:
        """The stored batch's Arrow schema."""
        fields = [pa.field("_seq", pa.int64()), pa.field("_id", pa.string()),
                  pa.field("_ts", pa.float64())]
        fields += [pa.field(f"f.{name}", pa.float64() if kind == "numeric" else pa.string())
                   for name, kind in self.features]
        fields.append(pa.field("_prediction", pa.float64() if self.task == "regression"
                               else pa.string()))
        fields += [pa.field(name, pa.float64()) for name in self.probability_columns]
        fields += [pa.field("_latency_ms", pa.float64()), pa.field("_error", pa.bool_()),
                   pa.field("_client", pa.string()), pa.field("_trace", pa.string())]
        return pa.schema(fields)

    @property
    def probability_columns(self) -> tuple[str, ...]:
        """Stored probability columns: ``_p`` (binary) or ``_p.<class>`` (multiclass)."""
        if self.task == "binary":
            return ("_p",)
        if self.task == "multiclass":
            return tuple(f"_p.{k}" for k in self.classes)
        return ()


@dataclass
class PreparedBatch:
    """Valid records as stored columns, their ids, digests and times; the refused ones."""

    table: pa.Table  # without _seq (assigned when stored)
    ids: list[str]
    digests: list[str]
    timestamps: list[float]
    refused: list[Refusal] = field(default_factory=list)
    duplicates_in_body: int = 0


def error_field(value: Any, loc: Sequence[int | str], missing: bool = False) -> str:
    """The field a Pydantic error's ``loc`` names in ``value``, without the tags Pydantic
    adds for the members of a union (``features.a.float`` is ``features.a``); ``missing``:
    the error is a required field that is absent (its name is the last part of ``loc``)."""
    parts: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        elif not (missing and isinstance(value, Mapping) and i == len(loc) - 1):
            break
        parts.append(str(part))
    return ".".join(parts) or "record"


class _Bad(Exception):
    def __init__(self, where: str, reason: str) -> None:
        self.where, self.reason = where, reason


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(where, f"expected a number or null, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range
        number = math.inf
    if not math.isfinite(number):
        raise _Bad(where, "expected a finite number (send null for a missing value)")
    return number


def _text(value: Any, where: str) -> str | None:
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise _Bad(where, f"text longer than {MAX_TEXT} characters")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Bad(where, "expected a finite value (send null for a missing value)")
    return category_label(value)


class _Columns:
    """Builds the stored columns record by record."""

    def __init__(self, layout: RecordLayout, received_at: float) -> None:
        self.layout, self.received_at = layout, received_at
        self.known = dict(layout.features)
        self.values: dict[str, list[Any]] = {f.name: [] for f in layout.schema()
                                             if f.name != "_seq"}

    def row(self, r: RecordIn) -> tuple[dict[str, Any], float]:
        """One record's stored values (raises ``_Bad`` naming the field)."""
        layout, row = self.layout, {}
        extra = [k for k in r.features if k not in self.known]
        if extra:
            raise _Bad(f"features.{extra[0]}", "not a feature of this model (its features: "
                       f"{', '.join(list(self.known)[:20])})")
        for name, kind in layout.features:
            if name not in r.features:
                raise _Bad(f"features.{name}", "missing (send null for a missing value)")
            value = r.features[name]
            row[f"f.{name}"] = _number(value, f"features.{name}") if kind == "numeric" \
                else _text(value, f"features.{name}")
        row["_prediction"] = _number(r.prediction, "prediction") if \
            layout.task == "regression" else _text(r.prediction, "prediction")
        row.update(self._probabilities(r.probabilities))
        ts = self.received_at if r.timestamp is None else _epoch(r.timestamp)
        row.update({"_id": r.id, "_ts": ts, "_latency_ms": r.latency_ms, "_error": r.error,
                    "_client": r.client_key, "_trace": r.traceparent or r.trace_id})
        return row, ts

    def _probabilities(self, p: float | dict[str, float] | None) -> dict[str, float | None]:
        layout = self.layout
        columns = layout.probability_columns
        if p is None:
            return dict.fromkeys(columns)
        if layout.task == "regression":
            raise _Bad("probabilities", "a regression model sends no probabilities")
        if layout.task == "binary":
            if isinstance(p, dict):
                if len(p) != 1:
                    raise _Bad("probabilities", "a binary model sends one probability (of "
                               "the positive class), as a number")
                p = next(iter(p.values()))
            return {"_p": _probability(p, "probabilities")}
        if not isinstance(p, dict):
            raise _Bad("probabilities", "a multiclass model sends class -> probability")
        unknown = [k for k in p if k not in layout.classes]
        if unknown:
            raise _Bad(f"probabilities.{unknown[0]}", f"not a class of this model "
                       f"({', '.join(layout.classes)})")
        out: dict[str, float | None] = {
            f"_p.{k}": _probability(p.get(k, 0.0), f"probabilities.{k}")
            for k in layout.classes}
        if abs(sum(v or 0.0 for v in out.values()) - 1.0) > 1e-3:
            raise _Bad("probabilities", "the class probabilities must sum to 1")
        return out

    def add(self, row: Mapping[str, Any]) -> None:
        for key, values in self.values.items():
            values.append(row[key])

    def table(self) -> pa.Table:
        schema = pa.schema([f for f in self.layout.schema() if f.name != "_seq"])
        return pa.table({name: pa.array(self.values[name], type=schema.field(name).type)
                         for name in schema.names}, schema=schema)


def _probability(value: Any, where: str) -> float:
    number = _number(value, where)
    if number is None or not 0.0 <= number <= 1.0:
        raise _Bad(where, "expected a probability in [0, 1]")
    return number


def _epoch(value: datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _digest(row: Mapping[str, Any]) -> str:
    """A digest of everything a record says (not when it arrived): of its stored names and
    values in the names' order, in marshal format 2 (the values are None, bool, float and
    str; floats as their IEEE 754 bytes: ten times faster than their repr)."""
    keys = tuple(sorted(row))
    return _digest_of(keys, tuple(row[k] for k in keys))


def _digest_of(keys: tuple[str, ...], values: tuple[Any, ...]) -> str:
    # marshal.dumps((keys, values), 2), the names' part made once per set of names
    head = _HEADS.get(keys)
    if head is None:
        head = _HEADS[keys] = b"(\x02\x00\x00\x00" + marshal.dumps(keys, 2)
    return hashlib.blake2b(head + marshal.dumps(values, 2), digest_size=16).hexdigest()


_HEADS: dict[tuple[str, ...], bytes] = {}


def _validated(items: Sequence[Any]) -> tuple[dict[int, RecordIn], list[Refusal]]:
    """Records that pass the body model, by index; refusals for the rest (Pydantic's loc)."""
    try:
        return dict(enumerate(_RECORDS.validate_python(items))), []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    bad: dict[int, Refusal] = {}
    for error in errors:
        loc = error["loc"]
        index = loc[0] if loc and isinstance(loc[0], int) else -1
        if index < 0:
            raise
        if index not in bad:
            item = items[index]
            rid = item.get("id") if isinstance(item, Mapping) else None
            bad[index] = Refusal(index, rid if isinstance(rid, str) else None,
                                 error_field(item, loc[1:], error["type"] == "missing"),
                                 error["msg"])
    good_idx = [i for i in range(len(items)) if i not in bad]
    good = _RECORDS.validate_python([items[i] for i in good_idx])
    return dict(zip(good_idx, good, strict=True)), sorted(bad.values(), key=lambda r: r.index)


_FIELDS = frozenset(RecordIn.model_fields)
_TABLE_FIELDS = _FIELDS - {"features"}  # a table's other columns are features
# Times a table may carry as Arrow timestamps (years 1900-9000: far from the ends of
# Python's datetime range, where converting them to datetimes would fail).
_MICROS = (-2_208_988_800 * 10**6, 221_845_392_000 * 10**6)
_TRACEPARENT = re.compile(TRACEPARENT)
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_TIMES = TypeAdapter(list[AwareDatetime | NaiveDatetime | None],
                     config=ConfigDict(allow_inf_nan=False))


class _Plain:
    """The fast path of :func:`prepare_batch` for a batch of plainly valid records.

    It checks what the body model and ``_Columns.row`` check, without building a model per
    record, and gives up (``None``) at the first record it is not sure of: the general path
    then decides, with its per-record refusals. So a batch it accepts gives the same table,
    ids, digests and times as the general path, only sooner.
    """

    def __init__(self, layout: RecordLayout) -> None:
        self.layout = layout
        self.names = [f.name for f in layout.schema() if f.name != "_seq"]
        self.known = frozenset(name for name, _ in layout.features)
        self.numeric = [(name, kind == "numeric") for name, kind in layout.features]
        self.proba = layout.probability_columns
        self.checker = _Columns(layout, 0.0)
        # The names a digest covers (``_ts`` only when the record gave its time) in
        # their order, and where their values are in a row.
        self.digest_order = {}
        for with_ts in (False, True):
            keys = tuple(sorted(n for n in self.names if with_ts or n != "_ts"))
            self.digest_order[with_ts] = (keys, [self.names.index(k) for k in keys])

    def batch(self, items: Sequence[Any], received: float) -> PreparedBatch | None:
        """Column by column when every record is plain and of one shape (the usual
        batch), else record by record; ``None``: the general path decides."""
        try:
            found = self._columns(items, received)
        except (_Bad, ValueError, TypeError, OverflowError):
            found = None
        return found if found is not None else self._rows(items, received)

    def _columns(self, items: Sequence[Any], received: float) -> PreparedBatch | None:
        n = len(items)
        known = self.known
        if not all(type(item) is dict and item.keys() <= _FIELDS for item in items):
            return None
        ids = [item.get("id") for item in items]
        features = [item.get("features") for item in items]
        if not all(type(rid) is str and 0 < len(rid) <= 200 for rid in ids) or \
                len(set(ids)) != n or \
                not all(type(f) is dict and f.keys() == known for f in features):
            return None
        times = _TIMES.validate_python([item.get("timestamp") for item in items])
        given = [t is not None for t in times]
        cols: list[list[Any]] = [ids, [received if t is None else _epoch(t) for t in times]]
        for name, numeric in self.numeric:
            values = [f[name] for f in features]
            found = _list_numbers(values) if numeric else _list_labels(values)
            if found is None:
                return None
            cols.append(found)
        values = [item.get("prediction") for item in items]
        found = _list_numbers(values) if self.layout.task == "regression" else \
            _list_labels(values)
        if found is None:
            return None
        cols.append(found)
        values = [item.get("probabilities") for item in items]
        if self.layout.task == "binary":
            found = _list_numbers(values)
            if found is None or any(v is not None and not 0.0 <= v <= 1.0 for v in found):
                return None
            cols.append(found)
        elif any(v is not None for v in values):
            return None  # class -> probability mappings: record by record
        else:
            cols += [[None] * n for _ in self.proba]
        latency = _list_numbers([item.get("latency_ms") for item in items])
        if latency is None or any(v is not None and v < 0 for v in latency):
            return None
        error = [item.get("error", False) for item in items]
        client = [item.get("client_key") for item in items]
        traceparent = [item.get("traceparent") for item in items]
        trace_id = [item.get("trace_id") for item in items]
        if not all(type(v) is bool for v in error) or \
                not all(v is None or (type(v) is str and len(v) <= 200) for v in client) or \
                not all(v is None or (type(v) is str and _TRACEPARENT.fullmatch(v))
                        for v in traceparent) or \
                not all(v is None or (type(v) is str and _TRACE_ID.fullmatch(v))
                        for v in trace_id):
            return None
        cols += [latency, error, client,
                 [a or b for a, b in zip(traceparent, trace_id, strict=True)]]
        return self._finish(cols, given)

    def _finish(self, cols: list[list[Any]], given: list[bool]) -> PreparedBatch:
        """The prepared batch of stored columns (in ``names`` order); ``given``: whether
        each record gave its time (its digest then covers ``_ts``)."""
        keys, order = self.digest_order[True]
        short, _ = self.digest_order[False]
        at = keys.index("_ts")
        digests = [_digest_of(keys, values) if has else
                   _digest_of(short, values[:at] + values[at + 1:])
                   for has, values in zip(given, zip(*[cols[i] for i in order], strict=True),
                                          strict=True)]
        schema = pa.schema([f for f in self.layout.schema() if f.name != "_seq"])
        table = pa.table({name: pa.array(cols[i], type=schema.field(name).type)
                          for i, name in enumerate(self.names)}, schema=schema)
        return PreparedBatch(table, [str(i) for i in cols[0]], digests,
                             [float(t) for t in cols[1]])

    def _rows(self, items: Sequence[Any], received: float) -> PreparedBatch | None:
        rows: list[list[Any]] = []
        raw_times: list[Any] = []
        seen: set[str] = set()
        try:
            for item in items:
                row = self._row(item)
                if row is None or row[0] in seen:
                    return None
                seen.add(row[0])
                rows.append(row)
                raw_times.append(item.get("timestamp"))
            times = _TIMES.validate_python(raw_times)
        except (_Bad, ValueError, TypeError, OverflowError):
            return None
        ids, digests, stamps = [], [], []
        for row, when in zip(rows, times, strict=True):
            keys, order = self.digest_order[when is not None]
            ts = received if when is None else _epoch(when)
            row[1] = ts
            ids.append(row[0])
            digests.append(_digest_of(keys, tuple([row[i] for i in order])))
            stamps.append(ts)
        schema = pa.schema([f for f in self.layout.schema() if f.name != "_seq"])
        columns = list(zip(*rows, strict=True))
        table = pa.table({name: pa.array(columns[i], type=schema.field(name).type)
                          for i, name in enumerate(self.names)}, schema=schema)
        return PreparedBatch(table, ids, digests, stamps)

    def table(self, body: pa.Table, received: float) -> PreparedBatch | None:
        """The fast path for an Arrow IPC or Parquet body, column by column: what the
        records made of its rows would give (``None``: the general path decides)."""
        try:
            return self._table(body, received)
        except (pa.ArrowException, _Bad, ValueError, TypeError, OverflowError):
            return None

    def _table(self, body: pa.Table, received: float) -> PreparedBatch | None:
        names = body.column_names
        n = body.num_rows
        features = [c for c in names if c not in _TABLE_FIELDS]
        if not n or len(set(names)) != len(names) or set(features) != self.known or \
                any(c.startswith("features.") for c in names):
            return None

        def column(name: str) -> pa.ChunkedArray | None:
            return body.column(name) if name in names else None

        ids = _table_texts(column("id"), n, 200)
        if ids is None or None in ids or "" in ids or len(set(ids)) != n:
            return None
        given, stamps = _table_times(column("timestamp"), n, received)
        cols: list[list[Any]] = [ids, stamps]
        values: Any
        for name, numeric in self.numeric:
            values = _table_numbers(body.column(name)) if numeric else \
                _table_labels(body.column(name))
            if values is None:
                return None
            cols.append(values)
        prediction = column("prediction")
        values = ([None] * n if prediction is None else
                  _table_numbers(prediction) if self.layout.task == "regression" else
                  _table_labels(prediction))
        if values is None:
            return None
        cols.append(values)
        p = column("probabilities")
        if self.layout.task == "binary":
            values = [None] * n if p is None else _table_numbers(p)
            if values is None or any(v is not None and not 0.0 <= v <= 1.0 for v in values):
                return None
            cols.append(values)
        else:
            if p is not None and p.null_count != n:
                return None
            cols += [[None] * n for _ in self.proba]
        latency = column("latency_ms")
        values = [None] * n if latency is None else _table_numbers(latency)
        if values is None or any(v is not None and v < 0 for v in values):
            return None
        cols.append(values)
        error = column("error")
        if error is not None and not pa.types.is_boolean(error.type):
            return None
        cols.append([False] * n if error is None else
                    [v is True for v in error.to_pylist()])
        client = _table_texts(column("client_key"), n, 200)
        traceparent = _table_texts(column("traceparent"), n, None)
        trace_id = _table_texts(column("trace_id"), n, None)
        if client is None or traceparent is None or trace_id is None or \
                any(v is not None and not _TRACEPARENT.fullmatch(v) for v in traceparent) or \
                any(v is not None and not _TRACE_ID.fullmatch(v) for v in trace_id):
            return None
        cols += [client, [a or b for a, b in zip(traceparent, trace_id, strict=True)]]
        return self._finish(cols, given)

    def _row(self, item: Any) -> list[Any] | None:
        """The stored values of one record in column order (``_ts`` filled in later), or
        ``None`` when the record needs the general path."""
        if type(item) is not dict or not item.keys() <= _FIELDS:
            return None
        rid = item.get("id")
        features = item.get("features")
        if type(rid) is not str or not 0 < len(rid) <= 200 or type(features) is not dict \
                or features.keys() != self.known:
            return None
        row: list[Any] = [rid, None]
        for name, numeric in self.numeric:
            value = features[name]
            if numeric:
                value = _plain_number(value)
                if value is False:
                    return None
            else:
                if not _plain_scalar(value):
                    return None
                value = category_label(value)
            row.append(value)
        prediction = item.get("prediction")
        if self.layout.task == "regression":
            prediction = _plain_number(prediction)
            if prediction is False:
                return None
        else:
            if not _plain_scalar(prediction):
                return None
            prediction = category_label(prediction)
        row.append(prediction)
        p = item.get("probabilities")
        if p is not None:
            if isinstance(p, dict):
                if not all(type(k) is str for k in p):
                    return None
                p = {k: _plain_number(v) for k, v in p.items()}
                if any(v is None or v is False for v in p.values()):
                    return None
            else:
                p = _plain_number(p)
                if p is None or p is False:
                    return None
        proba = self.checker._probabilities(p)
        row.extend(proba[name] for name in self.proba)
        latency = _plain_number(item.get("latency_ms"))
        error = item.get("error", False)
        client = item.get("client_key")
        traceparent = item.get("traceparent")
        trace_id = item.get("trace_id")
        if latency is False or (latency is not None and latency < 0) or \
                type(error) is not bool or \
                (client is not None and (type(client) is not str or len(client) > 200)) or \
                (traceparent is not None and (type(traceparent) is not str or
                                              not _TRACEPARENT.fullmatch(traceparent))) or \
                (trace_id is not None and (type(trace_id) is not str or
                                           not _TRACE_ID.fullmatch(trace_id))):
            return None
        row += [latency, error, client, traceparent or trace_id]
        return row


_NUMBER_TYPES = frozenset((float, int, type(None)))
_LABEL_TYPES = frozenset((str, int, bool, float, type(None)))


def _list_numbers(values: list[Any]) -> list[float | None] | None:
    """JSON values of a numeric field as floats (``None``: not plainly finite numbers)."""
    kinds = set(map(type, values))
    if not kinds <= _NUMBER_TYPES:
        return None
    if int in kinds:
        values = [float(v) if type(v) is int else v for v in values]
    finite = values if type(None) not in kinds else [v for v in values if v is not None]
    return values if all(map(math.isfinite, finite)) else None


def _list_labels(values: list[Any]) -> list[str | None] | None:
    """JSON values of a categorical field as labels (``None``: not plainly labels)."""
    kinds = set(map(type, values))
    if kinds <= {str, type(None)}:
        texts = values if type(None) not in kinds else [v for v in values if v is not None]
        return values if max(map(len, texts), default=0) <= MAX_TEXT else None
    if not kinds <= _LABEL_TYPES:
        return None
    if any((type(v) is float and not math.isfinite(v)) or
           (type(v) is str and len(v) > MAX_TEXT) for v in values):
        return None
    return [category_label(v) for v in values]


def _table_numbers(column: pa.ChunkedArray) -> list[float | None] | None:
    """A numeric column's values as floats (``None``: not plainly finite numbers)."""
    kind = column.type
    if pa.types.is_integer(kind):
        return [None if v is None else float(v) for v in column.to_pylist()]
    if kind not in (pa.float64(), pa.float32()):
        return None
    if column.null_count < len(column) and \
            not pc.all(pc.is_finite(column), skip_nulls=True).as_py():
        return None  # NaN or an infinity somewhere: the general path names the record
    values: list[float | None] = column.to_pylist()
    return values


def _table_labels(column: pa.ChunkedArray) -> list[str | None] | None:
    """A categorical column's labels (the one label rule; ``None``: not plainly labels)."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        return [category_label(v) for v in column.to_pylist()]
    return _table_texts(column, len(column), MAX_TEXT)


def _table_texts(column: pa.ChunkedArray | None, n: int, longest: int | None
                 ) -> list[str | None] | None:
    """A text column's values, all at most ``longest`` characters (``None``: not plainly
    such texts); an absent column is ``n`` nulls."""
    if column is None:
        return [None] * n
    if column.type not in (pa.string(), pa.large_string()):
        return None
    values: list[str | None] = column.to_pylist()
    if longest is not None and any(v is not None and len(v) > longest for v in values):
        return None
    return values


def _table_times(column: pa.ChunkedArray | None, n: int, received: float
                 ) -> tuple[list[bool], list[float]]:
    """Whether each row gave its time, and its time (``received`` where it did not);
    raises ``_Bad`` where the general path must decide."""
    if column is None or column.null_count == n:
        return [False] * n, [received] * n
    kind = column.type
    if pa.types.is_timestamp(kind) and kind.unit in ("s", "ms", "us"):
        micros = pc.cast(pc.cast(column, pa.timestamp("us", kind.tz)), pa.int64())
        low, high = pc.min_max(micros).values()
        if low.as_py() < _MICROS[0] or high.as_py() > _MICROS[1]:
            raise _Bad("timestamp", "far from the present")
        values = micros.to_pylist()
        return [v is not None for v in values], [received if v is None else v / 10**6
                                                 for v in values]
    try:
        times = _TIMES.validate_python(column.to_pylist())
    except ValidationError:
        raise _Bad("timestamp", "not plainly a time") from None
    return [t is not None for t in times], [received if t is None else _epoch(t)
                                            for t in times]


def _plain_number(value: Any) -> float | bool | None:
    """A finite number as a float, ``None`` for null; ``False``: not plainly a number."""
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else False
    if kind is int:
        return float(value)
    return None if value is None else False


def _plain_scalar(value: Any) -> bool:
    """Whether ``value`` is a scalar the body model keeps as it is and ``_text`` accepts."""
    kind = type(value)
    if kind is str:
        return len(value) <= MAX_TEXT
    if kind is float:
        return math.isfinite(value)
    return value is None or kind is int or kind is bool


def prepare_batch(layout: RecordLayout, items: Sequence[Any],
                  received_at: float | None = None) -> PreparedBatch:
    """Validate ``items`` (record mappings) against ``layout`` and build stored columns.

    A record id given twice in one body with the same payload counts once; with different
    payloads both are refused.
    """
    received = datetime.now(UTC).timestamp() if received_at is None else received_at
    arrow = getattr(items, "arrow_table", None)  # the rows of an Arrow or Parquet body
    if arrow is not None:
        plain = _plain(layout).table(arrow, received)
        if plain is not None:
            return plain
        items = list(items)
    plain = _plain(layout).batch(items, received) if items else None
    return plain if plain is not None else _prepare(layout, items, received)


def _prepare(layout: RecordLayout, items: Sequence[Any], received: float) -> PreparedBatch:
    """The general path of :func:`prepare_batch`: every record checked on its own."""
    records, refused = _validated(items)
    columns = _Columns(layout, received)
    ids: list[str] = []
    digests: list[str] = []
    times: list[float] = []
    seen: dict[str, tuple[int, str]] = {}
    clashes: set[str] = set()
    duplicates = 0
    for index, record in records.items():
        try:
            row, ts = columns.row(record)
        except _Bad as bad:
            refused.append(Refusal(index, record.id, bad.where, bad.reason))
            continue
        payload = dict(row)
        if record.timestamp is None:
            payload.pop("_ts")
        digest = _digest(payload)
        if record.id in seen:
            if seen[record.id][1] != digest:
                clashes.add(record.id)
            duplicates += 1
            continue
        seen[record.id] = (index, digest)
        columns.add(row)
        ids.append(record.id)
        digests.append(digest)
        times.append(ts)
    table = columns.table()
    if clashes:
        keep = [i for i, rid in enumerate(ids) if rid not in clashes]
        for rid in sorted(clashes):
            refused.append(Refusal(seen[rid][0], rid, "id",
                                   "sent twice in this body with different payloads"))
        table = table.take(pa.array(keep, pa.int64()))
        ids = [ids[i] for i in keep]
        digests = [digests[i] for i in keep]
        times = [times[i] for i in keep]
    refused.sort(key=lambda r: r.index)
    return PreparedBatch(table, ids, digests, times, refused, duplicates)


def _plain(layout: RecordLayout) -> _Plain:
    found = _PLAIN.get(layout)
    if found is None:
        found = _PLAIN[layout] = _Plain(layout)
    return found


# Layouts are few and never change (one per reference version).
_PLAIN: dict[RecordLayout, _Plain] = {}


def label_value(task: str, value: Any) -> str | float:
    """A label as stored: a class label (the one label rule) or a finite number."""
    if task == "regression":
        number = _number(value, "label")
        if number is None:
            raise _Bad("label", "expected a number")
        return number
    label = category_label(value)
    if label is None:
        raise _Bad("label", "expected a class label")
    return label


def prepare_labels(task: str, items: Sequence[Any]) -> tuple[dict[str, str | float],
                                                               list[Refusal]]:
    """Valid labels by record id (the last one given wins) and the refused ones."""
    refused: list[Refusal] = []
    good: dict[str, str | float] = {}
    for index, item in enumerate(items):
        try:
            label = _LABELS.validate_python([item])[0]
            good[label.id] = label_value(task, label.label)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            rid = item.get("id") if isinstance(item, Mapping) else None
            refused.append(Refusal(index, rid if isinstance(rid, str) else None,
                                   error_field(item, error["loc"][1:],
                                               error["type"] == "missing"), error["msg"]))
        except _Bad as bad:
            refused.append(Refusal(index, item.get("id"), bad.where, bad.reason))
    return good, refused
