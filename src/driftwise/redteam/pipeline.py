"""Pipeline bugs that corrupt values: what a broken join, export or unit conversion does.

Unless a class says otherwise, intensity is the share of the rows after the onset that the
bug hits (:func:`~driftwise.redteam.scenario.rows_hit`, seeded); every other row, and every
row before the onset, is left as it was.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftwise.data import ColumnKind
from driftwise.data.schema import is_string_type
from driftwise.errors import ConfigError, SchemaError
from driftwise.redteam._columns import (
    changes,
    check_int,
    check_names,
    check_number,
    float_column,
    float_values,
    plain,
    quoted,
    set_rows,
    span,
)
from driftwise.redteam.scenario import (
    VALUE_KINDS,
    Change,
    Scenario,
    choose_columns,
    column_kind,
    replace_column,
    rows_hit,
)

ANY_KIND = tuple(ColumnKind)
#: Two numeric columns differ in distribution when their means are this many pooled sd
#: apart, or one sd is this many times the other.
SWAP_MEAN_GAP = 0.5
SWAP_SD_RATIO = 1.5


def one_column(scenario: Scenario, table: pa.Table, features: list[str],
               kinds: Sequence[ColumnKind], rng: np.random.Generator,
               column: str | None) -> str:
    """The column given (checked against ``kinds``) or a seeded one from ``features``."""
    if column is not None and not isinstance(column, str):
        raise ConfigError(f"scenario {scenario.name!r}: column must be a column name, "
                          f"got {column!r}")
    return choose_columns(table, features, kinds, 1, rng, scenario.name,
                          given=None if column is None else [column])[0]


def merge_length(values: Sequence[str]) -> int | None:
    """The largest length at which two distinct ``values`` have the same prefix, if any.

    Examples
    --------
    >>> merge_length(["north-a", "north-b", "east"]), merge_length(["a", "b"])
    (6, None)
    """
    distinct = sorted(set(values))
    shared = [len(_common_prefix(a, b)) for a, b in itertools.pairwise(distinct)]
    longest = max(shared, default=0)
    return longest or None


def _common_prefix(a: str, b: str) -> str:
    """The longest common prefix of two strings."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


class CategoryTruncation(Scenario):
    """A string category cut short (a narrow database column), merging categories.

    In an ``intensity`` share of the rows after the onset (seeded: the rows hit), the values
    of a string categorical column are cut to ``length`` characters (default: the largest
    length at which at least two of its categories merge, such as ``north-a`` and
    ``north-b`` into ``north-``). Values no longer than that, and nulls, are unchanged. Data
    without a string categorical column whose categories share a prefix raise
    :class:`SchemaError`.

    Parameters
    ----------
    column : str, optional
        The string categorical column (default: a seeded one whose categories can merge).
    length : int, optional
        The number of characters kept, at least 1.
    """

    name = "category_truncation"
    kind = "pipeline"
    summary = "a string category is cut short, merging categories"
    intensity_means = "share of the rows after the onset whose value is truncated"

    def __init__(self, column: str | None = None, length: int | None = None) -> None:
        self.column = column
        self.length = length

    def check_params(self) -> None:
        if self.length is not None:
            check_int(self.length, "length", self.name)

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        def mergeable(name: str) -> bool:
            return is_string_type(table.column(name).type) and \
                merge_length(self._categories(table, name)) is not None

        if self.column is None:
            pool = [c for c in features if column_kind(table, c) == ColumnKind.CATEGORICAL
                    and mergeable(c)]
            if not pool:
                raise SchemaError(f"scenario {self.name!r} needs a string categorical column "
                                  "whose categories share a prefix; the data has none")
            column = pool[int(rng.integers(len(pool)))]
        else:
            column = one_column(self, table, features, [ColumnKind.CATEGORICAL], rng,
                                 self.column)
            if not is_string_type(table.column(column).type):
                raise SchemaError(f"scenario {self.name!r}: column {column!r} is "
                                  f"{table.column(column).type}, not text: nothing to cut")
        categories = self._categories(table, column)
        length = self.length if self.length is not None else merge_length(categories)
        if length is None:
            raise SchemaError(f"scenario {self.name!r}: no two categories of column "
                              f"{column!r} share a prefix; pass length=")
        if all(len(c) <= length for c in categories):
            raise SchemaError(f"scenario {self.name!r}: every value of column {column!r} is at "
                              f"most {length} characters: length={length} cuts nothing")
        hit = rows_hit(table.num_rows, onset, intensity, rng)
        cut = pc.utf8_slice_codeunits(pc.take(table.column(column), pa.array(hit)), 0, length)
        out = replace_column(table, column, set_rows(table.column(column), hit, cut))
        groups: dict[str, list[str]] = {}
        for c in categories:
            groups.setdefault(c[:length], []).append(c)
        merged = [f"{' + '.join(g)} -> {p!r}" for p, g in groups.items() if len(g) > 1]
        return changes(table, out, f"{column!r} cut to {length} characters in {len(hit)} of "
                       f"{span(onset, table.num_rows)} ({'; '.join(merged[:3]) or 'no merge'}"
                       f"; {{rows}} rows changed)",
                       {"column": column, "length": length, "rows_hit": len(hit),
                        "merged": {p: g for p, g in groups.items() if len(g) > 1}})

    @staticmethod
    def _categories(table: pa.Table, name: str) -> list[str]:
        return sorted(v for v in pc.unique(table.column(name)).to_pylist() if v is not None)


