"""The Dask engine: profiles computed in the workers, one partition at a time, merged.

A Parquet file or folder is split into its row groups (each read by a worker with pyarrow,
only its own columns); a Dask DataFrame into its partitions. Nothing but profiles and a
bounded row sample comes back to the client.

Reference, two passes:

1. *Pilot*: each partition draws its share of a seeded sample of ``pilot_rows`` rows
   (stratified by partition, in proportion to its rows, largest remainders; the partition
   ``i`` draws with seed ``(seed, i)``), and the exact minimum and maximum of each numeric
   column. Column kinds are inferred on the pilot (or taken as declared), and each numeric
   column's grid is cut at the pilot's quantiles, its ends moved to the exact extremes.
2. *Counts*: each partition profiles every column on that plan (exact counts per category,
   exact counts and sums per grid cell, or the sorted values where the column is small
   enough to stay exact), and the partial profiles merge in a tree on the workers.

Current: one pass of the second kind on the reference's grids, drawing a ``ROW_SAMPLE``
row sample for the row-based parts (multivariate, embeddings, text) in the same pass.
The comparison itself is :func:`driftwise.detect.compare.compare_profiles`, as for any
stored profile.
"""

from __future__ import annotations

import dataclasses
import operator
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from driftwise._parallel import default_threads
from driftwise._text import one_line
from driftwise.data import ColumnKind, category_counts, numeric_values
from driftwise.data.io import _normalise_types
from driftwise.data.parquet import checked_parts
from driftwise.data.schema import is_numeric_type, type_family
from driftwise.detect._profile_file import ROW_SAMPLE
from driftwise.detect.compare import compare_profiles
from driftwise.detect.engine import CurrentComparison
from driftwise.detect.merge import merge_profiles, proportional_quotas
from driftwise.detect.profile import (
    ColumnProfile,
    NumericGrid,
    ReferenceProfile,
    no_values_error,
)
from driftwise.detect.settings import DriftSettings
from driftwise.errors import ConfigError, InputFileError, SchemaError
from driftwise.stats.grid import DEFAULT_GRID_CELLS, GridSample, grid_edges

Progress = Callable[[str], None]
#: Rows of the reference's pilot sample: its quantiles place the grid's edges.
PILOT_ROWS = 262_144
#: Numeric columns of at most this many rows stay exact (sorted values gathered).
EXACT_LIMIT = 1_000_000


def _dask() -> Any:
    try:
        import dask
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError("the Dask engine needs Dask: pip install 'driftwise[dask]'")\
            from None
    return dask


@dataclass(frozen=True)
class ReadRowGroup:
    """A task's input: one row group of one Parquet file (picklable, read in the worker).

    Columns are normalised as the in-memory reader normalises them (dictionaries decoded,
    string views cast), and a Hive-style folder's ``key=value`` parts become constant
    columns of the types Arrow's dataset discovery gives them, as in memory.
    """

    path: str
    row_group: int
    columns: tuple[str, ...] | None = None  # every column when None
    partition: tuple[tuple[str, Any, pa.DataType], ...] = ()

    def __call__(self) -> pa.Table:
        keys = {name for name, _, _ in self.partition}
        in_file = None if self.columns is None else [c for c in self.columns if c not in keys]
        table = _normalise_types(pq.ParquetFile(self.path).read_row_group(self.row_group,
                                                                          columns=in_file))
        for name, value, type_ in self.partition:
            if self.columns is None or name in self.columns:
                constant = pa.array([value], type_).take(
                    pa.array(np.zeros(table.num_rows, dtype=np.int64)))
                table = table.append_column(pa.field(name, type_), constant)
        return table if self.columns is None else table.select(list(self.columns))


