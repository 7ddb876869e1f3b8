"""The reference profile: everything a comparison needs from the reference, in one file.

A profile keeps each numeric column's finite values *sorted* (so exact tests give the
same p-values as on the raw data) and each categorical column's counts. Fitting on a
large reference reads and sorts it once; the saved profile is then compared with many
current batches.

It also keeps a **row sample** (every row up to ``ROW_SAMPLE`` rows, else a seeded random
subset of that many, in their original order) for the parts that need whole rows: the
multivariate tests, embedding drift and text drift. Those parts fit on this sample whether
the reference is data or a profile, so a profile gives the same results.

File format: a ZIP archive holding ``profile.json`` (format name, version, columns and
their metadata, category counts), one ``.npy`` array per numeric column and ``rows.parquet``
(the row sample; profiles written before it existed lack it, and the row-based parts are
then skipped with a reason).
"""

from __future__ import annotations

import dataclasses
import io
import os
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from driftwise._lazy import preload as preload_modules
from driftwise._parallel import parallel_map
from driftwise.data import (
    TESTED_KINDS,
    ColumnKind,
    category_counts,
    infer_kind,
    numeric_values,
    type_family,
)
from driftwise.data._arrow import int64_array
from driftwise.data.csv import markers_of
from driftwise.data.schema import SKIP_REASONS, is_nested_type, is_string_type
from driftwise.detect._profile_file import (
    ROW_SAMPLE,
    ProfileContents,
    read_profile,
    read_profile_bytes,
    write_profile,
)
from driftwise.errors import ConfigError, SchemaError
from driftwise.stats.grid import DEFAULT_GRID_CELLS, GridSample, grid_edges, sorted_grid_sample


@dataclass(frozen=True)
class NumericGrid:
    """A numeric column summarised exactly on a fixed grid (:mod:`driftwise.stats.grid`)."""

    edges: NDArray[np.float64]
    sample: GridSample


@dataclass
class ColumnProfile:
    """What one sample says about one column.

    A numeric column keeps either its finite values sorted (``sorted_values``: exact, every
    test as on the raw data) or their exact counts and sums on a grid of reference
    quantiles (``grid``: compact and mergeable; see docs/scale.md for what that changes).
    """

    name: str
    kind: ColumnKind
    kind_reason: str
    role: str
    arrow_type: str
    family: str
    n_rows: int
    n_missing: int
    sorted_values: NDArray[np.float64] | None = None
    labels: tuple[str, ...] | None = None
    counts: NDArray[np.int64] | None = None
    markers: dict[str, int] = field(default_factory=dict)
    grid: NumericGrid | None = None

    @property
    def n_values(self) -> int:
        """Rows with a value (neither missing nor a missing-value marker)."""
        return self.n_rows - self.n_missing

    def edges(self, cells: int = DEFAULT_GRID_CELLS) -> NDArray[np.float64]:
        """This numeric column's grid: its own, or the one its sorted values define."""
        if self.grid is not None:
            return self.grid.edges
        assert self.sorted_values is not None, "edges() is for numeric columns"
        return grid_edges(self.sorted_values, cells)

    def on_grid(self, edges: NDArray[np.float64]) -> GridSample:
        """This numeric column's values summarised on ``edges``."""
        if self.grid is not None:
            if self.grid.edges.shape != edges.shape or not np.array_equal(self.grid.edges,
                                                                           edges):
                raise ConfigError(f"column {self.name!r} is summarised on a different grid "
                                  "than the one it is compared on; build both profiles "
                                  "against one reference")
            return self.grid.sample
        assert self.sorted_values is not None, "on_grid() is for numeric columns"
        return sorted_grid_sample(edges, self.sorted_values)

    def gridded(self, cells: int = DEFAULT_GRID_CELLS,
                edges: NDArray[np.float64] | None = None) -> ColumnProfile:
        """A copy with an exact numeric column turned into its grid summary."""
        if self.sorted_values is None:
            return self
        edges = self.edges(cells) if edges is None else edges
        return dataclasses.replace(self, sorted_values=None,
                                   grid=NumericGrid(edges, self.on_grid(edges)))

    @property
    def tested(self) -> bool:
        """Whether this column gets a two-sample test."""
        return self.kind in TESTED_KINDS

    @property
    def skip_reason(self) -> str | None:
        """Why the column is not tested, or ``None``."""
        return None if self.tested else SKIP_REASONS.get(self.kind, f"{self.kind} column")

    def meta(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "kind": self.kind.value, "kind_reason": self.kind_reason,
            "role": self.role, "arrow_type": self.arrow_type, "family": self.family,
            "n_rows": self.n_rows, "n_missing": self.n_missing,
        }
        if self.labels is not None and self.counts is not None:
            out["labels"] = list(self.labels)
            out["counts"] = self.counts.tolist()
        if self.markers:
            out["markers"] = dict(self.markers)
        if self.grid is not None:
            g = self.grid.sample
            out["grid"] = {"below": g.below, "mean": g.mean, "m2": g.m2,
                           "minimum": g.minimum, "maximum": g.maximum}
        return out


