"""A Parquet file or folder read one column at a time.

A drift report needs one column at a time: a table of a million rows and twenty columns
read whole sits in memory beside the reference's profile for the whole comparison, while
read column by column it costs one column per worker thread. :class:`ParquetColumns`
offers what the in-memory engine uses of a ``pyarrow.Table`` (``column_names``,
``num_rows``, ``schema``, ``column``, ``select``, ``take``) and reads only what is asked
for, each column normalised as :func:`driftwise.data.io.to_table` normalises it. A folder's
parts are checked to agree first, as when it is read whole; Hive-style ``key=value``
sub-folders become columns the same way.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from driftwise._text import literal, one_line, short
from driftwise.data._arrow import empty_table
from driftwise.data.io import _normalise_types, file_format
from driftwise.data.parquet import checked_parts
from driftwise.errors import InputFileError, SchemaError

if TYPE_CHECKING:
    import pyarrow.dataset as ds


def is_parquet_path(path: Any) -> bool:
    """Whether ``path`` names a Parquet file (by its suffix) or a folder."""
    if not isinstance(path, str | os.PathLike):
        return False
    p = Path(os.fspath(path))
    try:
        info = p.stat()
    except (OSError, ValueError):
        return False
    if stat.S_ISDIR(info.st_mode):
        return True
    try:
        return stat.S_ISREG(info.st_mode) and file_format(p)[0] == "parquet"
    except InputFileError:
        return False


class _SingleFile:
    """One Parquet file, read as a dataset of it would be (the file's Arrow schema, the
    columns asked for) without Arrow's dataset layer, whose import brings pandas."""

    def __init__(self, path: Path) -> None:
        parquet = pq.ParquetFile(path)
        self.path = path
        self.schema = parquet.schema_arrow
        self._metadata = parquet.metadata
        self._rows = int(parquet.metadata.num_rows)

    def count_rows(self) -> int:
        return self._rows

    def to_table(self, columns: list[str]) -> pa.Table:
        # A reader per call (one ParquetFile is not shared between threads), on the footer
        # read once.
        return pq.ParquetFile(self.path, metadata=self._metadata).read(columns=columns)


class ParquetColumns:
    """A Parquet file or folder whose columns are read when asked for.

    Parameters
    ----------
    path : path
        A Parquet file or a folder of Parquet files.
    names : sequence of str, optional
        The columns this view offers (default: all).
    """

    def __init__(self, path: str | os.PathLike[str], names: Sequence[str] | None = None,
                 *, _dataset: ds.Dataset | _SingleFile | None = None) -> None:
        self.path = Path(os.fspath(path))
        self._where = one_line(os.fspath(self.path))
        if _dataset is None:
            if self.path.is_dir():
                checked_parts(self.path)
            elif not os.access(self.path, os.R_OK):
                raise InputFileError(f"{self._where}: permission denied")
            try:
                if self.path.is_dir():
                    import pyarrow.dataset as ds  # Hive folders: Arrow's dataset discovery

                    _dataset = ds.dataset(self.path, format="parquet", partitioning="hive")
                else:
                    _dataset = _SingleFile(self.path)
                self._rows = int(_dataset.count_rows())
            except (pa.ArrowException, OSError, EOFError) as exc:
                raise InputFileError(f"{self._where}: not readable as Parquet "
                                     f"({short(exc)})") from None
        else:
            self._rows = int(_dataset.count_rows())
        self._dataset = _dataset
        all_names = list(_dataset.schema.names)
        if len(set(all_names)) != len(all_names):
            dupes = sorted({c for c in all_names if all_names.count(c) > 1})
            raise SchemaError(f"{self._where}: duplicate column names: "
                              f"{', '.join(literal(d) for d in dupes)}")
        self._names = list(names) if names is not None else all_names
        self._schema: pa.Schema | None = None

    @property
    def column_names(self) -> list[str]:
        return list(self._names)

    @property
    def num_rows(self) -> int:
        return self._rows

    @property
    def num_columns(self) -> int:
        return len(self._names)

    @property
    def schema(self) -> pa.Schema:
        """The schema as the columns will be read (dictionaries decoded, views cast)."""
        if self._schema is None:
            empty = empty_table(self._dataset.schema).select(self._names)
            self._schema = _normalise_types(empty).schema
        return self._schema

    def _read(self, names: list[str]) -> pa.Table:
        try:
            table = self._dataset.to_table(columns=names)
        except (pa.ArrowException, OSError, EOFError) as exc:
            raise InputFileError(f"{self._where}: cannot read column(s) "
                                 f"{', '.join(map(literal, names))} ({short(exc)})") from None
        return _normalise_types(table)

    def column(self, name: str) -> pa.ChunkedArray:
        """One column, read now."""
        if name not in self._names:
            raise KeyError(name)
        return self._read([name]).column(0)

    def select(self, names: Sequence[str]) -> ParquetColumns:
        """A view of some columns (nothing is read)."""
        missing = [n for n in names if n not in self._names]
        if missing:
            raise KeyError(missing[0])
        return ParquetColumns(self.path, names, _dataset=self._dataset)

    def read(self) -> pa.Table:
        """Every column of this view as one table."""
        return self._read(self._names)

    def combine_chunks(self) -> pa.Table:
        return self.read().combine_chunks()

    def take(self, indices: pa.Array) -> pa.Table:
        """The rows at ``indices``, read one column at a time."""
        columns = [self._read([n]).column(0).take(indices) for n in self._names]
        return pa.Table.from_arrays(columns, schema=self.schema)
