"""Reading Parquet files and folders, checking that a folder's parts agree.

A folder is read as one dataset (Hive-style ``key=value`` sub-folders become columns).
Arrow takes the first part's schema and fills a later part's missing columns with nulls,
or casts silently: here every part's schema is compared with the first one's before
reading, and a part that disagrees is an error naming the part and the column.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from driftwise._text import literal, one_line, short
from driftwise.errors import InputFileError

__all__ = ["read_parquet_file", "read_parquet_folder"]

#: The suffixes of Parquet files (the one place they are listed).
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")



def read_parquet_file(path: Path) -> pa.Table:
    """One Parquet file; a corrupt or truncated file is an InputFileError."""
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError, EOFError) as exc:
        raise InputFileError(f"{one_line(os.fspath(path))}: not readable as Parquet "
                             f"({short(exc)})") from None


def _hidden(path: Path, root: Path) -> bool:
    """Arrow's rule: names starting with '_' or '.' (``_SUCCESS``, ``.crc``) are skipped."""
    return any(part.startswith(("_", ".")) for part in path.relative_to(root).parts)


def parts_of(folder: Path) -> list[Path]:
    """The Parquet files of a folder, in the order Arrow reads them."""
    where = one_line(os.fspath(folder))
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not _hidden(p, folder))
    others = [p for p in files if not p.name.lower().endswith(PARQUET_SUFFIXES)]
    if others:
        raise InputFileError(f"{where}: a Parquet folder holds only Parquet files, found "
                             f"{literal(os.fspath(others[0].relative_to(folder)))}")
    if not files:
        raise InputFileError(f"{where}: a folder must hold Parquet files (*.parquet)")
    return files


def read_parquet_folder(folder: Path) -> pa.Table:
    """Every part of a folder as one table, once their schemas are known to agree."""
    where = one_line(os.fspath(folder))
    checked_parts(folder)
    try:
        return pq.read_table(folder)
    except (pa.ArrowException, OSError, EOFError) as exc:
        raise InputFileError(f"{where}: not readable as Parquet ({short(exc)})") from None


def checked_parts(folder: Path) -> list[tuple[Path, pa.Schema]]:
    """A folder's Parquet parts and their schemas, once the schemas are known to agree."""
    where = one_line(os.fspath(folder))
    files = parts_of(folder)
    schemas = []
    for part in files:
        try:
            schemas.append(pq.read_schema(part))
        except (pa.ArrowException, OSError, EOFError) as exc:
            raise InputFileError(f"{where}: part {literal(os.fspath(part.relative_to(folder)))}"
                                 f" is not readable as Parquet ({short(exc)})") from None
    first = schemas[0].remove_metadata()
    for part, schema in zip(files[1:], schemas[1:], strict=True):
        problem = _difference(first, schema.remove_metadata())
        if problem:
            raise InputFileError(
                f"{where}: part {literal(os.fspath(part.relative_to(folder)))} disagrees with "
                f"{literal(os.fspath(files[0].relative_to(folder)))}: {problem}")
    return list(zip(files, schemas, strict=True))


def _difference(first: pa.Schema, other: pa.Schema) -> str | None:
    missing = [n for n in first.names if n not in other.names]
    if missing:
        return f"it lacks column {literal(missing[0])}"
    extra = [n for n in other.names if n not in first.names]
    if extra:
        return f"it has an extra column {literal(extra[0])}"
    for field in first:
        theirs = other.field(field.name).type
        if theirs != field.type:
            return f"column {literal(field.name)} is {theirs} there, {field.type} here"
    return None
