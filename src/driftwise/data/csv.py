"""Reading CSV files as people write them: dialects, encodings, markers of missing values.

* The delimiter is sniffed among ``,`` ``;`` tab ``|`` from the first lines (or given);
  a file that still parses to one column whose name holds a delimiter is an error, not a
  table of one untestable column.
* Text is UTF-8 unless an encoding is given; bytes that do not decode are an error naming
  the encoding and the offset (Arrow would otherwise read the column as binary, and the
  column would be skipped in silence).
* Quoted values may hold newlines, in files of any size.
* A column of numbers with a few non-numeric markers (``?``, ``n/a``, ``-``) is numeric:
  the markers count as missing values and are reported (:data:`MARKERS_KEY`).
* Null markers are Arrow's list (``NA``, ``N/A``, ``NULL``, ``NaN``, ``nan``, empty...)
  unless ``na_values`` replaces it.
"""

from __future__ import annotations

import codecs
import csv as pycsv
import io
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv
from pydantic import BeforeValidator, Field, field_validator

from driftwise._text import literal, one_line
from driftwise.config._model import StrictModel
from driftwise.errors import InputFileError

__all__ = ["DEFAULT_NA_VALUES", "MARKERS_KEY", "ReadOptions", "markers_of", "read_csv"]

DELIMITERS = (",", ";", "\t", "|")
#: Arrow's default null markers, as read by default.
DEFAULT_NA_VALUES = tuple(pacsv.ConvertOptions().null_values)
#: Field-metadata key under which the markers counted as missing are recorded (JSON).
MARKERS_KEY = b"driftwise.missing_markers"
HEAD_BYTES = 1 << 18
SNIFF_ROWS = 50
_NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_INTEGER = r"^\s*[-+]?\d{1,18}\s*$"
#: Words spreadsheets and exports use for "no value" (compared case-insensitively); any
#: token made only of punctuation ("?", "-", "*", "--") is a marker too.
MISSING_WORDS = frozenset({"na", "n/a", "n.a.", "nan", "null", "none", "nil", "missing",
                           "unknown", "not available", "#n/a", "#na", "#value!", "#div/0!",
                           "#ref!", "#num!", "#null!"})
_PUNCTUATION = re.compile(r"^[^\w\s]+$")


