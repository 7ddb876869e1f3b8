"""A small synthetic table every scenario applies to, and a direct diff to check them by."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa

ROWS = 600
ONSET = 200
TARGET = "y"


def synthetic_table(rows: int = ROWS, seed: int = 7) -> pa.Table:
    """Floats (with nulls and NaN), integers, a string category whose values share prefixes,
    an integer-coded category, a boolean, and a binary target related to ``x``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    amount = rng.lognormal(3.0, 1.0, rows)
    amount_nulls = np.zeros(rows, dtype=bool)
    amount_nulls[rng.choice(rows, 20, replace=False)] = True
    amount[rng.choice(np.flatnonzero(~amount_nulls), 3, replace=False)] = np.nan
    city = rng.choice(["north-a", "north-b", "south-a", "south-b", "east"], rows).tolist()
    for i in rng.choice(rows, 10, replace=False):
        city[i] = None
    return pa.table({
        "x": x,
        "amount": pa.array(amount, mask=amount_nulls),
        "count": rng.integers(0, 1000, rows),
        "city": city,
        "grade": rng.integers(1, 5, rows),
        "flag": rng.random(rows) < 0.3,
        TARGET: (x + rng.normal(size=rows) > 0.8).astype(np.int64),
    })


def same(a: Any, b: Any) -> bool:
    """Python values equal, null equal to null and NaN to NaN (3 equals 3.0)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def direct_diff(before: pa.Table, after: pa.Table) -> tuple[tuple[str, ...], list[int]]:
    """Columns missing, retyped or with a different value, and the rows with a different
    value in any column present in both, compared value by value in Python."""
    columns: list[str] = []
    rows: set[int] = set()
    for name in before.column_names:
        if name not in after.column_names:
            columns.append(name)
            continue
        old, new = before.column(name).to_pylist(), after.column(name).to_pylist()
        differs = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if not same(a, b)]
        if differs or before.column(name).type != after.column(name).type:
            columns.append(name)
            rows.update(differs)
    return tuple(columns), sorted(rows)


def identical(before: pa.Table, after: pa.Table) -> bool:
    """Same schema and the same values (NaN equal to NaN, which ``Table.equals`` denies)."""
    return before.schema == after.schema and direct_diff(before, after) == ((), [])


def records(data: pa.Table) -> list[tuple[object, ...]]:
    """The rows as tuples, NaN written as a string so that equal records compare equal."""
    columns = [[("nan" if isinstance(v, float) and math.isnan(v) else v)
                for v in data.column(c).to_pylist()] for c in data.column_names]
    return list(zip(*columns, strict=True))
