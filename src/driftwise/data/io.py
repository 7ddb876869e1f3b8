"""Turning what users pass (DataFrames, Arrow tables, arrays, CSV/Parquet paths) into Arrow.

Everything downstream works on a :class:`pyarrow.Table`: columnar, typed, with real
nulls, and cheap to get from pandas, polars and NumPy.

A path's type is decided by its final suffix alone (after a compression suffix): ``.csv``
and ``.tsv`` (optionally ``.gz``, ``.bz2``, ``.zst``, ``.lz4``) are CSV, ``.parquet``,
``.pq`` and ``.parq`` Parquet, a folder is a Parquet dataset. Only regular files are read:
a FIFO or a device is refused, never waited on.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from driftwise._text import literal, one_line, short
from driftwise.data.csv import ReadOptions, encoding_hint, read_csv
from driftwise.data.parquet import PARQUET_SUFFIXES, read_parquet_file, read_parquet_folder
from driftwise.errors import InputFileError, InsufficientDataError, SchemaError

__all__ = ["CSV_SUFFIXES", "PARQUET_SUFFIXES", "ReadOptions", "read_path", "require_rows",
           "to_table"]

COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".zstd": "zstd", ".lz4": "lz4"}
UNSUPPORTED_COMPRESSIONS = (".zip", ".xz", ".7z", ".rar", ".tar", ".tgz", ".br")
CSV_SUFFIXES = (".csv", ".tsv")
DEFAULT_READ = ReadOptions()


def file_format(path: Path) -> tuple[str, str | None]:
    """``("csv" | "tsv" | "parquet", compression)`` from the name's final suffix(es)."""
    name = path.name.lower()
    where = one_line(os.fspath(path))
    compression = None
    for suffix, codec in COMPRESSIONS.items():
        if name.endswith(suffix):
            compression, name = codec, name[: -len(suffix)]
            break
    if name.endswith(UNSUPPORTED_COMPRESSIONS) or path.name.lower().endswith(
            UNSUPPORTED_COMPRESSIONS):
        raise InputFileError(f"{where}: archives and this compression are not read; "
                             "decompress it to a .csv or .parquet file first")
    if name.endswith(".csv"):
        return "csv", compression
    if name.endswith(".tsv"):
        return "tsv", compression
    if name.endswith(PARQUET_SUFFIXES):
        if compression is not None:
            raise InputFileError(f"{where}: a Parquet file compresses its own pages; "
                                 "decompress the outer file first")
        return "parquet", None
    raise InputFileError(
        f"{where}: not a CSV or Parquet file name (expected .csv or .tsv, optionally "
        f"compressed {', '.join(COMPRESSIONS)}, or {', '.join(PARQUET_SUFFIXES)}, or a folder "
        "of Parquet files)")


def read_path(path: str | os.PathLike[str], options: ReadOptions | None = None) -> pa.Table:
    """Read a CSV file, a Parquet file, or a folder of Parquet files.

    Raises
    ------
    InputFileError
        The path does not exist, is not a regular file or folder, is not CSV or Parquet,
        or cannot be parsed; the message names the file and what was wrong.
    """
    if not isinstance(path, str | os.PathLike):
        raise InputFileError(f"expected a file path, got {type(path).__name__}")
    # Arrow's allocator keeps freed buffers (an earlier table, decompression pages); give
    # them back around each read so that large inputs do not stack up in memory.
    pool = pa.default_memory_pool()
    pool.release_unused()
    table = _read_any(Path(os.fspath(path)), options or DEFAULT_READ)
    pool.release_unused()
    return _normalise_types(_unique_names(table, one_line(os.fspath(path))))


def _stat(p: Path) -> os.stat_result:
    where = one_line(os.fspath(p))
    try:
        return p.stat()
    except FileNotFoundError:
        raise InputFileError(f"{where}: no such file or folder") from None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputFileError(f"{where}: cannot read ({one_line(reason)})") from None


