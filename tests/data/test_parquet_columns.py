"""Parquet read one column at a time: the same columns, types and report as read whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftwise.data import to_table
from driftwise.data.parquet_columns import ParquetColumns, is_parquet_path
from driftwise.detect import DriftDetector
from driftwise.errors import InputFileError


def _folder(root: Path, shift: float, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    for region in ("east", "west"):
        part = root / f"region={region}"
        part.mkdir(parents=True)
        n = 3_000
        pq.write_table(pa.table({
            "x": rng.normal(shift, 1.0, n),
            "plan": pa.array(rng.choice(["basic", "plus"], n)).dictionary_encode(),
            "note": pa.array([f"t{i % 7}" for i in range(n)], pa.string_view()),
        }), part / "part.parquet", row_group_size=1_000)
    return root


def test_columns_match_the_table_read_whole(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "ref", 0.0, 1)
    lazy, whole = ParquetColumns(folder), to_table(folder)
    assert is_parquet_path(folder) and not is_parquet_path(tmp_path / "absent")
    assert lazy.column_names == whole.column_names and lazy.num_rows == whole.num_rows
    assert lazy.schema == whole.schema
    for name in whole.column_names:
        assert lazy.column(name).equals(whole.column(name)), name
    idx = pa.array([0, 5, 5_999, 17])
    assert lazy.take(idx).equals(whole.take(idx))
    assert lazy.select(["x"]).read().equals(whole.select(["x"]))


def test_a_report_on_columns_equals_the_report_on_tables(tmp_path: Path) -> None:
    ref, cur = _folder(tmp_path / "ref", 0.0, 2), _folder(tmp_path / "cur", 0.3, 3)
    lazy = DriftDetector().fit(ref).compare(cur).to_dict()
    whole = DriftDetector().fit(to_table(ref)).compare(to_table(cur)).to_dict()
    assert lazy["columns"] == whole["columns"]
    assert lazy["dataset_drift"] == whole["dataset_drift"]


def test_a_damaged_file_names_itself(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1" + b"\0" * 64)
    with pytest.raises(InputFileError, match=r"bad\.parquet: not readable as Parquet"):
        ParquetColumns(bad)
