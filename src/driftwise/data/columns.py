"""Extracting the values a test needs from an Arrow column, counting what is missing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from driftwise.data._arrow import numpy_values
from driftwise.data.schema import is_numeric_type, type_family
from driftwise.errors import SchemaError

MISSING_LABEL = None


@dataclass(frozen=True)
class NumericValues:
    """The finite values of a numeric column (unsorted) and how many were missing."""

    values: NDArray[np.float64]
    n_missing: int


@dataclass(frozen=True)
class CategoryCounts:
    """Category labels (as strings), their counts, and how many values were missing."""

    labels: tuple[str, ...]
    counts: NDArray[np.int64]
    n_missing: int


def _sample_values(column: pa.ChunkedArray, limit: int = 3) -> str:
    vals = pc.drop_null(column).slice(0, 200).to_pylist()
    seen: list[str] = []
    for v in vals:
        text = repr(v)
        if text not in seen:
            seen.append(text)
        if len(seen) == limit:
            break
    return ", ".join(seen)


def numeric_values(name: str, column: pa.ChunkedArray, sample: str) -> NumericValues:
    """Finite float64 values of a numeric column; NaN and null count as missing.

    Raises
    ------
    SchemaError
        The column is not numeric, or holds infinite values.
    """
    t = column.type
    if pa.types.is_null(t):
        return NumericValues(np.empty(0), len(column))
    if pa.types.is_boolean(t):
        column = pc.cast(column, pa.int8())
    elif not is_numeric_type(t):
        raise SchemaError(
            f"column {name!r} is numeric in the reference but {type_family(t)} in the "
            f"{sample} sample (values such as {_sample_values(column)}); fix the data, or "
            f"declare the column categorical"
        )
    arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    values = numpy_values(arr).astype(np.float64, copy=False)
    missing = np.isnan(values)
    n_missing = int(missing.sum())
    if n_missing:
        values = values[~missing]
    if not np.all(np.isfinite(values)):
        n_inf = int(np.count_nonzero(np.isinf(values)))
        raise SchemaError(
            f"column {name!r} holds {n_inf} infinite value(s) in the {sample} sample; "
            "replace them (e.g. with missing values) or exclude the column"
        )
    return NumericValues(values, n_missing)


def category_label(value: object) -> str | None:
    """The label of one category value: the one rule every part of driftwise uses.

    Missing (None, NaN) -> ``None``; booleans -> ``"true"``/``"false"``; whole-number floats
    and decimals read like integers (``1.0`` -> ``"1"``, so a column stored as integers in
    one file and as floats in another keeps its labels); other floats by their shortest
    round-tripping form (``2.5`` -> ``"2.5"``); everything else by ``str``.

    Examples
    --------
    >>> [category_label(v) for v in (1.0, 2.5, True, None, float("nan"), 7, "a")]
    ['1', '2.5', 'true', None, None, '7', 'a']
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        if value.is_nan():
            return None
        return str(int(value)) if value == value.to_integral_value() else \
            format(value.normalize(), "f")
    return str(value)


def labels(column: pa.ChunkedArray | pa.Array) -> list[str | None]:
    """Every row's category label (:func:`category_label`), computed once per distinct value."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(array) == 0:
        return []
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    encoded = pc.dictionary_encode(array)
    names = [category_label(v) for v in encoded.dictionary.to_pylist()]
    lookup = np.array([*names, None], dtype=object)
    index = numpy_values(pc.fill_null(encoded.indices, len(names)))
    result: list[str | None] = lookup[index].tolist()
    return result


def category_counts(column: pa.ChunkedArray) -> CategoryCounts:
    """Counts per category label (:func:`category_label`)."""
    non_null = pc.drop_null(column)
    if pa.types.is_floating(non_null.type):
        non_null = pc.filter(non_null, pc.invert(pc.is_nan(non_null)))
    n_missing = len(column) - len(non_null)
    if len(non_null) == 0:
        return CategoryCounts((), np.zeros(0, dtype=np.int64), n_missing)
    vc = pc.value_counts(non_null)
    names = [category_label(v) for v in vc.field("values").to_pylist()]
    counts = numpy_values(vc.field("counts")).astype(np.int64)
    # Distinct raw values can share a label (1 and 1.0 across chunks): add them up.
    merged: dict[str, int] = {}
    for label, count in zip(names, counts.tolist(), strict=True):
        assert label is not None  # missing values were dropped above
        merged[label] = merged.get(label, 0) + count
    return CategoryCounts(
        tuple(merged), np.fromiter(merged.values(), dtype=np.int64, count=len(merged)), n_missing
    )
