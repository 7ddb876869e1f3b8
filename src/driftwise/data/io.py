"""Turning what users pass (DataFrames, Arrow tables, arrays, CSV/Parquet paths) into Arrow.

Everything downstream works on a :class:`pyarrow.Table`: columnar, typed, with real
nulls, and cheap to get from pandas, polars and NumPy.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftwise.errors import InputFileError, InsufficientDataError, SchemaError

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".tsv", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_PARQUET_MAGIC = b"PAR1"


def _is_parquet_file(path: Path) -> bool:
    if path.name.lower().endswith(PARQUET_SUFFIXES):
        return True
    try:
        with path.open("rb") as fh:
            return fh.read(4) == _PARQUET_MAGIC
    except OSError:
        return False


def _read_csv(path: Path) -> pa.Table:
    from pyarrow import csv

    delimiter = "\t" if ".tsv" in path.name.lower() else ","
    if not path.name.lower().endswith((".gz", ".bz2")):
        with path.open("rb") as fh:
            if b"\x00" in fh.read(65536):
                raise InputFileError(f"{path}: binary content, not a CSV text file")
    try:
        # Empty fields are missing values in strings too, as in every spreadsheet and pandas.
        return csv.read_csv(path, parse_options=csv.ParseOptions(delimiter=delimiter),
                            convert_options=csv.ConvertOptions(strings_can_be_null=True))
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: not readable as CSV ({exc})") from None


def _read_parquet(path: Path) -> pa.Table:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFileError(f"{path}: not readable as Parquet ({exc})") from None


def read_path(path: str | os.PathLike[str]) -> pa.Table:
    """Read a CSV file, a Parquet file, or a folder of Parquet files.

    Raises
    ------
    InputFileError
        The path does not exist, is not CSV or Parquet, or cannot be parsed.
    """
    # Arrow's allocator keeps freed buffers (an earlier table, decompression pages); give
    # them back around each read so that large inputs do not stack up in memory.
    pool = pa.default_memory_pool()
    pool.release_unused()
    table = _read_any(Path(path))
    pool.release_unused()
    return table


def _read_any(p: Path) -> pa.Table:
    if not p.exists():
        raise InputFileError(f"{p}: no such file or folder")
    if p.is_dir():
        if not any(f.name.lower().endswith(PARQUET_SUFFIXES) for f in p.rglob("*")):
            raise InputFileError(f"{p}: a folder must hold Parquet files (*.parquet)")
        return _read_parquet(p)
    if not os.access(p, os.R_OK):
        raise InputFileError(f"{p}: permission denied")
    if _is_parquet_file(p):
        return _read_parquet(p)
    if p.name.lower().endswith(CSV_SUFFIXES):
        return _read_csv(p)
    raise InputFileError(
        f"{p}: not a CSV or Parquet file (expected one of "
        f"{', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)}, or a folder of Parquet files)"
    )


def _from_numpy(array: np.ndarray[Any, Any]) -> pa.Table:
    if array.dtype.names:
        return pa.table({name: array[name] for name in array.dtype.names})
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise SchemaError(f"a NumPy input must be 1-D or 2-D, got {array.ndim} dimensions")
    return pa.table({f"x{i}": np.ascontiguousarray(array[:, i]) for i in range(array.shape[1])})


def _normalise_types(table: pa.Table) -> pa.Table:
    """Decode dictionaries and string views so every column has a plain Arrow type.

    A dictionary-encoded column (a pandas ``category``) is declared categorical by its
    author, so non-string dictionary values become string labels: integer codes such
    as a school grade then stay categorical however many distinct values they have.
    """
    columns = []
    changed = False
    for column in table.columns:
        t = column.type
        if pa.types.is_dictionary(t):
            value_type = t.value_type if pa.types.is_string(t.value_type) or \
                pa.types.is_large_string(t.value_type) else pa.string()
            column = pc.cast(pc.cast(column, t.value_type), value_type)
            changed = True
        elif t == pa.string_view():
            column = pc.cast(column, pa.large_string())
            changed = True
        columns.append(column)
    return pa.table(columns, names=table.column_names) if changed else table


def to_table(data: Any) -> pa.Table:
    """Convert a supported input to a :class:`pyarrow.Table`.

    Parameters
    ----------
    data
        A ``pyarrow.Table``, a pandas or polars ``DataFrame``, a NumPy array (1-D, 2-D
        or structured; plain columns are named ``x0, x1, ...``), a mapping of column
        name to array, or a path to a CSV file, a Parquet file or a Parquet folder.

    Returns
    -------
    pyarrow.Table
    """
    if isinstance(data, pa.Table):
        table = data
    elif isinstance(data, str | os.PathLike):
        table = read_path(data)
    elif isinstance(data, np.ndarray):
        table = _from_numpy(data)
    elif isinstance(data, dict):
        table = pa.table({str(k): v for k, v in data.items()})
    elif hasattr(data, "to_arrow") and type(data).__module__.startswith("polars"):
        table = data.to_arrow()
    elif type(data).__module__.startswith("pandas"):
        table = pa.Table.from_pandas(data, preserve_index=False)
    else:
        raise SchemaError(
            f"unsupported input of type {type(data).__name__}: pass a pandas/polars "
            "DataFrame, a pyarrow Table, a NumPy array or a CSV/Parquet path"
        )
    if len(set(table.column_names)) != len(table.column_names):
        dupes = sorted({c for c in table.column_names if table.column_names.count(c) > 1})
        raise SchemaError(f"duplicate column names: {', '.join(dupes)}")
    return _normalise_types(table)


def require_rows(table: pa.Table, name: str) -> None:
    """Raise :class:`InsufficientDataError` when ``table`` has no rows."""
    if table.num_rows == 0:
        raise InsufficientDataError(f"the {name} sample is empty (0 rows)")
