"""Models, their versioned configurations, their reference versions and fitted Monitors."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from driftwise.errors import ConflictError, NotFoundError
from driftwise.store import schema as s
from driftwise.store.db import reading, writing

__all__ = ["ModelRow", "ReferenceRow", "create_model", "delete_model", "fitted_blob",
           "get_model", "list_models", "put_fitted", "put_reference", "reference",
           "update_config"]


@dataclass(frozen=True)
class ModelRow:
    """A registered model and its current versions."""

    id: int
    name: str
    task: str
    created_at: float
    config_version: int
    reference_version: int
    records: int
    config: dict[str, Any]


@dataclass(frozen=True)
class ReferenceRow:
    """One reference version: its rows, the record layout it implies, its data."""

    version: int
    created_at: float
    rows: int
    layout: dict[str, Any]
    data: bytes


def create_model(engine: Engine, name: str, task: str, config: dict[str, Any]) -> ModelRow:
    """Register ``name`` with configuration version 1 (409 when the name is taken)."""
    now = time.time()
    try:
        with writing(engine) as conn:
            model_id = conn.execute(insert(s.models).values(
                name=name, task=task, created_at=now, config_version=1, reference_version=0,
                next_seq=0).returning(s.models.c.id)).scalar_one()
            conn.execute(insert(s.model_configs).values(
                model_id=model_id, version=1, config=json.dumps(config), created_at=now))
            conn.execute(insert(s.cursors).values(model_id=model_id, next_window=0,
                                                  next_seq=0, state="{}", lease_until=0.0))
    except IntegrityError:
        raise ConflictError(f"a model named {name!r} is already registered") from None
    return get_model(engine, name)


def _row(conn: Any, name: str) -> Any:
    row = conn.execute(select(s.models).where(s.models.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"no model named {name!r}")
    return row


def get_model(engine: Engine, name: str) -> ModelRow:
    """The model ``name`` with its current configuration."""
    with reading(engine) as conn:
        m = _row(conn, name)
        config = conn.execute(select(s.model_configs.c.config).where(
            s.model_configs.c.model_id == m.id,
            s.model_configs.c.version == m.config_version)).scalar_one()
    return ModelRow(m.id, m.name, m.task, m.created_at, m.config_version,
                    m.reference_version, m.next_seq, json.loads(config))


def list_models(engine: Engine) -> list[ModelRow]:
    """Every registered model, by name."""
    with reading(engine) as conn:
        names = conn.execute(select(s.models.c.name).order_by(s.models.c.name)).scalars()
        found = list(names)
    return [get_model(engine, n) for n in found]


def update_config(engine: Engine, name: str, config: dict[str, Any],
                  fitted: tuple[int, bytes, str] | None = None) -> ModelRow:
    """Store ``config`` as the model's next configuration version (with the Monitor fitted
    on the current reference, ``(reference_version, blob, driftwise_version)``)."""
    with writing(engine) as conn:
        m = _row(conn, name)
        version = m.config_version + 1
        conn.execute(insert(s.model_configs).values(model_id=m.id, version=version,
                                                    config=json.dumps(config),
                                                    created_at=time.time()))
        conn.execute(update(s.models).where(s.models.c.id == m.id).values(
            config_version=version, task=config["model"]["task"]))
        if fitted is not None:
            _put_fitted(conn, m.id, version, *fitted)
    return get_model(engine, name)


def delete_model(engine: Engine, name: str) -> None:
    """Delete the model and everything stored for it."""
    with writing(engine) as conn:
        m = _row(conn, name)
        # Children first: SQLite only cascades with foreign_keys on, PostgreSQL always.
        for table in (s.results, s.windows, s.labels, s.records, s.batches, s.cursors,
                      s.quarantine, s.fitted_monitors, s.reference_sets, s.model_configs):
            conn.execute(table.delete().where(table.c.model_id == m.id))
        conn.execute(s.models.delete().where(s.models.c.id == m.id))


def put_reference(engine: Engine, name: str, expected_config: int, rows: int,
                  layout: dict[str, Any], data: bytes, blob: bytes,
                  driftwise_version: str) -> int:
    """Store a new reference version with the Monitor fitted on it; returns its version.

    ``expected_config`` is the configuration version the Monitor was fitted with: if the
    configuration changed meanwhile, the upload is refused (409) rather than stored with a
    Monitor of an old configuration.
    """
    with writing(engine) as conn:
        m = _row(conn, name)
        if m.config_version != expected_config:
            raise ConflictError(f"model {name!r}: its configuration changed while the "
                                "reference was fitted; upload it again")
        version = (conn.execute(select(func.max(s.reference_sets.c.version)).where(
            s.reference_sets.c.model_id == m.id)).scalar() or 0) + 1
        conn.execute(insert(s.reference_sets).values(
            model_id=m.id, version=version, created_at=time.time(), rows=rows,
            features=json.dumps(layout), data=data))
        _put_fitted(conn, m.id, m.config_version, version, blob, driftwise_version)
        conn.execute(update(s.models).where(s.models.c.id == m.id).values(
            reference_version=version))
    return version


def _put_fitted(conn: Any, model_id: int, config_version: int, reference_version: int,
                blob: bytes, driftwise_version: str) -> None:
    conn.execute(insert(s.fitted_monitors).values(
        model_id=model_id, config_version=config_version,
        reference_version=reference_version, blob=blob,
        driftwise_version=driftwise_version))


def put_fitted(engine: Engine, model_id: int, config_version: int, reference_version: int,
               blob: bytes, driftwise_version: str) -> None:
    """Keep a Monitor fitted for (config, reference) versions, e.g. refitted after an
    upgrade of driftwise (replacing the old one)."""
    with writing(engine) as conn:
        conn.execute(s.fitted_monitors.delete().where(
            s.fitted_monitors.c.model_id == model_id,
            s.fitted_monitors.c.config_version == config_version,
            s.fitted_monitors.c.reference_version == reference_version))
        _put_fitted(conn, model_id, config_version, reference_version, blob,
                    driftwise_version)


def fitted_blob(engine: Engine, model_id: int, config_version: int,
                reference_version: int) -> tuple[bytes, str] | None:
    """The fitted Monitor's blob and the driftwise version that wrote it."""
    with reading(engine) as conn:
        row = conn.execute(select(s.fitted_monitors.c.blob,
                                  s.fitted_monitors.c.driftwise_version).where(
            s.fitted_monitors.c.model_id == model_id,
            s.fitted_monitors.c.config_version == config_version,
            s.fitted_monitors.c.reference_version == reference_version)).first()
    return None if row is None else (bytes(row.blob), row.driftwise_version)


