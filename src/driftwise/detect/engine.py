"""The engine seam: who builds the profiles, and where.

An engine does two things: it profiles a reference (:meth:`Engine.profile`), and it
profiles a current sample column by column against a reference, handing each pair of
profiles to the one shared comparer (:func:`driftwise.detect.compare.compare_column`)
(:meth:`Engine.compare`). The tests and the drift decision therefore exist once; the
engines differ only in where the data lives and how the work is spread:

* :class:`InMemoryEngine`: Arrow tables in this process, columns spread over a thread pool
  (NumPy's sort and SciPy's kernels release the GIL, so columns run on every core);
* ``driftwise.scale.DaskEngine``: partitions profiled in Dask workers, merged on the client.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from driftwise._parallel import default_threads, parallel_map
from driftwise.data import (
    ColumnKind,
    category_counts,
    markers_of,
    numeric_values,
    require_rows,
    to_table,
)
from driftwise.data.parquet_columns import ParquetColumns, is_parquet_path
from driftwise.data.schema import type_family
from driftwise.detect.compare import ColumnComparison, compare_column, storage_note
from driftwise.detect.profile import ColumnProfile, ReferenceProfile, no_values_error
from driftwise.detect.settings import DriftSettings
from driftwise.errors import SchemaError

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CurrentComparison:
    """What an engine returns for a current sample: its size, each column's comparison,
    and the rows the row-based parts (multivariate, embeddings, text) compare with."""

    n_rows: int
    columns: list[ColumnComparison]
    rows: pa.Table | None


class Engine(Protocol):
    """Builds profiles of a reference and of current samples (see the module docstring)."""

    def profile(self, data: Any, *, kinds: Mapping[str, str], roles: Mapping[str, str],
                exclude: Iterable[str], name: str,
                progress: Progress | None = None) -> ReferenceProfile:
        """The reference profile of ``data``."""
        ...

    def prepare(self, data: Any, sample: str) -> Any:
        """``data`` in the form this engine works on, with at least one row (a clear error
        naming ``sample``, "reference" or "current", otherwise)."""
        ...

    def columns_of(self, data: Any) -> list[str]:
        """The column names of prepared ``data``."""
        ...

    def compare(self, reference: ReferenceProfile, data: Any, settings: DriftSettings, *,
                progress: Progress | None = None) -> CurrentComparison:
        """Every column of ``data`` profiled and compared with ``reference``."""
        ...


def check_columns(profile: ReferenceProfile, names: list[str]) -> None:
    """The current sample must have the reference's columns (excluded ones aside)."""
    expected = list(profile.columns)
    present = [c for c in names if c not in profile.excluded]
    missing = [c for c in expected if c not in present]
    extra = [c for c in present if c not in profile.columns]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing from current: {', '.join(map(repr, missing))}")
        if extra:
            parts.append(f"not in the reference: {', '.join(map(repr, extra))}")
        raise SchemaError(
            "the samples have different columns (" + "; ".join(parts) + "); "
            "align them or exclude columns with --exclude"
        )


def type_note(col: ColumnProfile, column: pa.ChunkedArray) -> str | None:
    """Raise on a change of type family; describe a compatible storage change (int -> float)."""
    cur_family = type_family(column.type)
    if cur_family == "null":
        raise no_values_error(col.name, "current", len(column))
    if cur_family != col.family:
        raise SchemaError(
            f"column {col.name!r} holds {col.family} values in the reference but "
            f"{cur_family} values in the current sample{_offending(col, column)}; "
            "the two samples must share a type"
        )
    return storage_note(col, str(column.type))


def _offending(col: ColumnProfile, column: pa.ChunkedArray) -> str:
    """Examples of current values that do not fit the reference's type."""
    is_text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
    if col.family != "number" or not is_text:
        return ""
    bad: list[str] = []
    for value in column.slice(0, 100_000).to_pylist():
        if value is None:
            continue
        try:
            float(value)
        except ValueError:
            if value not in bad:
                bad.append(value)
            if len(bad) == 3:
                break
    return f" (not numbers: {', '.join(map(repr, bad))})" if bad else ""