def no_values_error(name: str, sample: str, n_rows: int) -> SchemaError:
    return SchemaError(
        f"column {name!r} has no values in the {sample} sample (all {n_rows} missing); "
        f"exclude it (--exclude {shlex.quote(name)}) or fix the upstream data"
    )


def profile_column(
    name: str, column: pa.ChunkedArray, kind: ColumnKind | None, role: str,
    markers: Mapping[str, int] | None = None,
) -> ColumnProfile:
    """Profile one reference column, inferring its kind unless ``kind`` is given.

    ``markers`` are the missing-value markers counted when the column was read.
    """
    if kind is None:
        kind, reason = infer_kind(name, column)
    else:
        reason = "set in configuration"
        _check_declared(name, column.type, kind)
    prof = ColumnProfile(
        name=name, kind=kind, kind_reason=reason, role=role, arrow_type=str(column.type),
        family=type_family(column.type), n_rows=len(column), n_missing=column.null_count,
        markers=dict(markers or {}),
    )
    if kind == ColumnKind.NUMERIC:
        nv = numeric_values(name, column, "reference")
        if nv.values.size == 0:
            raise no_values_error(name, "reference", len(column))
        prof.sorted_values = np.sort(nv.values)
        prof.n_missing = nv.n_missing
    elif kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
        cc = category_counts(column)
        if cc.counts.size == 0:
            raise no_values_error(name, "reference", len(column))
        prof.labels, prof.counts, prof.n_missing = cc.labels, cc.counts, cc.n_missing
    return prof


def _check_declared(name: str, t: pa.DataType, kind: ColumnKind) -> None:
    """A declared kind must fit the values (a struct cannot be counted as categories)."""
    nested = is_nested_type(t)
    fits = kind in (ColumnKind.EMBEDDING, ColumnKind.IDENTIFIER, ColumnKind.NESTED) if nested \
        else kind != ColumnKind.EMBEDDING or is_string_type(t)
    if not fits:
        raise ConfigError(f"column {name!r} holds {t} values; it cannot be declared {kind.value}")