class UnitChange(Scenario):
    """A unit change upstream: a numeric column arrives multiplied by a factor.

    In an ``intensity`` share of the rows after the onset (seeded: the rows hit), the
    column's values are multiplied by ``factor`` (1000: metres sent as millimetres; 0.01: a
    percentage sent as a share). The column becomes float64; nulls, NaN and zeros are
    unchanged.

    Parameters
    ----------
    column : str, optional
        The numeric column (default: a seeded numeric feature).
    factor : float
        The multiplier, positive and not 1.
    """

    name = "unit_change"
    kind = "pipeline"
    summary = "a numeric column arrives in another unit (multiplied by a factor)"
    intensity_means = "share of the rows after the onset in the new unit"

    def __init__(self, column: str | None = None, factor: float = 1000.0) -> None:
        self.column = column
        self.factor = factor

    def check_params(self) -> None:
        factor = check_number(self.factor, "factor", self.name)
        if factor <= 0.0 or factor == 1.0:
            raise ConfigError(f"scenario {self.name!r}: factor must be positive and not 1, "
                              f"got {self.factor!r}")

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        column = one_column(self, table, features, [ColumnKind.NUMERIC], rng, self.column)
        hit = rows_hit(table.num_rows, onset, intensity, rng)
        values, nulls = float_values(table, column)
        values[hit] *= float(self.factor)
        out = replace_column(table, column, float_column(values, nulls))
        return changes(table, out, f"{column!r} multiplied by {float(self.factor):g} in "
                       f"{len(hit)} of {span(onset, table.num_rows)} ({{rows}} rows changed)",
                       {"column": column, "rows_hit": len(hit)})


class NullStorm(Scenario):
    """A null storm: a source fails and columns arrive empty.

    In an ``intensity`` share of the rows after the onset (seeded; the same rows for every
    chosen column), the values are set to null. Values already null are unchanged; a NaN
    becomes null.

    Parameters
    ----------
    columns : str or list of str, optional
        The columns to empty, of any kind (default: ``count`` seeded numeric, categorical
        or boolean features).
    count : int
        How many columns to draw when ``columns`` is not given.
    """

    name = "null_storm"
    kind = "pipeline"
    summary = "columns arrive empty (null) in a share of the rows"
    intensity_means = "share of the rows after the onset whose values are null"

    def __init__(self, columns: str | Sequence[str] | None = None, count: int = 1) -> None:
        self.columns = columns
        self.count = count

    def check_params(self) -> None:
        check_names(self.columns, "columns", self.name)
        check_int(self.count, "count", self.name)

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        given = check_names(self.columns, "columns", self.name)
        names = choose_columns(table, features, VALUE_KINDS if given is None else ANY_KIND,
                               self.count, rng, self.name, given=given)
        hit = rows_hit(table.num_rows, onset, intensity, rng)
        out = table
        for name in names:
            column = table.column(name)
            out = replace_column(out, name, set_rows(column, hit, pa.scalar(None, column.type)))
        return changes(table, out, f"{quoted(names)} set to null in {len(hit)} of "
                       f"{span(onset, table.num_rows)} ({{rows}} rows changed)",
                       {"columns": names, "rows_hit": len(hit)})


