"""In-memory inputs to Arrow, with errors that name the column at fault.

Arrow's own conversions fail with messages about buffers and types ("Expected bytes, got
a 'int' object"); here each column is converted on its own, so the error says which
column mixes which types, which one is shorter, or which two keys became the same name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from driftwise._text import literal, one_line
from driftwise.errors import SchemaError

__all__ = ["convert"]


def convert(data: Any) -> pa.Table:
    """A table from a pyarrow / pandas / polars / NumPy / mapping / records input."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pa.Array | pa.ChunkedArray):
        raise SchemaError("a single Arrow array is one column without a name: pass a table, "
                          "e.g. pyarrow.table({'x': array})")
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return _from_pandas(data)
    if module == "polars":
        return _from_polars(data)
    if isinstance(data, np.ndarray):
        return _from_numpy(data)
    if isinstance(data, Mapping):
        return _from_mapping(data)
    if isinstance(data, list) and data and all(isinstance(r, Mapping) for r in data):
        return _from_records(data)
    raise SchemaError(
        f"unsupported input of type {type(data).__name__}: pass a pandas/polars DataFrame, "
        "a pyarrow Table, a NumPy array, a mapping of column names to values, a list of "
        "row mappings, or a CSV/Parquet path")


def _column(name: str, values: Any) -> pa.ChunkedArray:
    if isinstance(values, pa.ChunkedArray):
        return values
    if isinstance(values, pa.Array):
        return pa.chunked_array([values])
    module = type(values).__module__.split(".")[0]
    try:
        if module == "pandas" and hasattr(values, "dtype"):
            return pa.chunked_array([pa.Array.from_pandas(values)])
        if module == "polars" and hasattr(values, "to_arrow"):
            return _column(name, values.to_arrow())
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
        raise _mixed(name, list(values), exc) from None
    if isinstance(values, str | bytes) or not hasattr(values, "__len__"):
        raise SchemaError(f"column {literal(name)}: expected a sequence of values, got "
                          f"{literal(values, 40)}")
    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
        raise _mixed(name, values, exc) from None
    return pa.chunked_array([array])


def _mixed(name: str, values: Any, exc: BaseException) -> SchemaError:
    kinds: list[str] = []
    try:
        for value in list(values)[:10_000]:
            if value is None or (isinstance(value, float) and value != value):
                continue
            kind = type(value).__name__
            if kind not in kinds:
                kinds.append(kind)
    except TypeError:
        kinds = []
    if len(kinds) > 1:
        return SchemaError(f"column {literal(name)} mixes value types "
                           f"({', '.join(kinds[:4])}); convert it to one type, e.g. "
                           "df[col].astype(str) or pd.to_numeric(df[col], errors='coerce')")
    return SchemaError(f"column {literal(name)} cannot be read "
                       f"({one_line(str(exc))[:200]})")


def _table(columns: Sequence[tuple[str, pa.ChunkedArray]]) -> pa.Table:
    from driftwise.data.io import column_names

    names = column_names([n for n, _ in columns])
    lengths = {n: len(c) for n, c in columns}
    if len(set(lengths.values())) > 1:
        short = min(lengths, key=lengths.__getitem__)
        long = max(lengths, key=lengths.__getitem__)
        raise SchemaError(f"columns have unequal lengths: {literal(short)} has "
                          f"{lengths[short]:,} values, {literal(long)} has {lengths[long]:,}")
    return pa.Table.from_arrays([c for _, c in columns], names=names)


def _from_mapping(data: Mapping[Any, Any]) -> pa.Table:
    from driftwise.data.io import column_names

    names = column_names(list(data))
    return _table([(name, _column(name, values))
                   for name, values in zip(names, data.values(), strict=True)])


def _from_records(rows: list[Mapping[Any, Any]]) -> pa.Table:
    keys: dict[Any, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return _from_mapping({k: [row.get(k) for row in rows] for k in keys})


def _from_pandas(data: Any) -> pa.Table:
    if not hasattr(data, "columns"):
        raise SchemaError("a pandas Series is one column: pass a DataFrame, e.g. "
                          "series.to_frame() or df[[col]]")
    from driftwise.data.io import column_names

    names = column_names(list(data.columns))
    columns = []
    for name, (_, series) in zip(names, data.items(), strict=True):
        try:
            array = pa.Array.from_pandas(series)
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
            raise _mixed(name, series.tolist(), exc) from None
        columns.append((name, pa.chunked_array([array])))
    return _table(columns)


def _from_polars(data: Any) -> pa.Table:
    if type(data).__name__ == "LazyFrame":
        raise SchemaError("a polars LazyFrame is a query, not data: pass lazy.collect()")
    if type(data).__name__ != "DataFrame":
        raise SchemaError("a polars Series is one column: pass a DataFrame, e.g. "
                          "series.to_frame()")
    table: pa.Table = data.to_arrow()
    return table


def _from_numpy(array: np.ndarray[Any, Any]) -> pa.Table:
    if array.dtype.names:
        return _table([(name, _column(name, array[name])) for name in array.dtype.names])
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise SchemaError(f"a NumPy input must be 1-D or 2-D, got {array.ndim} dimensions")
    return _table([(f"x{i}", _column(f"x{i}", np.ascontiguousarray(array[:, i])))
                   for i in range(array.shape[1])])