@dataclass(frozen=True)
class Partitions:
    """Prepared data: what each partition is, how many rows, and the schema."""

    parts: list[Any]  # ReadRowGroup, or a Dask Delayed of a pandas partition
    sizes: list[int]
    schema: pa.Schema
    name: str

    @property
    def n_rows(self) -> int:
        return sum(self.sizes)

    def select(self, names: list[str]) -> Partitions:
        """The same partitions, reading only ``names`` (in that order)."""
        missing = [n for n in names if n not in self.schema.names]
        if missing:
            raise SchemaError(f"column(s) not in the {self.name} sample: "
                              f"{', '.join(map(repr, missing))}")
        parts = []
        for part in self.parts:
            if isinstance(part, ReadRowGroup):
                parts.append(dataclasses.replace(part, columns=tuple(names)))
            else:  # a Dask Delayed of a pandas partition
                parts.append(_dask().delayed(operator.itemgetter(list(names)))(part))
        schema = pa.schema([self.schema.field(n) for n in names])
        return Partitions(parts, self.sizes, schema, self.name)


def _as_table(part: Any) -> pa.Table:
    if isinstance(part, pa.Table):
        return part
    if callable(part):
        table: pa.Table = part()
        return table
    return pa.Table.from_pandas(part, preserve_index=False)


@dataclass(frozen=True)
class ColumnPlan:
    """How the workers profile one column."""

    profile: ColumnProfile  # kind, role, types (no values)
    edges: np.ndarray | None = None  # the grid of a gridded numeric column
    exact: bool = False  # numeric values gathered sorted instead


def _bare(col: ColumnProfile) -> ColumnProfile:
    """A column's kind, role and types without its values: what a plan sends to workers."""
    return dataclasses.replace(col, sorted_values=None, labels=None, counts=None, grid=None,
                               markers={})


def _pilot(part: Any, index: int, quota: int, seed: int) -> tuple[pa.Table, dict[str, Any]]:
    """A partition's share of the pilot sample, and its numeric columns' extremes."""
    table = _as_table(part)
    rng = np.random.default_rng([seed, index])
    take = np.sort(rng.choice(table.num_rows, min(quota, table.num_rows), replace=False))
    extremes = {}
    for name in table.column_names:
        column = table.column(name)
        if is_numeric_type(column.type):
            values = numeric_values(name, column, "reference").values
            if values.size:
                extremes[name] = (float(values.min()), float(values.max()))
    return table.take(pa.array(take)), extremes


def _partial(part: Any, index: int, plans: list[ColumnPlan], sample: int, seed: int,
             which: str) -> tuple[ReferenceProfile, pa.Table]:
    """One partition profiled on the plan, and its share of the row sample."""
    table = _as_table(part)
    rng = np.random.default_rng([seed, index, 1])
    return profile_part(table, index, plans, which), sample_part(
        table.select([p.profile.name for p in plans]), sample, rng)


def sample_part(table: pa.Table, quota: int, rng: np.random.Generator) -> pa.Table:
    """``quota`` rows of ``table`` drawn without replacement, in their order."""
    take = np.sort(rng.choice(table.num_rows, min(quota, table.num_rows), replace=False))
    return table.take(pa.array(take))


def profile_part(table: pa.Table, index: int, plans: list[ColumnPlan], which: str) -> (
    ReferenceProfile
):
    """A table (one partition, or its rows of one window) profiled on the plan."""
    columns = {}
    for plan in plans:
        base = plan.profile
        column = table.column(base.name)
        family = type_family(column.type)
        if family not in ("null", base.family):
            raise SchemaError(f"column {base.name!r} holds {base.family} values in the "
                              f"reference but {family} values in the {which} sample "
                              f"(partition {index}); the two samples must share a type")
        prof = dataclasses.replace(base, n_rows=len(column), n_missing=column.null_count,
                                   arrow_type=str(column.type), markers={})
        if base.kind == ColumnKind.NUMERIC:
            nv = numeric_values(base.name, column, which)
            prof.n_missing = nv.n_missing
            if plan.exact:
                prof.sorted_values = np.sort(nv.values)
            else:
                assert plan.edges is not None
                prof.grid = NumericGrid(plan.edges, GridSample.of(plan.edges, nv.values))
        elif base.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
            cc = category_counts(column)
            prof.labels, prof.counts, prof.n_missing = cc.labels, cc.counts, cc.n_missing
        columns[base.name] = prof
    return ReferenceProfile(table.num_rows, columns)


