"""Column edits and comparisons the scenario generators share.

Each generator changes a few values and then states exactly what it changed; the statement
comes from :func:`compare`, a direct diff of the input and output tables, so it cannot drift
from what the code did.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from driftwise.data import ColumnKind, category_label, labels
from driftwise.data.schema import is_numeric_type
from driftwise.errors import ConfigError, SchemaError
from driftwise.redteam.scenario import Change, choose_columns, column_kind

#: At least this many finite rows before the onset, or the whole column sets the scale.
REFERENCE_MIN_ROWS = 30


def set_rows(column: pa.ChunkedArray, rows: NDArray[np.int64],
             values: pa.Array | pa.Scalar) -> pa.Array:
    """``column`` with ``rows`` set to ``values`` (one scalar, or one value per row hit)."""
    mask = np.zeros(len(column), dtype=bool)
    mask[rows] = True
    if not isinstance(values, pa.Scalar):
        spread = np.zeros(len(column), dtype=np.int64)
        spread[rows] = np.arange(len(rows))
        values = pc.take(values, pa.array(spread))
    return pc.if_else(pa.array(mask), values, column.combine_chunks())


# -- parameters ---------------------------------------------------------------------
def check_names(value: str | Sequence[str] | None, param: str,
                scenario: str) -> list[str] | None:
    """``None``, or the column names given (one name may be passed as a string)."""
    if value is None:
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, Sequence) or not names or \
            not all(isinstance(n, str) for n in names):
        raise ConfigError(f"scenario {scenario!r}: {param} must be a column name or a "
                          f"non-empty list of names, got {value!r}")
    return list(names)


def check_int(value: Any, param: str, scenario: str, minimum: int = 1) -> int:
    """``value`` as an int of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"scenario {scenario!r}: {param} must be an integer >= {minimum}, "
                          f"got {value!r}")
    return int(value)


def check_number(value: Any, param: str, scenario: str) -> float:
    """``value`` as a finite float."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) \
            or not math.isfinite(float(value)):
        raise ConfigError(f"scenario {scenario!r}: {param} must be a finite number, "
                          f"got {value!r}")
    return float(value)


# -- numbers ------------------------------------------------------------------------
def float_values(table: pa.Table, name: str) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """A numeric column as float64 (NaN where null) and its null mask."""
    column = table.column(name).combine_chunks()
    nulls: NDArray[np.bool_] = np.asarray(pc.is_null(column), dtype=bool)
    values: NDArray[np.float64] = np.asarray(
        pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64).copy()
    return values, nulls


def float_column(values: NDArray[np.float64], nulls: NDArray[np.bool_]) -> pa.Array:
    """A float64 Arrow array, null where ``nulls`` (a NaN that was a value stays NaN)."""
    return pa.array(values, type=pa.float64(), mask=nulls)


def reference_values(values: NDArray[np.float64], onset: int) -> NDArray[np.float64]:
    """The finite values that set a column's scale: the rows before the onset when at least
    :data:`REFERENCE_MIN_ROWS` of them are finite, else the whole column's."""
    before = values[:onset][np.isfinite(values[:onset])]
    if len(before) >= REFERENCE_MIN_ROWS:
        return before
    whole: NDArray[np.float64] = values[np.isfinite(values)]
    return whole


def reference_sd(values: NDArray[np.float64], onset: int, name: str, scenario: str) -> float:
    """The standard deviation of :func:`reference_values`; an error when it is 0."""
    ref = reference_values(values, onset)
    sd = float(np.std(ref, ddof=1)) if len(ref) > 1 else 0.0
    if not sd > 0.0:
        raise SchemaError(f"scenario {scenario!r}: column {name!r} is constant (or has fewer "
                          "than two values): a shift in standard deviations is undefined")
    return sd


# -- what changed -------------------------------------------------------------------
def differing(before: pa.ChunkedArray | pa.Array,
              after: pa.ChunkedArray | pa.Array) -> NDArray[np.bool_]:
    """Per row, whether ``after`` differs from ``before`` (null vs null and NaN vs NaN are
    equal; numbers of different types compare by value)."""
    if before.type != after.type and is_numeric_type(before.type) and \
            is_numeric_type(after.type):
        before, after = pc.cast(before, pa.float64()), pc.cast(after, pa.float64())
    try:
        same = pc.fill_null(pc.equal(before, after), False)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        olds, news = before.to_pylist(), after.to_pylist()
        return np.array([a != b for a, b in zip(olds, news, strict=True)], dtype=bool)
    same = pc.or_(same, pc.and_(pc.is_null(before), pc.is_null(after)))
    if pa.types.is_floating(before.type):
        same = pc.or_(same, pc.and_(pc.fill_null(pc.is_nan(before), False),
                                    pc.fill_null(pc.is_nan(after), False)))
    result: NDArray[np.bool_] = ~np.asarray(same, dtype=bool)
    return result