def current_column(ref: ColumnProfile, column: pa.ChunkedArray, *,
                   require_values: bool = True) -> ColumnProfile:
    """The exact profile of one current column, of the reference column's kind (with
    ``require_values``, a column with no value is an error naming it)."""
    prof = ColumnProfile(name=ref.name, kind=ref.kind, kind_reason=ref.kind_reason,
                         role=ref.role, arrow_type=str(column.type),
                         family=type_family(column.type), n_rows=len(column),
                         n_missing=column.null_count)
    if ref.kind == ColumnKind.NUMERIC:
        nv = numeric_values(ref.name, column, "current")
        if nv.values.size == 0 and require_values:
            raise no_values_error(ref.name, "current", len(column))
        prof.sorted_values = np.sort(nv.values)
        prof.n_missing = nv.n_missing
    elif ref.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
        cc = category_counts(column)
        if cc.counts.size == 0 and require_values:
            raise no_values_error(ref.name, "current", len(column))
        prof.labels, prof.counts, prof.n_missing = cc.labels, cc.counts, cc.n_missing
    return prof


def window_profile(reference: ReferenceProfile, table: pa.Table, name: str = "window") -> (
    ReferenceProfile
):
    """One window's profile on ``reference``'s columns, kinds and grids: what the service
    stores per window, so that any run of windows merges into one comparable profile."""
    columns = {}
    for ref in reference.columns.values():
        column = table.column(ref.name)
        if type_family(column.type) not in ("null", ref.family):
            type_note(ref, column)  # raises, naming the column
        columns[ref.name] = current_column(ref, column, require_values=False)
    return ReferenceProfile(table.num_rows, columns, list(reference.excluded),
                            name).on_grids_of(reference)


#: Imported on a thread while a reference's columns are read and sorted: pandas, which
#: pyarrow imports when it first converts a chunked column (if pandas is installed), and
#: the comparison's SciPy.
PRELOAD = ("scipy.stats",)


class InMemoryEngine:
    """Arrow tables in this process, one column per task on a thread pool.

    Parameters
    ----------
    threads : int, optional
        Worker threads; by default every core this process may use (:func:`default_threads`).
    """

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads

    def _threads(self) -> int:
        return self.threads if self.threads is not None else default_threads()

    def prepare(self, data: Any, sample: str) -> Any:
        """Any supported input (table, DataFrame, array, file path) as an Arrow table; a
        Parquet file or folder as :class:`~driftwise.data.parquet_columns.ParquetColumns`,
        read one column at a time (only a column per thread is in memory)."""
        if is_parquet_path(data):
            data = ParquetColumns(data)
        table = data if isinstance(data, ParquetColumns) else to_table(data)
        require_rows(table, sample)
        return table

    def columns_of(self, data: Any) -> list[str]:
        """The column names of an Arrow table."""
        names: list[str] = data.column_names
        return names

    def profile(self, data: Any, *, kinds: Mapping[str, str], roles: Mapping[str, str],
                exclude: Iterable[str], name: str,
                progress: Progress | None = None) -> ReferenceProfile:
        """The exact reference profile of an Arrow table."""
        return ReferenceProfile.from_table(data, kinds=kinds, roles=roles, exclude=exclude,
                                           name=name, progress=progress,
                                           threads=self._threads(), preload=PRELOAD)

    def compare(self, reference: ReferenceProfile, data: Any, settings: DriftSettings, *,
                progress: Progress | None = None) -> CurrentComparison:
        """Profile and compare every column of ``data`` (a table or Parquet columns)."""
        table = data

        def one(ref: ColumnProfile) -> ColumnComparison:
            column = table.column(ref.name)
            note = type_note(ref, column)
            compared = compare_column(ref, current_column(ref, column), settings, note)
            markers = markers_of(table, ref.name)
            if markers or ref.markers:
                quality = dataclasses.replace(
                    compared.quality, missing_markers_reference=dict(ref.markers),
                    missing_markers_current=markers)
                compared = dataclasses.replace(compared, quality=quality)
            del column
            # A column read from Parquet was decoded into Arrow's pool, which keeps freed
            # buffers for reuse: hand them back so that columns do not stack up.
            pa.default_memory_pool().release_unused()
            return compared

        tick = None if progress is None else (lambda ref: progress(ref.name))
        columns = parallel_map(one, list(reference.columns.values()), self._threads(), tick)
        return CurrentComparison(table.num_rows, columns, table)
