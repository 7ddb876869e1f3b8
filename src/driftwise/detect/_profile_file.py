"""The profile file on disk: its schema, and reading it back without trusting it.

A profile can come from anywhere (a colleague, an artefact store, a hand edit), so
everything in it is checked before use: the JSON metadata against a strict schema, each
numeric array's type, shape, order and finiteness, the row sample's size, and the ZIP
entries' sizes before they are decompressed. Any problem is one error that starts with
"damaged profile:" and says what is wrong, never a ``KeyError`` from deep inside.
"""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Annotated, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray
from pydantic import Field, model_validator

from driftwise._text import one_line
from driftwise._version import __version__
from driftwise.config._model import StrictModel, validate
from driftwise.detect.settings import DriftSettings
from driftwise.errors import ConfigError, InputFileError

PROFILE_FORMAT = "driftwise-reference-profile"
PROFILE_VERSION = 2
#: Versions this release reads: 1 (exact numeric columns only) and 2 (grid summaries too).
READABLE_VERSIONS = (1, 2)
#: Most edges of one grid (a grid of 2,048 cells has 2,049).
MAX_GRID_EDGES = 1 << 20
PROFILE_SUFFIX = ".profile"
#: Rows kept for the row-based parts (multivariate, embeddings, text); the detectors of
#: those parts use at most 5,000 rows per sample themselves.
ROW_SAMPLE = 20_000
#: Largest profile.json accepted (category labels of very wide categoricals included).
MAX_META_BYTES = 256 << 20
#: Largest row sample entry accepted (texts and vectors of 20,000 rows).
MAX_ROWS_BYTES = 2 << 30
ROLES = ("feature", "target", "prediction")
KINDS = ("numeric", "categorical", "boolean", "datetime", "text", "identifier", "embedding",
         "nested", "unsupported")

Count = Annotated[int, Field(ge=0)]


class GridMeta(StrictModel):
    """The scalars of a numeric column's grid summary (the arrays are in grid/<i>/)."""

    below: Count
    mean: float
    m2: Annotated[float, Field(ge=0)]
    minimum: float
    maximum: float
    #: The edges are the reference's grid, not stored (a window profile in the service).
    edges_from_reference: bool = False

    @model_validator(mode="after")
    def _finite(self) -> GridMeta:
        values = (self.mean, self.m2, self.minimum, self.maximum)
        if not all(np.isfinite(v) for v in values) or self.minimum > self.maximum:
            raise ValueError("grid moments must be finite, with minimum <= maximum")
        if not self.minimum <= self.mean <= self.maximum:
            raise ValueError("grid mean lies outside [minimum, maximum]")
        return self


class ColumnMeta(StrictModel):
    """One column as profile.json describes it."""

    name: str
    kind: Literal[KINDS]  # type: ignore[valid-type]
    kind_reason: str
    role: Literal[ROLES]  # type: ignore[valid-type]
    arrow_type: str
    family: str
    n_rows: Count
    n_missing: Count
    labels: list[str] | None = None
    counts: list[Count] | None = None
    markers: dict[str, Count] = Field(default_factory=dict)
    grid: GridMeta | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ColumnMeta:
        if self.n_missing > self.n_rows:
            raise ValueError(f"column {self.name!r}: {self.n_missing} missing values of "
                             f"{self.n_rows} rows")
        has_counts = self.labels is not None and self.counts is not None
        if (self.labels is None) != (self.counts is None):
            raise ValueError(f"column {self.name!r}: labels and counts go together")
        if has_counts:
            assert self.labels is not None and self.counts is not None
            if len(self.labels) != len(self.counts) or not self.labels:
                raise ValueError(f"column {self.name!r}: {len(self.labels)} labels but "
                                 f"{len(self.counts)} counts")
            if len(set(self.labels)) != len(self.labels):
                raise ValueError(f"column {self.name!r}: a category label is listed twice")
            if sum(self.counts) + self.n_missing != self.n_rows:
                raise ValueError(f"column {self.name!r}: counts add up to "
                                 f"{sum(self.counts) + self.n_missing} rows, not {self.n_rows}")
        if self.kind in ("categorical", "boolean") and not has_counts:
            raise ValueError(f"column {self.name!r} is {self.kind} but has no counts")
        if self.grid is not None and self.kind != "numeric":
            raise ValueError(f"column {self.name!r} is {self.kind} but has a grid")
        return self


