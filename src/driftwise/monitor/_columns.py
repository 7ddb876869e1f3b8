"""Pulling a model's outputs and labels out of a window, with clear errors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from driftwise.errors import ConfigError, SchemaError
from driftwise.stream.timestamps import ACCEPTED_FORMS, parse_timestamps

PROBABILITY_SUM_TOLERANCE = 1e-3


def require_columns(table: pa.Table, names: Sequence[str | None], sample: str) -> None:
    """Raise naming every configured column the table lacks."""
    missing = [n for n in names if n is not None and n not in table.column_names]
    if missing:
        raise SchemaError(f"the {sample} sample lacks configured column(s) "
                          f"{', '.join(map(repr, missing))}")


def encode(values: list[str | None], classes: Sequence[str], name: str) -> NDArray[np.int64]:
    """Class indices; unseen classes and missing labels are errors naming the column."""
    index = {c: i for i, c in enumerate(classes)}
    unseen = sorted({v for v in values if v is not None and v not in index})
    if unseen:
        raise SchemaError(f"column {name!r} holds class(es) never seen in the reference: "
                          f"{', '.join(map(repr, unseen[:10]))}")
    if any(v is None for v in values):
        raise SchemaError(f"column {name!r} has missing labels; drop those rows or join the "
                          "labels first")
    return np.fromiter((index[v] for v in values if v is not None), dtype=np.int64,
                       count=len(values))


def probabilities(table: pa.Table, columns: Sequence[str], sample: str) -> NDArray[np.float64]:
    """Probability column(s) as floats in [0, 1]; several columns must sum to 1 per row."""
    arrays: list[NDArray[np.float64]] = []
    for name in columns:
        col = table.column(name)
        if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type)):
            raise SchemaError(f"column {name!r} must hold probabilities, not {col.type}")
        values: NDArray[np.float64] = pc.cast(col, pa.float64()).to_numpy(
            zero_copy_only=False)
        if np.isnan(values).any():
            raise SchemaError(f"column {name!r} has missing probabilities in the {sample} sample")
        if values.min() < 0.0 or values.max() > 1.0:
            raise SchemaError(f"column {name!r} holds values outside [0, 1] in the {sample} "
                              f"sample (min {values.min():g}, max {values.max():g})")
        arrays.append(values)
    if len(arrays) == 1:
        return arrays[0]
    matrix = np.column_stack(arrays)
    sums = matrix.sum(axis=1)
    bad = np.abs(sums - 1.0) > PROBABILITY_SUM_TOLERANCE
    if bad.any():
        raise SchemaError(f"probabilities {', '.join(map(repr, columns))} do not sum to 1 in "
                          f"{int(bad.sum())} row(s) of the {sample} sample (e.g. "
                          f"{sums[bad][0]:.4f})")
    return matrix


def numeric(table: pa.Table, name: str) -> NDArray[np.float64]:
    """A numeric column as floats (regression targets and predictions)."""
    col = table.column(name)
    if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type)):
        raise SchemaError(f"column {name!r} must be numeric for a regression model")
    values: NDArray[np.float64] = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
    if np.isnan(values).any():
        raise SchemaError(f"column {name!r} has missing values")
    return values


def order_classes(found: set[str], task: str, positive_class: str | None) -> tuple[str, ...]:
    """Classes in a stable order (numbers numerically); a binary model's positive last.

    The positive class is ``positive_class``, else ``"1"``, else ``"true"``, else the last
    label in that order.
    """
    classes = sorted(found, key=lambda v: (not v.lstrip("-").isdigit(),
                                           int(v) if v.lstrip("-").isdigit() else 0, v))
    if task != "binary":
        return tuple(classes)
    if positive_class is not None and positive_class not in classes and len(classes) > 1:
        raise ConfigError(f"model.positive_class {positive_class!r} is not a class of the "
                          f"reference (classes: {', '.join(classes) or 'none'})")
    positive = positive_class or ("1" if "1" in classes else "true" if "true" in classes
                                  else classes[-1] if classes else None)
    others = [v for v in classes if v != positive]
    if len(others) > 1:
        raise ConfigError(f"model.task is binary but the reference has classes "
                          f"{', '.join(classes)}")
    if positive is None or not others:
        raise ConfigError(f"the reference holds a single class ({', '.join(classes) or 'none'});"
                          " a binary model needs both in its reference, or set "
                          "model.positive_class")
    return (others[0], positive)


def top_scores(proba: NDArray[np.float64]) -> NDArray[np.float64]:
    """Positive-class probability (binary) or top-label confidence (multiclass)."""
    if proba.ndim == 1:
        return proba
    result: NDArray[np.float64] = proba.max(axis=1)
    return result


def timestamps(table: pa.Table, name: str, context: str) -> pa.ChunkedArray | pa.Array:
    """Column ``name`` as Arrow timestamps: typed ones as they are, dates at midnight, text
    and Unix epoch numbers in any form :func:`driftwise.stream.timestamps.parse_timestamps` reads
    (missing ones null); ``context`` begins the error of a column in no such form."""
    column = table.column(name)
    if pa.types.is_timestamp(column.type):
        return column
    if pa.types.is_date(column.type):
        return pc.cast(column, pa.timestamp("s"))
    kind = column.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)
            or pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        raise SchemaError(f"{context}column {name!r} holds {kind}; store it as a timestamp or "
                          f"date, or as text or epoch numbers ({ACCEPTED_FORMS})")
    values = column.to_numpy(zero_copy_only=False)
    if pa.types.is_integer(kind) and column.null_count:
        values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    parsed = parse_timestamps(values, f"{context}column {name!r}")
    return pa.array(parsed, pa.timestamp("ns"), mask=np.isnat(parsed))