def _read_any(p: Path, options: ReadOptions) -> pa.Table:
    where = one_line(os.fspath(p))
    info = _stat(p)
    if stat.S_ISDIR(info.st_mode):
        return read_parquet_folder(p)
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError(f"{where}: not a regular file (a FIFO, socket or device is not "
                             "read; write the data to a file first)")
    kind, compression = file_format(p)
    if not os.access(p, os.R_OK):
        raise InputFileError(f"{where}: permission denied")
    try:
        if kind == "parquet":
            return read_parquet_file(p)
        return read_csv(p, compression, kind == "tsv", options)
    except UnicodeError as exc:  # a later block than the sniffed head, in a given encoding
        raise InputFileError(f"{where}: not valid {options.encoding} text ({short(exc)}); "
                             f"{encoding_hint(options.encoding)}") from None
    except pa.ArrowInvalid as exc:
        raise InputFileError(f"{where}: not readable as CSV ({short(exc)})") from None
    except (OSError, EOFError, pa.ArrowException) as exc:
        if compression is not None:
            raise InputFileError(f"{where}: truncated or corrupt {compression} data "
                                 f"({short(exc)})") from None
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else short(exc)
        raise InputFileError(f"{where}: cannot read ({reason})") from None



def _unique_names(table: pa.Table, where: str) -> pa.Table:
    names = table.column_names
    if len(set(names)) != len(names):
        dupes = sorted({c for c in names if names.count(c) > 1})
        raise SchemaError(f"{where}: duplicate column names: "
                          f"{', '.join(literal(d) for d in dupes)}")
    return table


def _normalise_types(table: pa.Table) -> pa.Table:
    """Decode dictionaries and string views so every column has a plain Arrow type.

    A dictionary-encoded column (a pandas ``category``) is declared categorical by its
    author, so non-string dictionary values become string labels: integer codes such
    as a school grade then stay categorical however many distinct values they have.
    Field metadata (missing-value markers found when reading) is kept.
    """
    fields, columns = [], []
    changed = False
    for field, column in zip(table.schema, table.columns, strict=True):
        t = field.type
        if pa.types.is_dictionary(t):
            value_type = t.value_type if pa.types.is_string(t.value_type) or \
                pa.types.is_large_string(t.value_type) else pa.string()
            column = pc.cast(pc.cast(column, t.value_type), value_type)
            changed = True
        elif t in (pa.string_view(), pa.binary_view()):
            column = pc.cast(column, pa.large_string() if t == pa.string_view()
                             else pa.large_binary())
            changed = True
        fields.append(pa.field(field.name, column.type, field.nullable, field.metadata))
        columns.append(column)
    if not changed:
        return table
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, table.schema.metadata))


def to_table(data: Any, options: ReadOptions | None = None) -> pa.Table:
    """Convert a supported input to a :class:`pyarrow.Table`.

    Parameters
    ----------
    data
        A ``pyarrow.Table`` or ``RecordBatch``, a pandas or polars ``DataFrame``, a NumPy
        array (1-D, 2-D or structured; plain columns are named ``x0, x1, ...``), a mapping
        of column name to values, a list of row mappings, or a path to a CSV file, a
        Parquet file or a Parquet folder.
    options
        How CSV files are read (:class:`ReadOptions`).

    Returns
    -------
    pyarrow.Table

    Raises
    ------
    SchemaError
        An input that is not a table (a Series, one array of objects...), columns of
        unequal lengths, names that collide, or a column whose values mix types; the
        message names the column.
    """
    if isinstance(data, str | os.PathLike):
        return read_path(data, options)
    from driftwise.data.parquet_columns import ParquetColumns

    if isinstance(data, ParquetColumns):
        return data.read()
    from driftwise.data.convert import convert

    table = convert(data)
    return _normalise_types(_unique_names(table, "input"))


def require_rows(table: pa.Table, name: str) -> None:
    """Raise :class:`InsufficientDataError` when ``table`` has no rows."""
    if table.num_rows == 0:
        raise InsufficientDataError(f"the {name} sample is empty (0 rows)")


def column_names(names: Sequence[Any] | Mapping[Any, Any]) -> list[str]:
    """Names as strings; two inputs that become the same name are an error naming both."""
    out: dict[str, Any] = {}
    for key in names:
        name = str(key)
        if name in out:
            if out[name] == key and type(out[name]) is type(key):
                raise SchemaError(f"duplicate column names: {literal(name)}")
            raise SchemaError(f"column names {literal(out[name])} and {literal(key)} both "
                              f"become {literal(name)}; rename one")
        out[name] = key
    return list(out)
