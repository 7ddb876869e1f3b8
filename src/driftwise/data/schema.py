"""Column kinds: what a column is, decided once on the reference and overridable.

Inference rules (documented in the README):

* boolean Arrow type -> ``boolean`` (tested like a two-category column);
* timestamp, date or time, and strings that all parse with one common date format
  -> ``datetime`` (not tested: it indexes time, so every
  period differs by construction);
* integers, and floats whose values are all whole numbers, with at most
  :data:`MAX_CODED_CATEGORIES` distinct values -> ``categorical`` (integer-coded);
* integers that are (almost) all distinct and whose name says key (``id``, ``*_id``,
  ``uuid``, ``index``, ``Unnamed: 0``...), and strings that are almost all distinct
  -> ``identifier`` (not tested); unique integers with another name are measurements
  and are tested (declare ``kind: identifier`` to skip one);
* strings whose values are mostly distinct sentences -> ``text`` (tested by the text
  drift detector, not per value);
* lists of numbers (Arrow ``list<float>``, e.g. from Parquet), and strings that are all
  JSON arrays of numbers (how a CSV holds vectors) -> ``embedding`` (tested by the
  embedding drift detector);
* lists of other values, structs, maps and unions -> ``nested``; binary and other types
  -> ``unsupported`` (both reported with the reason, not tested);
* other numbers -> ``numeric``; other strings -> ``categorical``.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftwise.data._arrow import numpy_values


class ColumnKind(StrEnum):
    """The kinds of column driftwise tells apart."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    TEXT = "text"
    IDENTIFIER = "identifier"
    EMBEDDING = "embedding"
    NESTED = "nested"
    UNSUPPORTED = "unsupported"


#: Kinds compared with a two-sample test; the others are reported with a reason.
TESTED_KINDS = frozenset({ColumnKind.NUMERIC, ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN})

MAX_CODED_CATEGORIES = 20
IDENTIFIER_MIN_ROWS = 50
IDENTIFIER_UNIQUE_SHARE = 0.95
TEXT_MIN_MEAN_WORDS = 4.0
TEXT_UNIQUE_SHARE = 0.5
_ID_TOKEN = re.compile(r"(^|[_\W])(id|uuid|guid|key)$|^id[_\W]", re.IGNORECASE)
#: Names of row numbers: a DataFrame index written out ("Unnamed: 0"), "index", "row"...
_ROW_NUMBER = re.compile(r"^(unnamed: ?\d+|index|idx|row|rownum|row_?(number|no|index|nr)|"
                         r"seq|sequence|line|__index_level_\d+__)$", re.IGNORECASE)
_ID_CAMEL = re.compile(r"[a-z](Id|ID)$")

SKIP_REASONS = {
    ColumnKind.DATETIME: "datetime column: a time index differs between periods by design",
    ColumnKind.TEXT: "free text: needs the text drift detector, not a per-value test (see the "
    "report's text part)",
    ColumnKind.EMBEDDING: "vectors: compared as a whole by the embedding drift detector (see "
    "the report's embeddings part)",
    ColumnKind.IDENTIFIER: "identifier: (almost) every value is unique, so its distribution "
    "carries no drift signal",
    ColumnKind.NESTED: "nested values (lists, structs or maps): not tested; flatten their "
    "fields into columns to test them",
    ColumnKind.UNSUPPORTED: "values of a type driftwise does not test (binary data...)",
}


def is_numeric_type(t: pa.DataType) -> bool:
    """Integer, floating or decimal Arrow type."""
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))


def is_string_type(t: pa.DataType) -> bool:
    """Any Arrow string type."""
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def is_temporal_type(t: pa.DataType) -> bool:
    """Timestamp, date, time or duration Arrow type."""
    return bool(
        pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_time(t)
        or pa.types.is_duration(t)
    )


def is_nested_type(t: pa.DataType) -> bool:
    """List, struct, map or union Arrow type (of any depth)."""
    return bool(pa.types.is_nested(t) or pa.types.is_union(t))


def is_vector_type(t: pa.DataType) -> bool:
    """Any Arrow list type whose items are integers or floats."""
    if not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
        return False
    return bool(pa.types.is_floating(t.value_type) or pa.types.is_integer(t.value_type))


def type_family(t: pa.DataType) -> str:
    """Coarse type family used to decide whether two samples' types are compatible."""
    if is_vector_type(t):
        return "vector"
    if pa.types.is_boolean(t):
        return "boolean"
    if is_numeric_type(t):
        return "number"
    if is_string_type(t):
        return "string"
    if is_temporal_type(t):
        return "datetime"
    if pa.types.is_null(t):
        return "null"
    return str(t)


def _non_null(column: pa.ChunkedArray) -> pa.ChunkedArray:
    non_null = pc.drop_null(column)
    if pa.types.is_floating(column.type):
        non_null = pc.filter(non_null, pc.invert(pc.is_nan(non_null)))
    return non_null