def _na_values(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


class ReadOptions(StrictModel):
    """How CSV files are read (Parquet files carry their own types).

    Parameters
    ----------
    delimiter : str, optional
        One character; sniffed among ``, ; tab |`` when not given (``.tsv``: tab).
    encoding : str
        Any encoding Python knows (``utf-8``, ``latin-1``, ``cp1252``, ``utf-16``...).
    na_values : list of str, optional
        The strings read as missing; ``None`` keeps :data:`DEFAULT_NA_VALUES`; ``[]``
        makes only empty fields missing.
    """

    delimiter: str | None = None
    encoding: str = "utf-8"
    na_values: Annotated[list[str] | None, BeforeValidator(_na_values)] = None
    markers: bool = Field(True, description="Read numbers with a few non-numeric markers "
                          "('?', 'n/a', '-') as numeric, the markers counted as missing.")

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and (len(value) != 1 or value in "\"\r\n"):
            raise ValueError(f"expected one character other than a quote or a newline, got "
                             f"{literal(value)}")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            return codecs.lookup(value).name
        except LookupError:
            raise ValueError(f"unknown encoding {literal(value)} (e.g. utf-8, latin-1, "
                             "cp1252, utf-16)") from None


def _head(stream: pa.NativeFile) -> tuple[bytes, bool]:
    """The first bytes of the (decompressed) file and whether there is more."""
    data = stream.read(HEAD_BYTES + 1)
    return data[:HEAD_BYTES], len(data) > HEAD_BYTES


def _decode_head(head: bytes, encoding: str, where: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        return str(decoder.decode(head, final=False))
    except UnicodeDecodeError as exc:
        raise InputFileError(_encoding_message(where, encoding, exc.start, head)) from None
    except UnicodeError as exc:  # e.g. UTF-16 text without a byte-order mark
        raise InputFileError(f"{where}: not {encoding} text ({one_line(str(exc))}); "
                             f"{encoding_hint(encoding)}") from None


def encoding_hint(encoding: str) -> str:
    """What to do about text that does not decode in ``encoding``."""
    return ("pass the file's encoding, e.g. --encoding latin-1 or --encoding cp1252"
            if encoding == "utf-8" else "check the file's encoding (--encoding)")


def _encoding_message(where: str, encoding: str, offset: int | None,
                      data: bytes | None = None) -> str:
    at = ""
    if offset is not None and data is not None and offset < len(data):
        at = f" (byte {data[offset]:#04x} at offset {offset:,})"
    return f"{where}: not valid {encoding} text{at}; {encoding_hint(encoding)}"


def _widths(sample: str, delimiter: str) -> set[int]:
    """How many fields the first rows have when split by ``delimiter`` (quotes honoured)."""
    try:
        rows = [row for _, row in zip(range(SNIFF_ROWS),
                                      pycsv.reader(io.StringIO(sample), delimiter=delimiter),
                                      strict=False) if row]
    except pycsv.Error:
        return set()
    return {len(row) for row in rows}


def _sample(text: str, complete: bool) -> str:
    lines = text.splitlines(keepends=True)
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    return "".join(lines[: SNIFF_ROWS * 4])


def sniff_delimiter(text: str, complete: bool) -> str:
    """The delimiter among :data:`DELIMITERS` for the first rows of a file.

    The one that splits them consistently into the most fields; failing that, the one that
    splits the header into the most fields (the reader then names the ragged row); for a
    file of one column, ``,``.
    """
    sample = _sample(text, complete)
    header = _sample(text.split("\n", 1)[0] + "\n", True)
    consistent = {d: w.pop() for d in DELIMITERS if len(w := _widths(sample, d)) == 1}
    splitting = {d: max(_widths(header, d) or {1}) for d in DELIMITERS}
    wide = {d: w for d, w in consistent.items() if w > 1}
    best = max(DELIMITERS, key=lambda d: (wide.get(d, 0), splitting[d], -DELIMITERS.index(d)))
    if best in wide or splitting[best] > 1:
        return best
    # One column: any delimiter that splits no row will do (its values may hold commas).
    return next((d for d in DELIMITERS if consistent.get(d) == 1), ",")


def _splits(text: str, complete: bool, delimiter: str) -> bool:
    """Whether ``delimiter`` would split the first rows consistently into several fields."""
    widths = _widths(_sample(text, complete), delimiter)
    return len(widths) == 1 and widths.pop() > 1


def _check_columns(table: pa.Table, where: str, delimiter: str, encoding: str,
                   head: tuple[str, bool]) -> None:
    if table.num_columns == 1:
        name = table.column_names[0]
        inside = [d for d in DELIMITERS if d != delimiter and d in name and _splits(*head, d)]
        if inside:
            shown = "tab" if inside[0] == "\t" else repr(inside[0])
            raise InputFileError(
                f"{where}: parsed as one column named {literal(name)}, which holds {shown}; "
                f"pass the delimiter (--delimiter {shown})")
    for field in table.schema:
        if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            raise InputFileError(f"{where}: column {literal(field.name)} is not valid "
                                 f"{encoding} text; {encoding_hint(encoding)}")


def read_csv(path: Path, compression: str | None, tab: bool, options: ReadOptions) -> pa.Table:
    """Read one CSV file (decompressing ``gzip``/``bz2``/``zstd``/``lz4``) as described above."""
    where = one_line(os.fspath(path))
    with pa.input_stream(os.fspath(path), compression=compression) as stream:
        head, more = _head(stream)
    if not head:
        raise InputFileError(f"{where}: empty file")
    utf16 = options.encoding.startswith(("utf-16", "utf-32"))
    if b"\x00" in head and not utf16:
        for bom, name in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
            if head.startswith(bom):
                raise InputFileError(f"{where}: {name.upper()} text (it starts with a "
                                     f"byte-order mark); pass --encoding {name}")
        raise InputFileError(f"{where}: binary content, not a CSV text file")
    text = _decode_head(head, options.encoding, where)
    delimiter = options.delimiter or ("\t" if tab else sniff_delimiter(text, not more))
    na = DEFAULT_NA_VALUES if options.na_values is None else tuple(options.na_values)
    read = pacsv.ReadOptions(encoding="utf8" if options.encoding == "utf-8"
                             else options.encoding)
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    # Empty fields are missing values in strings too, as in every spreadsheet and pandas.
    convert = pacsv.ConvertOptions(strings_can_be_null=True, null_values=list(na) or [""],
                                   quoted_strings_can_be_null=True)
    with pa.input_stream(os.fspath(path), compression=compression) as stream:
        table = pacsv.read_csv(stream, read_options=read, parse_options=parse,
                               convert_options=convert)
    _check_columns(table, where, delimiter, options.encoding, (text, not more))
    return numbers_with_markers(table) if options.markers else table


def _is_marker(token: str) -> bool:
    stripped = token.strip()
    return stripped.lower() in MISSING_WORDS or bool(_PUNCTUATION.match(stripped))


def numbers_with_markers(table: pa.Table) -> pa.Table:
    """String columns of numbers and missing-value markers become numeric columns.

    The markers become missing values; their counts are kept in the field's metadata.
    """
    fields, columns, changed = [], [], False
    for field, column in zip(table.schema, table.columns, strict=True):
        converted = _convert(column) if pa.types.is_string(field.type) or \
            pa.types.is_large_string(field.type) else None
        if converted is None:
            fields.append(field)
            columns.append(column)
            continue
        values, markers = converted
        meta = dict(field.metadata or {})
        meta[MARKERS_KEY] = json.dumps(markers).encode()
        fields.append(pa.field(field.name, values.type, True, meta))
        columns.append(values)
        changed = True
    if not changed:
        return table
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, table.schema.metadata))


def _convert(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, dict[str, int]] | None:
    is_number = pc.match_substring_regex(column, _NUMBER)
    n_numbers = pc.sum(is_number).as_py() or 0
    n_values = len(column) - column.null_count
    if n_numbers == 0 or n_numbers == n_values:
        # No numbers, or only numbers (then the writer chose to store them as text).
        return None
    others = pc.value_counts(pc.filter(column, pc.invert(is_number)))
    tokens = others.field("values").to_pylist()
    if not all(_is_marker(t) for t in tokens):
        return None
    markers = dict(zip(tokens, others.field("counts").to_pylist(), strict=True))
    kept = pc.utf8_trim_whitespace(pc.if_else(is_number, column, pa.scalar(None, column.type)))
    integers = pc.sum(pc.match_substring_regex(kept, _INTEGER)).as_py() or 0
    target = pa.int64() if integers == n_numbers else pa.float64()
    return pc.cast(kept, target), markers


def markers_of(table: pa.Table, name: str) -> dict[str, int]:
    """The missing-value markers counted in column ``name`` when it was read (or ``{}``)."""
    meta = table.schema.field(name).metadata or {}
    raw = meta.get(MARKERS_KEY)
    if raw is None:
        return {}
    try:
        found = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): int(v) for k, v in found.items()} if isinstance(found, dict) else {}
