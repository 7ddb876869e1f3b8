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
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

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
PROFILE_VERSION = 1
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
        return self


class ProfileMeta(StrictModel):
    """profile.json of a reference profile (format version 1)."""

    format: Literal["driftwise-reference-profile"]
    version: Literal[1]
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


def is_profile_path(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a profile: by its final suffix, ``.profile``, only."""
    return os.fspath(path).lower().endswith(PROFILE_SUFFIX)


def write_profile(path: str | os.PathLike[str], meta: dict[str, Any],
                  values: dict[int, NDArray[np.float64]], rows: pa.Table | None) -> None:
    """Write a profile file: profile.json, one .npy per numeric column, the row sample."""
    try:
        _write(path, meta, values, rows)
    except OSError as exc:
        raise InputFileError(f"{one_line(os.fspath(path))}: cannot write the profile "
                             f"({exc.strerror or exc})") from None


def _write(path: str | os.PathLike[str], meta: dict[str, Any],
           values: dict[int, NDArray[np.float64]], rows: pa.Table | None) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("profile.json", json.dumps({"format": PROFILE_FORMAT,
                                                "version": PROFILE_VERSION,
                                                "driftwise_version": __version__, **meta}))
        for i, array in values.items():
            buf = io.BytesIO()
            np.save(buf, array, allow_pickle=False)
            zf.writestr(f"values/{i}.npy", buf.getvalue())
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
    try:
        with zipfile.ZipFile(p) as zf:
            return _read(zf, where)
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


def _read(zf: zipfile.ZipFile, where: str) -> ProfileContents:
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
    if raw.get("version") != PROFILE_VERSION:
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
    for i, col in enumerate(meta.columns):
        if col.kind == "numeric":
            values[i] = _numeric(zf, i, col)
    return ProfileContents(meta, settings, values, _rows(zf, meta))


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
