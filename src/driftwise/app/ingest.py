"""Ingest use cases: prediction records and late labels, from any body the API accepts."""

from __future__ import annotations

import io
import threading
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine

from driftwise.app.models import layout_of
from driftwise.app.records import Refusal, prepare_batch, prepare_labels
from driftwise.errors import ConflictError, SchemaError
from driftwise.store import records, registry

__all__ = ["IngestReport", "LabelReport", "TableRows", "ingest_labels", "ingest_records",
           "rows_of_table"]

#: Stored record fields an Arrow/Parquet body may carry; any other column is a feature
#: (``features.<name>`` is a feature too, for a feature named like a field).
FIELDS = ("id", "timestamp", "prediction", "probabilities", "latency_ms", "error",
          "client_key", "traceparent", "trace_id")


@dataclass
class IngestReport:
    """What happened to a batch: accepted, retries recognised, refused (with reasons)."""

    accepted: int = 0
    duplicates: int = 0
    refused: list[Refusal] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "refused": [r.to_dict() for r in self.refused]}


@dataclass
class LabelReport:
    """Labels stored, ids with no record (reported, not dropped silently), refused ones."""

    stored: int = 0
    unknown_ids: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    windows_to_recompute: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"stored": self.stored, "unknown_ids": self.unknown_ids,
                "refused": [r.to_dict() for r in self.refused],
                "windows_to_recompute": self.windows_to_recompute}


def ingest_records(engine: Engine, name: str, items: Sequence[Any]) -> IngestReport:
    """Validate and durably store records; returns once they are committed.

    The model and its record layout come from a per-process cache: the store checks inside
    the ingest transaction that the model is still the one the records were validated for
    (same registration, same reference version) and refuses the batch otherwise, and then
    the model is read again and the records validated again. So a one-record ingest costs
    no lookup of its own, and never stores records against a replaced reference.
    """
    for _attempt in range(3):
        model = _model(engine, name)
        layout = layout_of(engine, model)
        prepared = prepare_batch(layout, items)
        if prepared.refused and _stale(engine, name, model):
            continue  # refused against a replaced layout, perhaps: validate again
        report = IngestReport(duplicates=prepared.duplicates_in_body, refused=prepared.refused)
        if not prepared.ids:
            return report
        try:
            outcome = records.ingest(engine, model.id, prepared.table, prepared.ids,
                                     prepared.digests, prepared.timestamps,
                                     expect=(model.created_at, model.reference_version))
        except records.StaleModel:
            _forget(engine, name)
            continue
        report.accepted = outcome.accepted
        report.duplicates += outcome.duplicates
        if outcome.conflicts:
            index = {rid: i for i, rid in enumerate(_ids(items))}
            report.refused += [Refusal(index.get(rid, -1), rid, "id",
                                       "already stored with a different payload")
                               for rid in outcome.conflicts]
            report.refused.sort(key=lambda r: r.index)
        return report
    raise ConflictError(f"model {name!r} changed three times while these records were being "
                        "stored (deleted, registered again or given a new reference): nothing "
                        "was stored; send them again")


# name -> model, per engine: read once, checked by the store at every ingest (see above).
# Only models with a reference are kept (one without cannot take records, and the cached
# row would hide the reference uploaded next); the dictionary is emptied past _MAX_MODELS.
_MODELS: weakref.WeakKeyDictionary[Engine, dict[str, registry.ModelRow]] = \
    weakref.WeakKeyDictionary()
_MODELS_LOCK = threading.Lock()
_MAX_MODELS = 10_000


def _model(engine: Engine, name: str) -> registry.ModelRow:
    with _MODELS_LOCK:
        known = _MODELS.setdefault(engine, {})
        model = known.get(name)
    if model is None:
        model = registry.get_model(engine, name)
        if model.reference_version:
            with _MODELS_LOCK:
                if len(known) >= _MAX_MODELS:
                    known.clear()
                known[name] = model
    return model


def _stale(engine: Engine, name: str, model: registry.ModelRow) -> bool:
    """Whether ``model`` is no longer the stored one (then it is forgotten). Asked before
    refusing records: a refusal is not checked by the store, and may come from an old
    layout."""
    now = registry.get_model(engine, name)
    if (now.id, now.created_at, now.reference_version) == \
            (model.id, model.created_at, model.reference_version):
        return False
    _forget(engine, name)
    return True


def _forget(engine: Engine, name: str) -> None:
    with _MODELS_LOCK:
        _MODELS.get(engine, {}).pop(name, None)


def _ids(items: Sequence[Any]) -> list[Any]:
    return [item.get("id") if isinstance(item, dict) else None for item in items]


def ingest_labels(engine: Engine, name: str, items: Sequence[Any]) -> LabelReport:
    """Store late labels by record id; windows they fall in get their realized
    performance recomputed."""
    model = registry.get_model(engine, name)
    good, refused = prepare_labels(model.task, items)
    outcome = records.put_labels(engine, model.id, good) if good else records.LabelOutcome()
    return LabelReport(outcome.stored, outcome.unknown, refused, outcome.windows_touched)


class TableRows(Sequence[dict[str, Any]]):
    """The records of a table body, made from its rows only when they are read
    (``prepare_batch`` takes a plainly valid table column by column, from
    ``arrow_table``)."""

    def __init__(self, table: pa.Table) -> None:
        self.arrow_table = table
        self._rows: list[dict[str, Any]] | None = None

    def _all(self) -> list[dict[str, Any]]:
        if self._rows is None:
            self._rows = _records(self.arrow_table)
        return self._rows

    def __len__(self) -> int:
        return int(self.arrow_table.num_rows)

    def __getitem__(self, index: Any) -> Any:
        return self._all()[index]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._all())


def rows_of_table(body: bytes, media_type: str) -> TableRows:
    """Records of an Arrow IPC stream or a Parquet body: one row per record, the columns
    named as the JSON fields, features as the other columns (or ``features.<name>``)."""
    try:
        if media_type.endswith("parquet"):
            table = pq.read_table(io.BytesIO(body))
        else:
            table = pa.ipc.open_stream(body).read_all()
    except (pa.ArrowException, OSError) as exc:
        kind = "Parquet" if media_type.endswith("parquet") else "Arrow IPC stream"
        raise SchemaError(f"cannot read the body as {kind}: {str(exc).splitlines()[0]}"
                          ) from None
    if "id" not in table.column_names:
        raise SchemaError("the table has no `id` column (each record needs its id)")
    return TableRows(table)


def _records(table: pa.Table) -> list[dict[str, Any]]:
    feature_names = [n for n in table.column_names if n not in FIELDS]
    out: list[dict[str, Any]] = []
    for row in table.to_pylist():
        record = {k: row[k] for k in FIELDS if k in row and row[k] is not None}
        record["features"] = {n.removeprefix("features."): row[n] for n in feature_names}
        out.append(record)
    return out