class SwappedColumns(Scenario):
    """Two numeric columns swapped (a schema mapped by position after a reorder).

    In an ``intensity`` share of the rows after the onset (seeded), two numeric columns
    exchange their values. By default the pair is seeded among the pairs whose distributions
    differ (means at least 0.5 pooled sd apart, or one sd at least 1.5 times the other), so
    the swap is visible. Both become float64 when their types differ; rows whose two values
    are equal are unchanged.

    Parameters
    ----------
    columns : list of two str, optional
        The two numeric columns to swap.
    """

    name = "swapped_columns"
    kind = "pipeline"
    summary = "two numeric columns exchange their values"
    intensity_means = "share of the rows after the onset whose two values are swapped"

    def __init__(self, columns: Sequence[str] | None = None) -> None:
        self.columns = columns

    def check_params(self) -> None:
        names = check_names(self.columns, "columns", self.name)
        if names is not None and (len(names) != 2 or names[0] == names[1]):
            raise ConfigError(f"scenario {self.name!r}: columns must name two different "
                              f"columns, got {self.columns!r}")

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        given = check_names(self.columns, "columns", self.name)
        if given is not None:
            a, b = choose_columns(table, features, [ColumnKind.NUMERIC], 2, rng, self.name,
                                  given=given)
        else:
            a, b = self._pair(table, features, onset, rng)
        hit = rows_hit(table.num_rows, onset, intensity, rng)
        col_a, col_b = table.column(a), table.column(b)
        if col_a.type != col_b.type:
            col_a, col_b = pc.cast(col_a, pa.float64()), pc.cast(col_b, pa.float64())
        rows = pa.array(hit)
        out = replace_column(table, a, set_rows(col_a, hit, pc.take(col_b, rows)))
        out = replace_column(out, b, set_rows(col_b, hit, pc.take(col_a, rows)))
        return changes(table, out, f"{a!r} and {b!r} swapped in {len(hit)} of "
                       f"{span(onset, table.num_rows)} ({{rows}} rows changed)",
                       {"columns": [a, b], "rows_hit": len(hit)})

    def _pair(self, table: pa.Table, features: list[str], onset: int,
              rng: np.random.Generator) -> tuple[str, str]:
        numeric = [c for c in features if column_kind(table, c) == ColumnKind.NUMERIC]
        moments = {}
        for name in numeric:
            values, _ = float_values(table, name)
            finite = values[np.isfinite(values)]
            moments[name] = (float(np.mean(finite)), float(np.std(finite)))
        pairs = [(a, b) for a, b in itertools.combinations(numeric, 2)
                 if _distinct(moments[a], moments[b])]
        if not pairs:
            raise SchemaError(f"scenario {self.name!r} needs two numeric columns whose "
                              f"distributions differ; the data has {len(numeric)} numeric "
                              "column(s) and no such pair")
        return pairs[int(rng.integers(len(pairs)))]


def _distinct(a: tuple[float, float], b: tuple[float, float]) -> bool:
    (mean_a, sd_a), (mean_b, sd_b) = a, b
    pooled = ((sd_a ** 2 + sd_b ** 2) / 2.0) ** 0.5
    if pooled == 0.0:
        return mean_a != mean_b
    small = min(sd_a, sd_b)
    return abs(mean_a - mean_b) >= SWAP_MEAN_GAP * pooled or \
        small == 0.0 or max(sd_a, sd_b) / small >= SWAP_SD_RATIO


class StuckValue(Scenario):
    """A stuck sensor or a frozen default: one value repeated.

    In an ``intensity`` share of the rows after the onset (seeded), the column holds one
    value: ``value`` if given, else, for a numeric column, its last non-null value before
    the onset (the lower median of the column when the onset is 0 or every earlier value is
    null), and for a categorical or boolean one its most frequent value before the onset (of
    the whole column when the onset is 0; the first seen of equally frequent ones). Rows
    that already hold the value are unchanged.

    Parameters
    ----------
    column : str, optional
        The column (default: a seeded numeric, categorical or boolean feature).
    value : optional
        The stuck value (cast to the column's type).
    """

    name = "stuck_value"
    kind = "pipeline"
    summary = "a column repeats one value"
    intensity_means = "share of the rows after the onset that hold the stuck value"

    def __init__(self, column: str | None = None, value: Any = None) -> None:
        self.column = column
        self.value = value

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        column = one_column(self, table, features, VALUE_KINDS, rng, self.column)
        data = table.column(column)
        stuck = self._value(table, column, onset)
        hit = rows_hit(table.num_rows, onset, intensity, rng)
        out = replace_column(table, column, set_rows(data, hit, stuck))
        return changes(table, out, f"{column!r} stuck at {stuck.as_py()!r} in {len(hit)} of "
                       f"{span(onset, table.num_rows)} ({{rows}} rows changed)",
                       {"column": column, "value": plain(stuck.as_py()), "rows_hit": len(hit)})

    def _value(self, table: pa.Table, column: str, onset: int) -> pa.Scalar:
        data = table.column(column)
        if self.value is not None:
            try:
                return pa.scalar(self.value).cast(data.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                raise ConfigError(f"scenario {self.name!r}: value {self.value!r} cannot be "
                                  f"stored in column {column!r} ({data.type})") from None
        numeric = column_kind(table, column) == ColumnKind.NUMERIC
        before = _known(data.slice(0, onset))
        if numeric and len(before):
            return before[len(before) - 1]
        values = before if len(before) else _known(data)
        if len(values) == 0:
            raise SchemaError(f"scenario {self.name!r}: column {column!r} holds no value; "
                              "pass value=")
        if numeric:
            middle = pc.sort_indices(values)[(len(values) - 1) // 2].as_py()
            return values[middle]
        counts = pc.value_counts(values)
        top = int(np.argmax(np.asarray(counts.field("counts"))))
        return counts.field("values")[top]


def _known(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """The non-null values, NaN dropped too."""
    known = pc.drop_null(values)
    if pa.types.is_floating(known.type):
        known = pc.filter(known, pc.invert(pc.is_nan(known)))
    return known
