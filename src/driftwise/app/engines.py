"""Choosing the engine that profiles the data: in memory (default) or Dask."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from driftwise.detect.engine import Engine, InMemoryEngine
from driftwise.errors import UsageError

ENGINES = ("memory", "dask")


@contextmanager
def open_engine(name: str = "memory", *, scheduler: str | None = None,
                workers: int | None = None) -> Iterator[Engine]:
    """The named engine, closed afterwards (a LocalCluster started for it stops)."""
    if name not in ENGINES:
        raise UsageError(f"--engine {name!r}: choose one of {', '.join(ENGINES)}")
    if name == "memory":
        if scheduler is not None or workers is not None:
            raise UsageError("--scheduler and --workers apply to --engine dask only")
        yield InMemoryEngine()
        return
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers}: at least 1")
    if scheduler is not None and workers is not None:
        raise UsageError("--workers starts a LocalCluster; with --scheduler the cluster is "
                         "yours already")
    from driftwise.scale import DaskEngine

    with DaskEngine(scheduler=scheduler, workers=workers) as engine:
        yield engine
