"""Merging profiles: ``merge(profile(a), profile(b)) == profile(a ∪ b)``.

Category counts add over the union of categories; exact numeric columns merge their sorted
values; gridded numeric columns on one grid add their counts and sums (an exact column
meeting a gridded one is first summarised on that grid). Profiles on different grids do
not merge: each was cut from a different reference, and re-binning would lose exactness.
The row samples are combined stratified by the profiles' row counts (seeded), so the
merged sample is a uniform sample of the union, not the one ``profile(a ∪ b)`` would draw.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from driftwise.data import ColumnKind
from driftwise.detect._profile_file import ROW_SAMPLE
from driftwise.detect.profile import ColumnProfile, NumericGrid, ReferenceProfile
from driftwise.detect.tests import align_counts
from driftwise.errors import SchemaError


def merge_columns(a: ColumnProfile, b: ColumnProfile) -> ColumnProfile:
    """The profile of one column over both samples."""
    if a.kind != b.kind or a.family != b.family:
        raise SchemaError(f"column {a.name!r} is {a.kind.value} ({a.family}) in one profile "
                          f"and {b.kind.value} ({b.family}) in the other; profiles merge "
                          "only when their columns agree")
    merged = dataclasses.replace(
        a, n_rows=a.n_rows + b.n_rows, n_missing=a.n_missing + b.n_missing,
        markers=dict(Counter(a.markers) + Counter(b.markers)))
    if a.kind == ColumnKind.NUMERIC:
        return _merge_numeric(merged, a, b)
    if a.labels is not None and a.counts is not None and b.labels is not None \
            and b.counts is not None:
        labels, ref, cur = align_counts(a.labels, a.counts, b.labels, b.counts)
        return dataclasses.replace(merged, labels=labels, counts=ref + cur)
    return merged


def _merge_numeric(merged: ColumnProfile, a: ColumnProfile, b: ColumnProfile) -> ColumnProfile:
    if a.sorted_values is not None and b.sorted_values is not None:
        values = np.concatenate([a.sorted_values, b.sorted_values])
        values.sort(kind="stable")
        return dataclasses.replace(merged, sorted_values=values, grid=None)
    grid = a.grid if a.grid is not None else b.grid
    assert grid is not None
    sample = a.on_grid(grid.edges).merge(b.on_grid(grid.edges))
    return dataclasses.replace(merged, sorted_values=None,
                               grid=NumericGrid(grid.edges, sample))


def merge_profiles(profiles: Iterable[ReferenceProfile], *, name: str | None = None,
                   seed: int = 0) -> ReferenceProfile:
    """One profile of the samples that ``profiles`` describe (see the module docstring).

    Raises
    ------
    SchemaError
        The profiles do not have the same columns, kinds and roles, or are gridded on
        different grids.
    """
    items = list(profiles)
    if not items:
        raise SchemaError("no profiles to merge")
    first = items[0]
    columns = dict(first.columns)
    for other in items[1:]:
        if list(other.columns) != list(columns):
            raise SchemaError(f"profiles with different columns cannot be merged: "
                              f"{list(columns)} and {list(other.columns)}")
        for col_name, col in other.columns.items():
            if col.role != columns[col_name].role:
                raise SchemaError(f"column {col_name!r} is a {columns[col_name].role} in one "
                                  f"profile and a {col.role} in another")
            columns[col_name] = merge_columns(columns[col_name], col)
    n_rows = sum(p.n_rows for p in items)
    rows = merge_row_samples([(p.rows, p.n_rows) for p in items], seed=seed)
    return ReferenceProfile(n_rows, columns, list(first.excluded), name or first.name, rows)


def merge_row_samples(samples: list[tuple[pa.Table | None, int]], *, size: int = ROW_SAMPLE,
                      seed: int = 0) -> pa.Table | None:
    """Up to ``size`` rows from uniform samples of disjoint parts, each part contributing
    in proportion to its row count (largest remainders; seeded). ``None`` if a part has
    no sample: a partial sample would not be uniform over the union."""
    if any(rows is None for rows, _ in samples):
        return None
    tables = [rows for rows, _ in samples if rows is not None]
    if sum(t.num_rows for t in tables) <= size:
        return pa.concat_tables(tables, promote_options="permissive").combine_chunks()
    take = proportional_quotas([n for _, n in samples], size)
    rng = np.random.default_rng(seed)
    parts = []
    for table, k in zip(tables, take, strict=True):
        k = min(k, table.num_rows)
        idx = np.sort(rng.choice(table.num_rows, k, replace=False))
        parts.append(table.take(pa.array(idx)))
    return pa.concat_tables(parts, promote_options="permissive").combine_chunks()


def proportional_quotas(sizes: list[int], total: int) -> list[int]:
    """``total`` rows spread over parts of ``sizes`` rows in proportion (largest
    remainders, ties to the earlier part), none above its part's size."""
    n = sum(sizes)
    if n <= total:
        return list(sizes)
    share = np.array(sizes, dtype=np.float64) * total / n
    take = np.floor(share).astype(np.int64)
    order = np.argsort(-(share - take), kind="stable")
    take[order[: total - int(take.sum())]] += 1
    return [int(min(t, s)) for t, s in zip(take, sizes, strict=True)]
