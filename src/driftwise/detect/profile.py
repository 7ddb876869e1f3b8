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

import io
import json
import os
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from driftwise._version import __version__
from driftwise.data import (
    TESTED_KINDS,
    ColumnKind,
    category_counts,
    infer_kind,
    numeric_values,
    type_family,
)
from driftwise.data.schema import SKIP_REASONS
from driftwise.errors import ConfigError, InputFileError, SchemaError

PROFILE_FORMAT = "driftwise-reference-profile"
PROFILE_VERSION = 1
#: Rows kept for the row-based parts (multivariate, embeddings, text); the detectors of
#: those parts use at most 5,000 rows per sample themselves.
ROW_SAMPLE = 20_000
ROLES = ("feature", "target", "prediction")


@dataclass
class ColumnProfile:
    """What the reference says about one column."""

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
        return out


def no_values_error(name: str, sample: str, n_rows: int) -> SchemaError:
    return SchemaError(
        f"column {name!r} has no values in the {sample} sample (all {n_rows} missing); "
        f"exclude it (--exclude {name}) or fix the upstream data"
    )


def profile_column(
    name: str, column: pa.ChunkedArray, kind: ColumnKind | None, role: str
) -> ColumnProfile:
    """Profile one reference column, inferring its kind unless ``kind`` is given."""
    if kind is None:
        kind, reason = infer_kind(name, column)
    else:
        reason = "set in configuration"
    prof = ColumnProfile(
        name=name, kind=kind, kind_reason=reason, role=role, arrow_type=str(column.type),
        family=type_family(column.type), n_rows=len(column), n_missing=column.null_count,
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
    ) -> ReferenceProfile:
        """Profile every column of ``table`` except the excluded ones."""
        kinds = dict(kinds or {})
        roles = dict(roles or {})
        excluded = list(dict.fromkeys(exclude))
        known = set(table.column_names)
        unknown = [c for c in [*excluded, *kinds, *roles] if c not in known]
        if unknown:
            raise ConfigError(
                f"configured column(s) not in the reference: {', '.join(map(repr, unknown))}"
            )
        columns: dict[str, ColumnProfile] = {}
        for col in table.column_names:
            if col in excluded:
                continue
            kind = _parse_kind(col, kinds[col]) if col in kinds else None
            role = roles.get(col, "feature")
            columns[col] = profile_column(col, table.column(col), kind, role)
            if progress is not None:
                progress(col)
        return cls(table.num_rows, columns, excluded, name,
                   row_sample(table.select(list(columns))))

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

    def save(self, path: str | os.PathLike[str], settings: Mapping[str, Any] | None = None,
             *, rows: bool = True) -> None:
        """Write the profile (and optional detector settings) to one file; ``rows=False``
        leaves out the row sample."""
        meta = {
            "format": PROFILE_FORMAT, "version": PROFILE_VERSION,
            "driftwise_version": __version__, "name": self.name, "n_rows": self.n_rows,
            "excluded": self.excluded, "columns": [c.meta() for c in self.columns.values()],
            "settings": dict(settings or {}),
        }
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr("profile.json", json.dumps(meta))
            for i, col in enumerate(self.columns.values()):
                if col.sorted_values is not None:
                    buf = io.BytesIO()
                    np.save(buf, col.sorted_values, allow_pickle=False)
                    zf.writestr(f"values/{i}.npy", buf.getvalue())
            if rows and self.rows is not None:
                buf = io.BytesIO()
                pq.write_table(self.rows, buf, compression="zstd")
                zf.writestr("rows.parquet", buf.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> tuple[ReferenceProfile, dict[str, Any]]:
        """Read a profile file; returns the profile and the settings saved with it."""
        p = Path(path)
        try:
            with zipfile.ZipFile(p) as zf:
                meta = json.loads(zf.read("profile.json"))
                if meta.get("format") != PROFILE_FORMAT:
                    raise InputFileError(f"{p}: not a driftwise reference profile")
                if meta.get("version") != PROFILE_VERSION:
                    raise InputFileError(
                        f"{p}: profile format version {meta.get('version')} is not supported "
                        f"by driftwise {__version__} (expects {PROFILE_VERSION}); re-create it "
                        "with `driftwise profile`"
                    )
                columns = {}
                for i, m in enumerate(meta["columns"]):
                    col = ColumnProfile(
                        name=m["name"], kind=ColumnKind(m["kind"]), kind_reason=m["kind_reason"],
                        role=m["role"], arrow_type=m["arrow_type"], family=m["family"],
                        n_rows=m["n_rows"], n_missing=m["n_missing"],
                    )
                    if col.kind == ColumnKind.NUMERIC:
                        col.sorted_values = np.load(
                            io.BytesIO(zf.read(f"values/{i}.npy")), allow_pickle=False
                        )
                    if "labels" in m:
                        col.labels = tuple(m["labels"])
                        col.counts = np.asarray(m["counts"], dtype=np.int64)
                    columns[col.name] = col
                rows = None
                if "rows.parquet" in zf.namelist():
                    rows = pq.read_table(io.BytesIO(zf.read("rows.parquet")))
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, pa.ArrowException) as exc:
            raise InputFileError(f"{p}: not a readable driftwise profile ({exc})") from None
        profile = cls(meta["n_rows"], columns, list(meta["excluded"]), meta["name"], rows)
        return profile, dict(meta.get("settings", {}))


def row_sample(table: pa.Table, size: int = ROW_SAMPLE, seed: int = 0) -> pa.Table:
    """Every row of ``table`` up to ``size`` rows, else a seeded random ``size`` of them, in
    their original order."""
    if table.num_rows <= size:
        return table.combine_chunks()
    idx = np.sort(np.random.default_rng(seed).choice(table.num_rows, size, replace=False))
    return table.take(pa.array(idx))


def _parse_kind(column: str, value: str) -> ColumnKind:
    try:
        return ColumnKind(value)
    except ValueError:
        choices = ", ".join(k.value for k in ColumnKind)
        raise ConfigError(f"column {column!r}: unknown kind {value!r}; choose one of {choices}")\
            from None


def is_profile_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a driftwise profile file (a ZIP with ``profile.json``)."""
    p = Path(path)
    if not p.is_file() or not zipfile.is_zipfile(p):
        return False
    try:
        with zipfile.ZipFile(p) as zf:
            return "profile.json" in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
