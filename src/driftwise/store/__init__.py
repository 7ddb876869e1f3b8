"""The service's durable store: SQLAlchemy 2 over SQLite (embedded) or PostgreSQL.

``open_store`` creates the engine and applies the migrations; the modules hold one
repository each (``registry``: models, configurations, references; ``records``: ingested
batches and labels; ``evaluation``: leases, windows, results; ``keys``: API keys). The store
knows no statistics.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from driftwise.store.db import default_url, ensure_dir, make_engine, migrate, ready

__all__ = ["open_store", "ready"]


def open_store(database_url: str | None = None, data_dir: Path | None = None, *,
               upgrade: bool = True) -> Engine:
    """The store's engine, migrated to head (the default store is SQLite in ``data_dir``)."""
    if database_url is None:
        directory = data_dir or Path("driftwise-data")
        ensure_dir(directory)
        database_url = default_url(directory)
    engine = make_engine(database_url)
    if upgrade:
        migrate(engine)
    return engine
