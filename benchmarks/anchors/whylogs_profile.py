"""whylogs' profiling throughput on a Parquet file or a folder of Parquet files (the anchor).

Usage: python benchmarks/anchors/whylogs_profile.py REF OUT.json

Runs with the interpreter of benchmarks/.venv-whylogs (whylogs 1.6.4, see
benchmarks/requirements-whylogs.txt). REF is one Parquet file or a folder of them (``*.parquet``,
in name order). The input is read with pyarrow one row group at a time, so memory stays bounded
by the largest row group; every batch is profiled with ``why.log(batch)`` (whylogs' default
schema, all columns) and the batch views are merged into one profile view.

OUT.json records rows, columns, the wall and CPU seconds spent inside whylogs (profiling and
merging; reading and the Arrow to pandas conversion are timed apart), rows per wall second and
rows per CPU second (per core), and the library versions. The caller also times the whole process.
"""

from __future__ import annotations

import os

# whylogs posts usage events unless this variable is set; set it before whylogs is imported.
os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")

import json
import platform
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import whylogs as why
from whylogs.core import DatasetProfileView

VERSIONED = ("whylogs", "whylogs-sketching", "numpy", "pandas", "pyarrow", "scipy")


@dataclass
class Profiled:
    """A merged whylogs profile view and what it cost to build."""

    view: DatasetProfileView
    rows: int
    columns: list[str]
    batches: int
    profile_seconds: float
    profile_cpu_seconds: float
    read_seconds: float


def parquet_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("*.parquet"))
        if not files:
            raise FileNotFoundError(f"no *.parquet file in {path}")
        return files
    return [path]


def batches(path: Path) -> Iterator[pd.DataFrame]:
    """One pandas frame per Parquet row group, file after file."""
    for file in parquet_files(path):
        parquet = pq.ParquetFile(file)
        for group in range(parquet.num_row_groups):
            yield parquet.read_row_group(group).to_pandas()


def profile(path: Path) -> Profiled:
    """Profile every column of the input with whylogs, timing only whylogs' own work."""
    view: DatasetProfileView | None = None
    rows = count = 0
    columns: list[str] = []
    wall = cpu = reading = 0.0
    frames = batches(path)
    while True:
        start = time.perf_counter()
        frame = next(frames, None)
        reading += time.perf_counter() - start
        if frame is None:
            break
        start, start_cpu = time.perf_counter(), time.process_time()
        batch_view = why.log(frame).view()
        view = batch_view if view is None else view.merge(batch_view)
        wall += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
        rows += len(frame)
        count += 1
        columns = columns or [str(c) for c in frame.columns]
    if view is None:
        raise ValueError(f"{path}: no row group to profile")
    return Profiled(view, rows, columns, count, wall, cpu, reading)


def versions() -> dict[str, str]:
    found = {name: metadata.version(name) for name in VERSIONED}
    found["python"] = platform.python_version()
    return found


def summary(profiled: Profiled) -> dict[str, Any]:
    return {
        "rows": profiled.rows,
        "columns": len(profiled.columns),
        "column_names": profiled.columns,
        "batches": profiled.batches,
        "profile_seconds": profiled.profile_seconds,
        "profile_cpu_seconds": profiled.profile_cpu_seconds,
        "read_seconds": profiled.read_seconds,
        "rows_per_second": profiled.rows / profiled.profile_seconds,
        "rows_per_cpu_second": profiled.rows / profiled.profile_cpu_seconds,
    }


def machine() -> dict[str, Any]:
    return {"cpu_count": os.cpu_count(), "usable_cpus": len(os.sched_getaffinity(0))}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    reference, out = Path(argv[0]), Path(argv[1])
    result = {
        "input": str(reference),
        **summary(profile(reference)),
        "machine": machine(),
        "versions": versions(),
    }
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