class ProfileMeta(StrictModel):
    """profile.json of a reference profile (format version 1)."""

    format: Literal["driftwise-reference-profile"]
    version: Literal[1, 2]
    driftwise_version: str
    name: str
    n_rows: Annotated[int, Field(ge=1)]
    excluded: list[str]
    columns: list[ColumnMeta]
    settings: DriftSettings = Field(default_factory=DriftSettings)

    @model_validator(mode="after")
    def _consistent(self) -> ProfileMeta:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError("a column is listed twice")
        wrong = [c for c in self.columns if c.n_rows != self.n_rows]
        if wrong:
            raise ValueError(f"column {wrong[0].name!r} has {wrong[0].n_rows} rows, the "
                             f"profile {self.n_rows}")
        return self


@dataclass(frozen=True)
class ProfileContents:
    """What a profile file holds, checked."""

    meta: ProfileMeta
    settings: dict[str, Any]
    values: dict[int, NDArray[np.float64]]
    rows: pa.Table | None
    grids: dict[int, tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]]


def is_profile_path(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a profile: by its final suffix, ``.profile``, only."""
    return os.fspath(path).lower().endswith(PROFILE_SUFFIX)


GridArrays = dict[int, tuple[NDArray[np.float64] | None, NDArray[np.int64],
                             NDArray[np.float64]]]
#: A gridded column's edges by its name, for profiles that do not store them.
EdgesOf = Callable[[str], NDArray[np.float64] | None]


def write_profile(path: str | os.PathLike[str] | IO[bytes], meta: dict[str, Any],
                  values: dict[int, NDArray[np.float64]], rows: pa.Table | None,
                  grids: GridArrays | None = None) -> None:
    """Write a profile file: profile.json, one .npy per exact numeric column, the edges,
    counts and sums of each gridded one (deflated), the row sample."""
    try:
        _write(path, meta, values, rows, grids or {})
    except OSError as exc:
        where = one_line(os.fspath(path)) if isinstance(path, str | os.PathLike) else "profile"
        raise InputFileError(f"{where}: cannot write the profile "
                             f"({exc.strerror or exc})") from None


def _npy(array: NDArray[Any]) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _write(path: str | os.PathLike[str] | IO[bytes], meta: dict[str, Any],
           values: dict[int, NDArray[np.float64]], rows: pa.Table | None,
           grids: GridArrays) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("profile.json", json.dumps({"format": PROFILE_FORMAT,
                                                # Exact profiles stay readable by
                                                # releases that know version 1 only.
                                                "version": PROFILE_VERSION if grids else 1,
                                                "driftwise_version": __version__, **meta}))
        for i, array in values.items():
            zf.writestr(f"values/{i}.npy", _npy(array))
        for i, arrays in grids.items():
            for part, part_array in zip(GRID_PARTS, arrays, strict=True):
                if part_array is None:
                    continue
                zf.writestr(f"grid/{i}/{part}.npy", _npy(part_array),
                            compress_type=zipfile.ZIP_DEFLATED)
        if rows is not None:
            buf = io.BytesIO()
            pq.write_table(rows, buf, compression="zstd")
            zf.writestr("rows.parquet", buf.getvalue())


class _Damaged(Exception):
    """Internal: a check failed; the reader turns it into one InputFileError."""


def read_profile(path: str | os.PathLike[str]) -> ProfileContents:
    """Read and check a profile file.

    Raises
    ------
    InputFileError
        Not a regular file, not a driftwise profile, an unsupported version, or damaged.
    """
    p = Path(path)
    where = one_line(os.fspath(p))
    try:
        info = p.stat()
    except OSError as exc:
        raise InputFileError(f"{where}: no such file or folder" if not p.exists() else
                             f"{where}: cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError(f"{where}: not a regular file (a profile is a file written by "
                             "`driftwise profile`)")
    return _guarded(lambda: zipfile.ZipFile(p), where, None)


def read_profile_bytes(data: bytes, where: str, edges_of: EdgesOf | None = None) -> (
    ProfileContents
):
    """:func:`read_profile` of a profile held in memory (a stored window's); ``edges_of``
    gives the reference's edges of columns whose profile does not store them."""
    return _guarded(lambda: zipfile.ZipFile(io.BytesIO(data)), where, edges_of)


def _guarded(opener: Callable[[], zipfile.ZipFile], where: str,
             edges_of: EdgesOf | None) -> ProfileContents:
    try:
        with opener() as zf:
            return _read(zf, where, edges_of)
    except _Damaged as exc:
        raise InputFileError(f"{where}: damaged profile: {exc}") from None
    except zipfile.BadZipFile:
        raise InputFileError(f"{where}: not a readable driftwise profile (not a ZIP archive; "
                             "write one with `driftwise profile`)") from None
    except (OSError, EOFError, zipfile.LargeZipFile, NotImplementedError, RuntimeError) as exc:
        raise InputFileError(f"{where}: damaged profile: "
                             f"{one_line(str(exc) or type(exc).__name__)}") from None


def _entry(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise _Damaged(f"{name} is missing") from None
    if info.file_size > limit:
        raise _Damaged(f"{name} would expand to {info.file_size:,} bytes (at most "
                       f"{limit:,} expected)")
    data = zf.read(info)
    if len(data) != info.file_size:
        raise _Damaged(f"{name} is truncated")
    return data


def _read(zf: zipfile.ZipFile, where: str, edges_of: EdgesOf | None = None) -> (
    ProfileContents
):
    if "profile.json" not in zf.namelist():
        raise InputFileError(f"{where}: not a driftwise reference profile (no profile.json)")
    try:
        raw = json.loads(_entry(zf, "profile.json", MAX_META_BYTES))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Damaged(f"profile.json is not JSON ({one_line(str(exc))})") from None
    if not isinstance(raw, dict):
        raise _Damaged("profile.json does not hold a mapping")
    if raw.get("format") != PROFILE_FORMAT:
        raise InputFileError(f"{where}: not a driftwise reference profile")
    if raw.get("version") not in READABLE_VERSIONS:
        raise InputFileError(
            f"{where}: profile format version {one_line(repr(raw.get('version')))} is not "
            f"supported by driftwise {__version__} (expects {PROFILE_VERSION}); re-create it "
            "with `driftwise profile`")
    try:
        meta = validate(ProfileMeta, raw)
    except ConfigError as exc:
        raise _Damaged(str(exc)) from None
    settings = meta.settings.to_dict()
    values = {}
    grids = {}
    for i, col in enumerate(meta.columns):
        if col.kind == "numeric" and col.grid is not None:
            grids[i] = _grid(zf, i, col, col.grid, edges_of)
        elif col.kind == "numeric":
            values[i] = _numeric(zf, i, col)
    return ProfileContents(meta, settings, values, _rows(zf, meta), grids)


def _numeric(zf: zipfile.ZipFile, i: int, col: ColumnMeta) -> NDArray[np.float64]:
    n = col.n_rows - col.n_missing
    name = f"values/{i}.npy"
    data = _entry(zf, name, 8 * n + 4096)
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _Damaged(f"{name} (column {col.name!r}) is not a NumPy array "
                       f"({one_line(str(exc))})") from None
    if array.dtype != np.float64 or array.ndim != 1:
        raise _Damaged(f"column {col.name!r}: values are {array.dtype} of shape "
                       f"{array.shape}, expected 1-D float64")
    if array.size != n or n == 0:
        raise _Damaged(f"column {col.name!r}: {array.size} values, expected {n} "
                       f"({col.n_rows} rows, {col.n_missing} missing)")
    if not np.all(np.isfinite(array)):
        raise _Damaged(f"column {col.name!r}: values include NaN or infinity")
    if array.size > 1 and bool(np.any(array[1:] < array[:-1])):
        raise _Damaged(f"column {col.name!r}: values are not sorted")
    values: NDArray[np.float64] = array
    return values


GRID_PARTS = ("edges", "counts", "sums")


def _array(zf: zipfile.ZipFile, name: str, col: ColumnMeta, dtype: type, size: int | None) -> (
    NDArray[Any]
):
    limit = 8 * (size if size is not None else MAX_GRID_EDGES) + 4096
    data = _entry(zf, name, limit)
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _Damaged(f"{name} (column {col.name!r}) is not a NumPy array "
                       f"({one_line(str(exc))})") from None
    if array.dtype != dtype or array.ndim != 1 or (size is not None and array.size != size):
        raise _Damaged(f"column {col.name!r}: {name} holds {array.dtype} of shape "
                       f"{array.shape}, expected 1-D {np.dtype(dtype)}"
                       + (f" of {size} values" if size is not None else ""))
    result: NDArray[Any] = array
    return result


def _grid(zf: zipfile.ZipFile, i: int, col: ColumnMeta, grid: GridMeta,
          edges_of: EdgesOf | None) -> (
    tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]
):
    """A gridded column's arrays, checked against each other and the column's counts."""
    if grid.edges_from_reference:
        found = edges_of(col.name) if edges_of is not None else None
        if found is None:
            raise _Damaged(f"column {col.name!r} is on its reference's grid, and no "
                           "reference with that column was given")
        edges = found
    else:
        edges = _array(zf, f"grid/{i}/edges.npy", col, np.float64, None)
    if edges.size == 0 or not np.all(np.isfinite(edges)) or (
            edges.size > 1 and bool(np.any(edges[1:] <= edges[:-1]))):
        raise _Damaged(f"column {col.name!r}: grid edges must be finite and strictly "
                       "increasing")
    counts = _array(zf, f"grid/{i}/counts.npy", col, np.int64, edges.size + 1)
    sums = _array(zf, f"grid/{i}/sums.npy", col, np.float64, edges.size + 1)
    n = col.n_rows - col.n_missing
    if bool(np.any(counts < 0)) or int(counts.sum()) != n or n == 0:
        raise _Damaged(f"column {col.name!r}: grid counts add up to {int(counts.sum())}, "
                       f"expected {n} ({col.n_rows} rows, {col.n_missing} missing)")
    if grid.below > counts[0]:
        raise _Damaged(f"column {col.name!r}: {grid.below} values below the grid but only "
                       f"{int(counts[0])} in its first cell")
    if not np.all(np.isfinite(sums)):
        raise _Damaged(f"column {col.name!r}: grid sums include NaN or infinity")
    return edges, counts, sums


def _rows(zf: zipfile.ZipFile, meta: ProfileMeta) -> pa.Table | None:
    if "rows.parquet" not in zf.namelist():
        return None
    data = _entry(zf, "rows.parquet", MAX_ROWS_BYTES)
    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        if parquet.metadata.num_rows > min(ROW_SAMPLE, meta.n_rows):
            raise _Damaged(f"rows.parquet holds {parquet.metadata.num_rows:,} rows, at most "
                           f"{min(ROW_SAMPLE, meta.n_rows):,} expected")
        rows = parquet.read()
    except pa.ArrowException as exc:
        raise _Damaged(f"rows.parquet is not readable ({one_line(str(exc))})") from None
    names = {c.name for c in meta.columns}
    extra = [c for c in rows.column_names if c not in names]
    if extra:
        raise _Damaged(f"rows.parquet has column {extra[0]!r}, which the profile does not "
                       "describe")
    return rows