@dataclass
class ReferenceProfile:
    """The profiled reference: its columns, row count, and what was excluded."""

    n_rows: int
    columns: dict[str, ColumnProfile]
    excluded: list[str] = field(default_factory=list)
    name: str = "reference"
    rows: pa.Table | None = None

    @classmethod
    def from_table(
        cls,
        table: pa.Table,
        *,
        kinds: Mapping[str, str] | None = None,
        roles: Mapping[str, str] | None = None,
        exclude: Iterable[str] = (),
        name: str = "reference",
        progress: Callable[[str], None] | None = None,
        threads: int = 1,
        preload: Iterable[str] = (),
    ) -> ReferenceProfile:
        """Profile every column of ``table`` except the excluded ones, ``threads`` columns
        at a time; ``preload``: modules to import on a thread meanwhile."""
        kinds = dict(kinds or {})
        roles = dict(roles or {})
        excluded = list(dict.fromkeys(exclude))
        known = set(table.column_names)
        unknown = [c for c in [*excluded, *kinds, *roles] if c not in known]
        if unknown:
            raise ConfigError(
                f"configured column(s) not in the reference: {', '.join(map(repr, unknown))}"
            )
        names = [c for c in table.column_names if c not in excluded]
        parsed = {c: _parse_kind(c, kinds[c]) for c in names if c in kinds}

        sample_at = row_sample_indices(table.num_rows)
        preload_modules(*preload)  # after the sample's draw: numpy.random is not raced for
        sampled: dict[str, pa.ChunkedArray] = {}

        def one(col: str) -> ColumnProfile:
            # The row sample's values are taken while the column is in memory: a Parquet
            # input is then read once, not once more for the sample.
            column = table.column(col)
            prof = profile_column(col, column, parsed.get(col), roles.get(col, "feature"),
                                  markers_of(table, col))
            sampled[col] = column if sample_at is None else column.take(sample_at)
            return prof

        profiles = parallel_map(one, names, threads, progress)
        columns = {p.name: p for p in profiles}
        schema = pa.schema([table.schema.field(c) for c in columns])
        rows = pa.Table.from_arrays([sampled[c] for c in columns], schema=schema)
        return cls(table.num_rows, columns, excluded, name, rows.combine_chunks())

    def without(self, columns: Iterable[str]) -> ReferenceProfile:
        """A copy with ``columns`` excluded (each must be a profiled or excluded column)."""
        drop = list(dict.fromkeys(columns))
        unknown = [c for c in drop if c not in self.columns and c not in self.excluded]
        if unknown:
            raise ConfigError(
                f"excluded column(s) not in the reference profile: {', '.join(map(repr, unknown))}"
            )
        kept = {n: c for n, c in self.columns.items() if n not in drop}
        excluded = list(dict.fromkeys([*self.excluded, *drop]))
        rows = None if self.rows is None else self.rows.select(
            [c for c in self.rows.column_names if c in kept])
        return ReferenceProfile(self.n_rows, kept, excluded, self.name, rows)

    def gridded(self, cells: int = DEFAULT_GRID_CELLS) -> ReferenceProfile:
        """A copy whose exact numeric columns are summarised on grids of ``cells`` cells of
        their own quantiles: compact (about 50 kB a column) and mergeable."""
        columns = {n: c.gridded(cells) for n, c in self.columns.items()}
        return ReferenceProfile(self.n_rows, columns, list(self.excluded), self.name, self.rows)

    def on_grids_of(self, reference: ReferenceProfile) -> ReferenceProfile:
        """A copy whose numeric columns are summarised on ``reference``'s grids (each exact
        reference column defines its grid): windows profiled so merge with each other."""
        columns = {}
        for n, c in self.columns.items():
            ref = reference.columns.get(n)
            if ref is not None and c.kind == ColumnKind.NUMERIC and ref.kind == c.kind:
                edges = ref.edges()
                c = dataclasses.replace(c, sorted_values=None,
                                        grid=NumericGrid(edges, c.on_grid(edges)))
            columns[n] = c
        return ReferenceProfile(self.n_rows, columns, list(self.excluded), self.name, self.rows)

    def save(self, path: str | os.PathLike[str] | IO[bytes],
             settings: Mapping[str, Any] | None = None, *, rows: bool = True,
             reference: ReferenceProfile | None = None) -> None:
        """Write the profile (and optional detector settings) to one file; ``rows=False``
        leaves out the row sample. Gridded columns on ``reference``'s grids leave their
        edges out (read back with :meth:`from_bytes` and that reference)."""
        columns = list(self.columns.values())
        shared = {c.name for c in columns if reference is not None and c.grid is not None
                  and _same_edges(c, reference)}
        metas = [c.meta() for c in columns]
        for m in metas:
            if m["name"] in shared:
                m["grid"]["edges_from_reference"] = True
        meta = {"name": self.name, "n_rows": self.n_rows, "excluded": self.excluded,
                "columns": metas, "settings": dict(settings or {})}
        values = {i: col.sorted_values for i, col in enumerate(columns)
                  if col.sorted_values is not None}
        grids = {i: (None if col.name in shared else col.grid.edges, col.grid.sample.counts,
                     col.grid.sample.sums)
                 for i, col in enumerate(columns) if col.grid is not None}
        write_profile(path, meta, values, self.rows if rows else None, grids)

    def to_bytes(self, reference: ReferenceProfile | None = None) -> bytes:
        """The profile file's bytes, without the row sample (a window for the store)."""
        buf = io.BytesIO()
        self.save(buf, rows=False, reference=reference)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, reference: ReferenceProfile | None = None,
                   where: str = "stored profile") -> ReferenceProfile:
        """A profile from :meth:`to_bytes`, checked as a file is."""
        def edges_of(name: str) -> NDArray[np.float64] | None:
            col = None if reference is None else reference.columns.get(name)
            return None if col is None or col.kind != ColumnKind.NUMERIC else col.edges()

        return cls._from_contents(read_profile_bytes(data, where, edges_of))[0]

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> tuple[ReferenceProfile, dict[str, Any]]:
        """Read and check a profile file; returns the profile and the settings saved with it.

        Raises
        ------
        InputFileError
            The file is not a driftwise profile, of an unsupported version, or damaged
            (the message starts with "damaged profile:" and says what is wrong).
        """
        return cls._from_contents(read_profile(path))

    @classmethod
    def _from_contents(cls, contents: ProfileContents) -> tuple[ReferenceProfile,
                                                                dict[str, Any]]:
        columns = {}
        for i, m in enumerate(contents.meta.columns):
            col = ColumnProfile(
                name=m.name, kind=ColumnKind(m.kind), kind_reason=m.kind_reason, role=m.role,
                arrow_type=m.arrow_type, family=m.family, n_rows=m.n_rows,
                n_missing=m.n_missing, sorted_values=contents.values.get(i),
                markers=dict(m.markers),
            )
            if m.labels is not None and m.counts is not None:
                col.labels = tuple(m.labels)
                col.counts = np.asarray(m.counts, dtype=np.int64)
            if m.grid is not None:
                edges, counts, sums = contents.grids[i]
                col.grid = NumericGrid(edges, GridSample(
                    counts, sums, m.grid.below, col.n_values, m.grid.mean, m.grid.m2,
                    m.grid.minimum, m.grid.maximum))
            columns[col.name] = col
        meta = contents.meta
        profile = cls(meta.n_rows, columns, list(meta.excluded), meta.name, contents.rows)
        return profile, contents.settings