def _whole_numbers(values: pa.ChunkedArray) -> bool:
    """Integers, or floats whose finite values are all whole numbers (nulls ignored)."""
    if pa.types.is_integer(values.type):
        return True
    if not pa.types.is_floating(values.type) or len(values) == 0:
        return False
    # Chunk by chunk, a short head first: a column of fractions is told by its first values
    # without rounding a million of them.
    for chunk in values.chunks:
        arr = numpy_values(chunk)
        if not (_all_whole(arr[:_WHOLE_HEAD]) and _all_whole(arr[_WHOLE_HEAD:])):
            return False
    return True


_WHOLE_HEAD = 4096


def _all_whole(arr: np.ndarray) -> bool:
    """Every value that is not NaN (a null read as NaN) is a whole number or infinite."""
    return bool(np.all((arr == np.round(arr)) | np.isnan(arr)))


_DATE_FORMATS = (
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S %z",
    "%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%d/%m/%Y", "%d/%m/%Y %H:%M",
    "%d.%m.%Y", "%d-%b-%y", "%d-%b-%Y", "%b %d, %Y",
)
DATE_SAMPLE = 200


def _date_format(values: pa.ChunkedArray) -> str | None:
    """The first common date format that every sampled string parses with, if any."""
    sample = [str(v).strip() for v in values.slice(0, DATE_SAMPLE).to_pylist()]
    if not sample or not any(ch.isdigit() for ch in sample[0]):
        return None
    for fmt in _DATE_FORMATS:
        try:
            for value in sample:
                datetime.strptime(value, fmt)
        except ValueError:
            continue
        return fmt
    return None


def _looks_like_text(values: pa.ChunkedArray, n_unique: int) -> bool:
    n = len(values)
    if n == 0 or n_unique < TEXT_UNIQUE_SHARE * n:
        return False
    sample = values.slice(0, min(n, 2000))
    words = pc.count_substring(pc.utf8_trim_whitespace(sample), " ")
    mean_words = pc.mean(words).as_py()
    return mean_words is not None and mean_words + 1 >= TEXT_MIN_MEAN_WORDS


def is_key_name(name: str) -> bool:
    """Whether a column's name says it is a key: ``id``, ``user_id``, ``uuid``, ``index``..."""
    return bool(_ID_TOKEN.search(name) or _ID_CAMEL.search(name) or _ROW_NUMBER.match(name))


def _json_vectors(values: pa.ChunkedArray) -> bool:
    """Whether the sampled strings all look like JSON arrays of numbers."""
    sample = [str(v).strip() for v in values.slice(0, 50).to_pylist()]
    return bool(sample) and all(
        v.startswith("[") and v.endswith("]") and any(ch.isdigit() for ch in v) for v in sample
    )


def infer_kind(name: str, column: pa.ChunkedArray) -> tuple[ColumnKind, str]:
    """Infer the kind of a reference column, with the reason in words.

    Returns
    -------
    (ColumnKind, str)
        The kind and a short explanation a user can check.
    """
    t = column.type
    if pa.types.is_boolean(t):
        return ColumnKind.BOOLEAN, "boolean values"
    if is_temporal_type(t):
        return ColumnKind.DATETIME, f"{t} values"
    if is_vector_type(t):
        return ColumnKind.EMBEDDING, f"vectors ({t})"
    if is_nested_type(t):
        return ColumnKind.NESTED, f"nested type {t}"
    if not (is_numeric_type(t) or is_string_type(t) or pa.types.is_null(t)):
        return ColumnKind.UNSUPPORTED, f"{t} values"
    if pa.types.is_floating(t) and not _whole_numbers(column):
        # Fractional values: numeric, whatever their count (no need to hash them all).
        return ColumnKind.NUMERIC, f"{t} values"
    values = _non_null(column)
    n = len(values)
    n_unique = pc.count_distinct(values).as_py() if n else 0
    distinct_share = n_unique / n if n else 0.0
    many_distinct = n >= IDENTIFIER_MIN_ROWS and distinct_share >= IDENTIFIER_UNIQUE_SHARE
    if is_numeric_type(t):
        if n_unique <= MAX_CODED_CATEGORIES and _whole_numbers(values):
            return ColumnKind.CATEGORICAL, f"integer-coded, {n_unique} distinct values"
        if pa.types.is_integer(t) and many_distinct:
            if is_key_name(name):
                return ColumnKind.IDENTIFIER, "integer key: its name and unique values"
            # Unique numbers are a measurement (an amount, a duration) unless the name or
            # a declared kind says key: test them, and say why.
            return ColumnKind.NUMERIC, (f"{t} values, {distinct_share:.0%} distinct; tested "
                                        "(declare kind: identifier if it is a key)")
        return ColumnKind.NUMERIC, f"{t} values"
    if is_string_type(t):
        fmt = _date_format(values)
        if fmt is not None:
            return ColumnKind.DATETIME, f"dates written as text ({fmt})"
        if _json_vectors(values):
            return ColumnKind.EMBEDDING, "vectors written as JSON arrays"
        if _looks_like_text(values, n_unique):
            return ColumnKind.TEXT, "mostly distinct multi-word strings"
        if many_distinct:
            return ColumnKind.IDENTIFIER, f"{distinct_share:.0%} of values distinct"
        return ColumnKind.CATEGORICAL, f"strings, {n_unique} distinct values"
    return ColumnKind.NUMERIC, "no values"
