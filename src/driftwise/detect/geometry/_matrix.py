"""One boundary check that turns samples of vectors into the 2-D arrays the kernels need."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from driftwise.data.schema import is_vector_type
from driftwise.errors import InsufficientDataError, SchemaError

FloatMatrix = NDArray[np.floating[Any]]


def as_matrix(data: Any, name: str, sample: str, dtype: Any = None) -> FloatMatrix:
    """A finite 2-D float array (rows = samples) from an array, a list of vectors or Arrow.

    Parameters
    ----------
    data
        A 2-D array, a sequence of equal-length vectors, or an Arrow list column.
    name, sample
        The column and the sample ("reference"/"current"), named in errors.
    dtype
        Target dtype; by default float32 inputs stay float32 and everything else becomes
        float64.

    Raises
    ------
    SchemaError
        Ragged vectors, a non-numeric input, or NaN/inf values (with the first bad row).
    InsufficientDataError
        No rows.
    """
    if isinstance(data, pa.ChunkedArray | pa.Array):
        array = vectors_from_arrow(data, name, sample)
    elif isinstance(data, np.ndarray) and data.dtype != object:
        array = data
    else:
        array = _from_sequence(list(data), name, sample)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise SchemaError(
            f"{name!r}: expected one vector per row (a 2-D array), got {array.ndim} dimensions "
            f"in the {sample} sample"
        )
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise SchemaError(f"{name!r}: vectors must hold numbers, got {array.dtype} in the "
                          f"{sample} sample")
    if dtype is None:
        dtype = np.float32 if array.dtype == np.float32 else np.float64
    array = np.ascontiguousarray(array, dtype=dtype)
    if array.shape[0] == 0:
        raise InsufficientDataError(f"{name!r}: the {sample} sample has no vectors")
    finite = np.isfinite(array).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise SchemaError(
            f"{name!r}: {bad.size} vector(s) in the {sample} sample hold NaN or infinite "
            f"values (first at row {int(bad[0])}); drop or repair those rows"
        )
    return array


def _from_sequence(rows: list[Any], name: str, sample: str) -> FloatMatrix:
    lengths = {len(r) if hasattr(r, "__len__") else -1 for r in rows}
    if -1 in lengths:
        raise SchemaError(f"{name!r}: every row of the {sample} sample must be a vector")
    if len(lengths) > 1:
        raise SchemaError(
            f"{name!r}: ragged vectors in the {sample} sample (lengths "
            f"{', '.join(map(str, sorted(lengths)[:5]))}); every vector needs the same length"
        )
    try:
        return np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise SchemaError(f"{name!r}: vectors in the {sample} sample must hold numbers") from None


def vectors_from_arrow(column: pa.ChunkedArray | pa.Array, name: str,
                       sample: str) -> FloatMatrix:
    """Rows of an Arrow list<number> column (or JSON arrays in strings) as a 2-D array.

    Null rows are dropped (they are missing values, counted by the caller); null items
    inside a vector are NaN and rejected by :func:`as_matrix`.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    column = pc.drop_null(column)
    t = column.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _from_json(column.to_pylist(), name, sample)
    if not is_vector_type(t):
        raise SchemaError(f"{name!r}: expected a column of vectors (list<float>), got {t} in "
                          f"the {sample} sample")
    if len(column) == 0:
        return np.empty((0, 0))
    if pa.types.is_fixed_size_list(t):
        width = t.list_size
    else:
        lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
        width = int(lengths[0])
        if not np.all(lengths == width):
            odd = int(np.flatnonzero(lengths != width)[0])
            raise SchemaError(
                f"{name!r}: ragged vectors in the {sample} sample (row 0 has {width} values, "
                f"row {odd} has {int(lengths[odd])}); every vector needs the same length"
            )
    flat = pc.list_flatten(column).to_numpy(zero_copy_only=False)
    matrix: FloatMatrix = flat.astype(np.float64 if flat.dtype != np.float32 else np.float32,
                                      copy=False).reshape(len(column), width)
    return matrix


def _from_json(texts: list[str], name: str, sample: str) -> FloatMatrix:
    rows = []
    for i, text in enumerate(texts):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, list):
            raise SchemaError(
                f"{name!r}: row {i} of the {sample} sample is not a JSON array of numbers "
                f"({text[:40]!r}); CSV files hold vectors as JSON arrays such as [0.1, 0.2]"
            )
        rows.append(value)
    return _from_sequence(rows, name, sample)


def same_width(reference: FloatMatrix, current: FloatMatrix, name: str) -> None:
    """Raise when reference and current vectors differ in dimension."""
    if reference.shape[1] != current.shape[1]:
        raise SchemaError(
            f"{name!r}: the reference vectors have {reference.shape[1]} dimensions but the "
            f"current ones {current.shape[1]}; both samples must come from the same encoder"
        )


def require_samples(n: int, minimum: int, name: str, sample: str, purpose: str) -> None:
    """Raise :class:`InsufficientDataError` when a sample is too small for ``purpose``."""
    if n < minimum:
        raise InsufficientDataError(
            f"{name!r}: the {sample} sample has {n} row(s); {purpose} needs at least {minimum}"
        )