def _same_edges(col: ColumnProfile, reference: ReferenceProfile) -> bool:
    ref = reference.columns.get(col.name)
    if ref is None or ref.kind != ColumnKind.NUMERIC or col.grid is None:
        return False
    edges = ref.edges()
    return edges.shape == col.grid.edges.shape and bool(np.array_equal(edges, col.grid.edges))


def row_sample_indices(n_rows: int, size: int = ROW_SAMPLE, seed: int = 0) -> pa.Array | None:
    """The rows :func:`row_sample` keeps, ascending; ``None`` when it keeps all of them."""
    if n_rows <= size:
        return None
    return int64_array(np.sort(np.random.default_rng(seed).choice(n_rows, size, replace=False)))


def row_sample(table: pa.Table, size: int = ROW_SAMPLE, seed: int = 0) -> pa.Table:
    """Every row of ``table`` up to ``size`` rows, else a seeded random ``size`` of them, in
    their original order."""
    at = row_sample_indices(table.num_rows, size, seed)
    return table.combine_chunks() if at is None else table.take(at)


def _parse_kind(column: str, value: str) -> ColumnKind:
    try:
        return ColumnKind(value)
    except ValueError:
        choices = ", ".join(k.value for k in ColumnKind)
        raise ConfigError(f"column {column!r}: unknown kind {value!r}; choose one of {choices}")\
            from None