def merge_pair(a: tuple[ReferenceProfile, pa.Table], b: tuple[ReferenceProfile, pa.Table]) -> (
    tuple[ReferenceProfile, pa.Table]
):
    merged = merge_profiles([a[0], b[0]])
    return merged, pa.concat_tables([a[1], b[1]], promote_options="permissive")


class DaskEngine:
    """Profiles Parquet files/folders and Dask DataFrames on a Dask cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``); by default a
        LocalCluster is started for this engine (one worker process per core) and closed
        with it.
    client : distributed.Client, optional
        An already connected client (wins over ``scheduler``).
    cells : int
        Cells of each numeric column's grid.
    exact_limit : int
        Numeric columns of at most this many rows are kept exact (their sorted values are
        gathered on the client), as the in-memory engine keeps them.
    pilot_rows, seed
        Size and seed of the reference's pilot sample.
    workers : int, optional
        Worker processes of the LocalCluster (default: every core).
    """

    def __init__(self, *, scheduler: str | None = None, client: Any = None,
                 cells: int = DEFAULT_GRID_CELLS, exact_limit: int = EXACT_LIMIT,
                 pilot_rows: int = PILOT_ROWS, seed: int = 0,
                 workers: int | None = None) -> None:
        self.scheduler = scheduler
        self.client = client
        self.cells = cells
        self.exact_limit = exact_limit
        self.pilot_rows = pilot_rows
        self.seed = seed
        self.workers = workers
        self._cluster: Any = None

    # -- the cluster ---------------------------------------------------------------
    def _client(self) -> Any:
        _dask()
        if self.client is not None:
            return self.client
        from distributed import Client, LocalCluster

        if self.scheduler is not None:
            self.client = Client(self.scheduler)  # type: ignore[no-untyped-call]
        else:
            self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=self.workers or default_threads(), threads_per_worker=1,
                processes=True, dashboard_address=None)
            self.client = Client(self._cluster)  # type: ignore[no-untyped-call]
        return self.client

    def close(self) -> None:
        """Close the client and the LocalCluster this engine started (not a given one)."""
        if self._cluster is not None:
            self.client.close()
            self._cluster.close()
            self._cluster = self.client = None

    def __enter__(self) -> DaskEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- data ----------------------------------------------------------------------
    def prepare(self, data: Any, sample: str) -> Partitions:
        """A Parquet file or folder (path), or a Dask DataFrame, as partitions."""
        if isinstance(data, Partitions):
            return data
        if isinstance(data, str | os.PathLike):
            return _parquet_partitions(Path(data), sample)
        dask = _dask()
        import dask.dataframe as dd

        if not isinstance(data, dd.DataFrame):
            raise SchemaError(f"the Dask engine takes a Parquet file or folder or a Dask "
                              f"DataFrame as the {sample} sample, not {type(data).__name__}")
        parts = data.to_delayed()  # type: ignore[no-untyped-call]
        sizes = [int(s) for s in dask.compute(*[dask.delayed(len)(p) for p in parts],
                                              scheduler=self._client())]
        if sum(sizes) == 0:
            raise SchemaError(f"the {sample} sample has no rows")
        schema = pa.Schema.from_pandas(data._meta, preserve_index=False)
        return Partitions(parts, sizes, schema, sample)

    def columns_of(self, data: Any) -> list[str]:
        """The column names of prepared partitions."""
        names: list[str] = data.schema.names
        return names

    def _run(self, tasks: list[Any]) -> list[Any]:
        dask = _dask()
        return list(dask.compute(*tasks, scheduler=self._client()))

    def _reduce(self, partials: list[Any]) -> tuple[ReferenceProfile, pa.Table]:
        """Merge partial profiles pairwise on the workers; only the result comes back."""
        result: tuple[ReferenceProfile, pa.Table] = self.reduce_groups({0: partials})[0]
        return result

    def reduce_groups(self, groups: Mapping[Any, list[Any]]) -> dict[Any, Any]:
        """Each group's partial ``(profile, rows)`` merged pairwise on the workers (in
        order, so the rows keep their order), all groups in one computation."""
        dask = _dask()
        tops = []
        for partials in groups.values():
            level = list(partials)
            while len(level) > 1:
                level = [dask.delayed(merge_pair)(level[i], level[i + 1])
                         if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
            tops.append(level[0])
        return dict(zip(groups, self._run(tops), strict=True))

    def sample(self, parts: Partitions, rows: int, salt: int) -> pa.Table:
        """A seeded sample of ``rows`` rows (all of them when fewer), stratified by
        partition in proportion to its rows (largest remainders); partition ``i`` draws
        with seed ``(seed, i, salt)``. Every column, in partition order."""
        dask = _dask()
        shares = proportional_quotas(parts.sizes, min(rows, parts.n_rows))
        tasks = [dask.delayed(_sample_task)(p, q, [self.seed, i, salt])
                 for i, (p, q) in enumerate(zip(parts.parts, shares, strict=True)) if q]
        return pa.concat_tables(self._run(tasks), promote_options="permissive")

    # -- the engine protocol -------------------------------------------------------
    def profile(self, data: Any, *, kinds: Mapping[str, str], roles: Mapping[str, str],
                exclude: Iterable[str], name: str,
                progress: Progress | None = None) -> ReferenceProfile:
        """The reference profile of partitioned data (two passes; see the module)."""
        dask = _dask()
        parts: Partitions = data
        shares = proportional_quotas(parts.sizes, self.pilot_rows)
        pilot_tasks = [dask.delayed(_pilot)(p, i, q, self.seed)
                       for i, (p, q) in enumerate(zip(parts.parts, shares, strict=True))]
        pilots = self._run(pilot_tasks)
        pilot = pa.concat_tables([t for t, _ in pilots], promote_options="permissive")
        extremes: dict[str, tuple[float, float]] = {}
        for _, found in pilots:
            for col, (low, high) in found.items():
                old = extremes.get(col, (low, high))
                extremes[col] = (min(old[0], low), max(old[1], high))
        shape = ReferenceProfile.from_table(pilot, kinds=kinds, roles=roles, exclude=exclude,
                                            name=name)
        plans = [self._plan(col, extremes.get(col.name), parts.n_rows)
                 for col in shape.columns.values()]
        profile, _ = self._reduce(self._partials(parts, plans, 0, "reference"))
        require_values(profile)
        rows = shape.rows
        if progress is not None:
            for col in profile.columns:
                progress(col)
        return ReferenceProfile(parts.n_rows, profile.columns, list(shape.excluded), name,
                                rows)

    def _plan(self, col: ColumnProfile, extremes: tuple[float, float] | None,
              n_rows: int) -> ColumnPlan:
        bare = _bare(col)
        if col.kind != ColumnKind.NUMERIC or col.sorted_values is None:
            return ColumnPlan(bare)
        if n_rows <= self.exact_limit:
            return ColumnPlan(bare, exact=True)
        edges = grid_edges(col.sorted_values, self.cells)
        if extremes is not None:
            low, high = extremes
            edges = np.unique(np.concatenate([[low], edges[(edges > low) & (edges < high)],
                                              [high]]))
        return ColumnPlan(bare, edges=edges)

    def _partials(self, parts: Partitions, plans: list[ColumnPlan], sample: int,
                  which: str) -> list[Any]:
        dask = _dask()
        shares = proportional_quotas(parts.sizes, sample)
        return [dask.delayed(_partial)(p, i, plans, q, self.seed, which)
                for i, (p, q) in enumerate(zip(parts.parts, shares, strict=True))]

    def compare(self, reference: ReferenceProfile, data: Any, settings: DriftSettings, *,
                progress: Progress | None = None) -> CurrentComparison:
        """Profile partitioned current data on the reference's grids, then compare."""
        parts: Partitions = data
        plans = self.current_plans(reference, parts.n_rows)
        current, rows = self._reduce(self._partials(parts, plans, ROW_SAMPLE, "current"))
        require_values(current, "current")
        compared = compare_profiles(reference, current, settings)
        if progress is not None:
            for name in reference.columns:
                progress(name)
        return CurrentComparison(parts.n_rows, compared, rows)


    def current_plans(self, reference: ReferenceProfile, n_rows: int) -> list[ColumnPlan]:
        """How current data of ``n_rows`` rows is profiled against ``reference``: exact
        where both are small enough, else on the reference's grid."""
        plans = []
        for ref in reference.columns.values():
            bare = _bare(ref)
            if ref.kind != ColumnKind.NUMERIC:
                plans.append(ColumnPlan(bare))
            elif ref.grid is None and n_rows <= self.exact_limit:
                plans.append(ColumnPlan(bare, exact=True))
            else:
                plans.append(ColumnPlan(bare, edges=ref.edges(self.cells)))
        return plans


def _sample_task(part: Any, quota: int, seed: list[int]) -> pa.Table:
    return sample_part(_as_table(part), quota, np.random.default_rng(seed))


def require_values(profile: ReferenceProfile, sample: str = "reference") -> None:
    for col in profile.columns.values():
        if col.tested and col.n_values == 0:
            raise no_values_error(col.name, sample, col.n_rows)


def _parquet_partitions(path: Path, sample: str) -> Partitions:
    where = one_line(os.fspath(path))
    if path.is_dir():
        files = checked_parts(path)
    elif path.is_file():
        try:
            files = [(path, pq.read_schema(path))]
        except (pa.ArrowException, OSError) as exc:
            raise InputFileError(f"{where}: not readable as Parquet ({one_line(str(exc))})")\
                from None
    else:
        raise InputFileError(f"{where}: no such file or folder")
    file_schema = files[0][1].remove_metadata()
    keys, key_fields = _hive_keys(path, file_schema) if path.is_dir() else ({}, [])
    parts, sizes = [], []
    for file, _ in files:
        meta = pq.ParquetFile(file).metadata
        found = keys.get(os.path.normpath(file), {})
        partition = tuple((f.name, found.get(f.name), f.type) for f in key_fields)
        for group in range(meta.num_row_groups):
            rows = meta.row_group(group).num_rows
            if rows:
                parts.append(ReadRowGroup(os.fspath(file), group, partition=partition))
                sizes.append(rows)
    if not parts:
        raise SchemaError(f"{where}: the {sample} sample has no rows")
    schema = _normalise_types(pa.schema([*file_schema, *key_fields]).empty_table()).schema
    return Partitions(parts, sizes, schema, path.name or sample)


def _hive_keys(folder: Path, file_schema: pa.Schema) -> tuple[dict[str, dict[str, Any]],
                                                                list[pa.Field]]:
    """Each file's ``key=value`` folder values, and the key columns' fields, as Arrow's
    dataset discovery (the in-memory reader's) finds and types them."""
    try:
        dataset = ds.dataset(folder, format="parquet", partitioning="hive")
    except (pa.ArrowException, OSError) as exc:
        raise InputFileError(f"{one_line(os.fspath(folder))}: not readable as Parquet "
                             f"({one_line(str(exc))})") from None
    fields = [f for f in dataset.schema if f.name not in file_schema.names]
    if not fields:
        return {}, []
    keys = {os.path.normpath(fragment.path): ds.get_partition_keys(fragment.partition_expression)
            for fragment in dataset.get_fragments()}
    return keys, fields