def reference(engine: Engine, model_id: int, version: int | None = None) -> ReferenceRow | None:
    """A reference version of the model (the newest by default)."""
    query = select(s.reference_sets).where(s.reference_sets.c.model_id == model_id)
    query = query.where(s.reference_sets.c.version == version) if version is not None else \
        query.order_by(s.reference_sets.c.version.desc()).limit(1)
    with reading(engine) as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return ReferenceRow(row.version, row.created_at, row.rows, json.loads(row.features),
                        bytes(row.data))


def config_of(engine: Engine, model_id: int, version: int) -> dict[str, Any]:
    """A configuration version of the model."""
    with reading(engine) as conn:
        text = conn.execute(select(s.model_configs.c.config).where(
            s.model_configs.c.model_id == model_id,
            s.model_configs.c.version == version)).scalar_one()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def layout(engine: Engine, model_id: int, version: int) -> dict[str, Any] | None:
    """The record layout stored with a reference version (without reading its data)."""
    with reading(engine) as conn:
        text = conn.execute(select(s.reference_sets.c.features).where(
            s.reference_sets.c.model_id == model_id,
            s.reference_sets.c.version == version)).scalar()
    return None if text is None else dict(json.loads(text))


def versions(engine: Engine, model_id: int) -> tuple[int, int, str]:
    """The model's current configuration and reference versions, and its name."""
    with reading(engine) as conn:
        row = conn.execute(select(s.models.c.config_version, s.models.c.reference_version,
                                  s.models.c.name).where(s.models.c.id == model_id)).first()
    if row is None:
        raise NotFoundError(f"no model with id {model_id}")
    return row.config_version, row.reference_version, row.name
