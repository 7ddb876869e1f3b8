"""Registering a model, its configuration versions and its reference versions.

A reference is fitted ONCE, when it is uploaded (or when the configuration changes): the
fitted Monitor is stored, so evaluation never refits. A fitted Monitor is kept as a pickle
written by this service into its own store; it is refitted from the stored reference when
the driftwise version that wrote it differs from the running one.
"""

from __future__ import annotations

import io
import pickle
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine

from driftwise._version import __version__
from driftwise.app.alerting import lifecycle_rules
from driftwise.app.records import RecordLayout
from driftwise.config.monitor import MonitorConfig, parse_monitor_config
from driftwise.data import read_path
from driftwise.errors import ConfigError, ConflictError, SchemaError
from driftwise.monitor import Monitor
from driftwise.store import registry
from driftwise.store.incidents import fleet_graph

__all__ = ["config_mapping", "fitted_monitor", "register_model", "update_config",
           "upload_reference"]

#: Suffix by body type, for the CSV and Parquet readers every face shares.
SUFFIX = {"text/csv": ".csv", "application/csv": ".csv",
          "application/vnd.apache.parquet": ".parquet", "application/x-parquet": ".parquet",
          "application/octet-stream": ".parquet"}


def config_mapping(name: str, task: str | None, columns: Mapping[str, Any] | None,
                   config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The Monitor configuration of a registration: ``config`` with the model's name, its
    task and its column roles set from the registration's own fields."""
    merged: dict[str, Any] = dict(config or {})
    model = dict(merged.get("model") or {})
    model["name"] = name
    if task is not None:
        model["task"] = task
    merged["model"] = model
    if columns is not None:
        merged["columns"] = dict(columns)
    return merged


def _validated(mapping: Mapping[str, Any]) -> MonitorConfig:
    cfg = parse_monitor_config(mapping, "config")
    lifecycle_rules(cfg)  # an alert whose clear condition overlaps its firing one: 422
    return cfg


def _in_fleet(engine: Engine, mapping: Mapping[str, Any]) -> MonitorConfig:
    """A new configuration, valid on its own and in the fleet's dependency graph."""
    cfg = _validated(mapping)
    _acyclic(fleet_graph(engine), cfg.name, cfg.model.upstream)
    return cfg


def _acyclic(graph: Mapping[str, Sequence[str]], name: str, upstream: Sequence[str]) -> None:
    """Refuse ``upstream`` for ``name`` when it closes a loop in the fleet's dependencies
    (an incident's root cause must be somewhere)."""
    edges = {**{k: list(v) for k, v in graph.items()}, name: list(upstream)}
    path: list[str] = []

    def walk(node: str) -> None:
        if node in path:
            loop = " -> ".join([*path[path.index(node):], node])
            raise ConfigError(f"config.model.upstream: the models would depend on each other "
                              f"in a loop ({loop})")
        path.append(node)
        for up in edges.get(node, ()):
            walk(up)
        path.pop()

    walk(name)


def register_model(engine: Engine, name: str, task: str | None,
                   columns: Mapping[str, Any] | None,
                   config: Mapping[str, Any] | None) -> registry.ModelRow:
    """Validate and store a new model (configuration version 1, no reference yet)."""
    mapping = config_mapping(name, task, columns, config)
    cfg = _in_fleet(engine, mapping)
    return registry.create_model(engine, name, cfg.task, mapping)


def update_config(engine: Engine, name: str, config: Mapping[str, Any]) -> registry.ModelRow:
    """Store the next configuration version; refit on the current reference (so a config
    that the reference cannot satisfy is refused here, not at the next window)."""
    model = registry.get_model(engine, name)
    mapping = config_mapping(name, None, None, config)
    if "columns" not in config:
        mapping["columns"] = model.config.get("columns", {})
    if "task" not in mapping["model"]:
        mapping["model"]["task"] = model.task
    cfg = _in_fleet(engine, mapping)
    fitted = None
    if model.reference_version:
        ref = registry.reference(engine, model.id, model.reference_version)
        assert ref is not None
        monitor, _ = _fit(cfg, pq.read_table(io.BytesIO(ref.data)))
        fitted = (model.reference_version, pickle.dumps(monitor), __version__)
    return registry.update_config(engine, name, mapping, fitted)


def _read_body(body: bytes, content_type: str | None, filename: str | None) -> pa.Table:
    suffix = Path(filename).suffix.lower() if filename else ""
    if suffix not in (".csv", ".parquet", ".pq", ".tsv", ".gz"):
        suffix = SUFFIX.get((content_type or "").split(";")[0].strip().lower(), "")
    if not suffix:
        suffix = ".parquet" if body[:4] == b"PAR1" else ".csv"
    with tempfile.TemporaryDirectory(prefix="driftwise-upload-") as tmp:
        path = Path(tmp) / f"reference{suffix}"
        path.write_bytes(body)
        return read_path(path)


def _record_features(cfg: MonitorConfig, monitor: Monitor, table: pa.Table) -> list[str]:
    """The features a record carries: the Monitor's features and the segment columns."""
    c = cfg.columns
    roles = {c.prediction, *c.probability_columns, c.target, c.id, c.timestamp}
    names = list(monitor.features_)
    names += [s for s in c.segments if s not in names]
    return [n for n in names if n not in roles and n in table.column_names]


def _fit(cfg: MonitorConfig, table: pa.Table) -> tuple[Monitor, RecordLayout]:
    monitor = Monitor(cfg).fit(table)
    classes = cfg.columns.probability_classes
    layout = RecordLayout.from_reference(cfg.task, table,
                                         _record_features(cfg, monitor, table), classes)
    return monitor, layout


def upload_reference(engine: Engine, name: str, body: bytes, content_type: str | None = None,
                     filename: str | None = None) -> tuple[int, int]:
    """Read, fit and store a new reference version; returns (version, rows)."""
    if not body:
        raise SchemaError("the reference body is empty: send a Parquet or CSV file")
    model = registry.get_model(engine, name)
    table = _read_body(body, content_type, filename)
    cfg = _validated(model.config)
    monitor, layout = _fit(cfg, table)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    version = registry.put_reference(engine, name, model.config_version, table.num_rows,
                                     layout.to_dict(), sink.getvalue(),
                                     pickle.dumps(monitor), __version__)
    return version, table.num_rows


def fitted_monitor(engine: Engine, model_id: int, config_version: int,
                   reference_version: int) -> Monitor:
    """The Monitor fitted for these versions, with fresh stream state."""
    found = registry.fitted_blob(engine, model_id, config_version, reference_version)
    if found is not None and found[1] == __version__:
        monitor: Monitor = pickle.loads(found[0])  # written by this service, in its store
        return monitor
    ref = registry.reference(engine, model_id, reference_version)
    if ref is None:
        raise ConflictError(f"reference version {reference_version} is gone")
    cfg = _validated(registry.config_of(engine, model_id, config_version))
    monitor, _ = _fit(cfg, pq.read_table(io.BytesIO(ref.data)))
    registry.put_fitted(engine, model_id, config_version, reference_version,
                        pickle.dumps(monitor), __version__)
    return monitor


def layout_of(engine: Engine, model: registry.ModelRow) -> RecordLayout:
    """The record layout of the model's current reference (409 when it has none)."""
    key = (str(engine.url), model.id, model.created_at, model.reference_version)
    if key not in _LAYOUTS:
        found = registry.layout(engine, model.id, model.reference_version) \
            if model.reference_version else None
        if found is None:
            raise ConflictError(f"model {model.name!r} has no reference yet: upload one "
                                f"(PUT /v1/models/{model.name}/reference) before sending "
                                "records")
        _LAYOUTS[key] = RecordLayout.from_dict(found)
    return _LAYOUTS[key]


# A reference version never changes once stored, so its layout can be kept: by store and
# by model creation too, since a model deleted and registered again can get its old id back
# (SQLite reuses the highest id), and one process may serve several stores.
_LAYOUTS: dict[tuple[str, int, float, int], RecordLayout] = {}
