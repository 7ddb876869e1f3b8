"""Extracting the values a test needs from an Arrow column, counting what is missing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

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
    values = arr.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
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


def _labels(values: pa.Array) -> list[str]:
    t = values.type
    if pa.types.is_floating(t):
        nums = values.to_numpy(zero_copy_only=False)
        if bool(np.all(nums == np.round(nums))):
            return [str(int(v)) for v in nums]
        return [repr(float(v)) for v in nums]
    if pa.types.is_boolean(t):
        return ["true" if v else "false" for v in values.to_pylist()]
    return [str(v) for v in values.to_pylist()]


def category_counts(column: pa.ChunkedArray) -> CategoryCounts:
    """Counts per category label. Whole-number floats are labelled like integers."""
    non_null = pc.drop_null(column)
    if pa.types.is_floating(non_null.type):
        non_null = pc.filter(non_null, pc.invert(pc.is_nan(non_null)))
    n_missing = len(column) - len(non_null)
    if len(non_null) == 0:
        return CategoryCounts((), np.zeros(0, dtype=np.int64), n_missing)
    vc = pc.value_counts(non_null)
    labels = _labels(vc.field("values"))
    counts = vc.field("counts").to_numpy(zero_copy_only=False).astype(np.int64)
    # Distinct raw values can share a label (1 and 1.0 across chunks): add them up.
    merged: dict[str, int] = {}
    for label, count in zip(labels, counts.tolist(), strict=True):
        merged[label] = merged.get(label, 0) + count
    return CategoryCounts(
        tuple(merged), np.fromiter(merged.values(), dtype=np.int64, count=len(merged)), n_missing
    )