def compare(before: pa.Table, after: pa.Table) -> tuple[tuple[str, ...], NDArray[np.int64]]:
    """What changed between two tables of the same rows, by a direct diff.

    Returns
    -------
    (tuple of str, ndarray of int64)
        The columns of ``before`` that are missing from ``after``, changed type, or hold a
        different value in some row (input order), and the sorted rows whose values differ
        in any column present in both (a number compared by value when only its type
        changed; columns that turned from numbers into text add no rows: their scenario
        says which rows it counts).
    """
    columns: list[str] = []
    rows = np.zeros(before.num_rows, dtype=bool)
    for name in before.column_names:
        if name not in after.column_names:
            columns.append(name)
            continue
        old, new = before.column(name), after.column(name)
        comparable = old.type == new.type or (is_numeric_type(old.type)
                                              and is_numeric_type(new.type))
        diff = differing(old, new) if comparable else np.zeros(len(old), dtype=bool)
        if old.type != new.type or diff.any():
            columns.append(name)
            rows |= diff
    return tuple(columns), np.flatnonzero(rows).astype(np.int64)


def changes(before: pa.Table, after: pa.Table, description: str,
            params: dict[str, Any]) -> Change:
    """The :class:`Change` from ``before`` to ``after``, measured by :func:`compare`;
    ``description`` may hold ``{rows}`` (the number of rows changed)."""
    columns, rows = compare(before, after)
    return Change(after, columns, rows, description.replace("{rows}", str(len(rows))),
                  params)


def quoted(names: Sequence[str]) -> str:
    """``'a', 'b' and 'c'``."""
    items = [repr(n) for n in names]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def plain(value: Any) -> Any:
    """A NumPy scalar as the Python value (JSON-ready params)."""
    return value.item() if isinstance(value, np.generic) else value


def span(onset: int, rows: int) -> str:
    """``"the 400 rows from row 200"`` in words."""
    after = rows - onset
    return f"the {after} row{'s' if after != 1 else ''} from row {onset}"


# -- targets and segments -------------------------------------------------------------
#: A segment's value must hold at least this share of the rows after the onset.
SEGMENT_MIN_SHARE = 0.05


def target_task(table: pa.Table, target: str, scenario: str) -> str:
    """``"classification"`` (a categorical or boolean target) or ``"regression"``."""
    kind = column_kind(table, target)
    if kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
        return "classification"
    if kind == ColumnKind.NUMERIC:
        return "regression"
    raise SchemaError(f"scenario {scenario!r}: the target {target!r} is {kind.value}; it must "
                      "be categorical or boolean (classification) or numeric (regression)")


@dataclass(frozen=True)
class Segment:
    """Rows picked by one column: ``column == value`` (a category's label) or, for a numeric
    column, ``column > value``."""

    column: str
    value: Any
    mask: NDArray[np.bool_]
    words: str


def segment_values(table: pa.Table, name: str, onset: int) -> list[str]:
    """The sorted labels of ``name`` that hold at least :data:`SEGMENT_MIN_SHARE` of the
    rows after the onset, but not all of them."""
    counts = Counter(v for v in labels(table.column(name).slice(onset)) if v is not None)
    total = table.num_rows - onset
    return sorted(v for v, c in counts.items() if SEGMENT_MIN_SHARE * total <= c < total)


def category_segment(table: pa.Table, pool: Sequence[str], onset: int,
                     rng: np.random.Generator, scenario: str, *, column: str | None,
                     value: Any) -> Segment:
    """The rows of one category of a categorical (or boolean) column: as given, or a seeded
    column of ``pool`` and value among :func:`segment_values`."""
    kinds = (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN)
    if column is None:
        candidates = [c for c in pool if column_kind(table, c) in kinds
                      and segment_values(table, c, onset)]
        if not candidates:
            raise SchemaError(f"scenario {scenario!r} needs a categorical column with a value "
                              f"on at least {SEGMENT_MIN_SHARE:.0%} (and not all) of the rows "
                              "after the onset; the data has none")
        column = candidates[int(rng.integers(len(candidates)))]
    else:
        choose_columns(table, [], kinds, 1, rng, scenario, given=[column])
    row_labels = np.array(labels(table.column(column)), dtype=object)
    if value is None:
        options = segment_values(table, column, onset)
        if not options:
            raise SchemaError(f"scenario {scenario!r}: no value of column {column!r} holds "
                              f"{SEGMENT_MIN_SHARE:.0%} (and not all) of the rows after the "
                              "onset; pass value=")
        label = options[int(rng.integers(len(options)))]
    else:
        given = category_label(value)
        if given is None or not np.any(row_labels[onset:] == given):
            seen = sorted({v for v in row_labels[onset:].tolist() if v is not None})[:10]
            raise SchemaError(f"scenario {scenario!r}: value {value!r} of column {column!r} "
                              f"is not in the rows after the onset (values: "
                              f"{', '.join(seen)})")
        label = given
    return Segment(column, label, np.asarray(row_labels == label, dtype=bool),
                   f"{column} = {label!r}")


def numeric_segment(table: pa.Table, pool: Sequence[str], rng: np.random.Generator,
                    scenario: str, *, column: str | None, value: Any) -> Segment:
    """The rows where a numeric column is above ``value`` (default: its median)."""
    column = choose_columns(table, pool, [ColumnKind.NUMERIC], 1, rng, scenario,
                            given=None if column is None else [column])[0]
    values, _ = float_values(table, column)
    finite = values[np.isfinite(values)]
    if value is None:
        threshold, words = float(np.median(finite)), f"{column} > {np.median(finite):.4g} " \
            "(its median)"
    else:
        threshold = check_number(value, "value", scenario)
        words = f"{column} > {threshold:.4g}"
    with np.errstate(invalid="ignore"):
        mask = np.asarray(values > threshold, dtype=bool)
    return Segment(column, threshold, mask, words)
