"""Calendar timestamps from the forms data exports write, for comparing values with seasons.

Accepted (``ACCEPTED_FORMS`` says it in one line, and every error repeats it):

- datetimes: ``datetime64``, pandas or :mod:`datetime` timestamps, dates;
- ISO 8601 text: ``'2015-02-01'``, ``'2015-02-01T10:30:00'``, ``'2015-02-01 10:30'``; an
  offset (``'Z'``, ``'+02:00'``) is dropped, and so are the time zones of aware timestamps:
  seasons follow the local clock;
- a year and a month: ``'2015-02'``, ``'2015/02'``, ``'1977M01'``, ``'1977-Jan'``,
  ``'1977-January'``, ``'Jan 1977'``, ``'January 1977'`` (English month names, any case);
  a day with a month name: ``'01-Jan-1977'``, ``'January 1, 1977'``; a year: ``'1977'``;
- Unix epoch numbers, their unit told by their size: the largest magnitude below ``1e10``
  means seconds, below ``1e13`` milliseconds, below ``1e16`` microseconds, otherwise
  nanoseconds (unambiguous for any time after April 1970).

Missing timestamps (``None``, ``NaN``, ``NaT``, empty text, ``'NA'``) become ``NaT``; the
caller decides what a missing time means. Day-first or month-first dates (``'01/02/2015'``)
and two-digit years are refused as ambiguous rather than guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from driftwise.errors import SchemaError

__all__ = ["ACCEPTED_FORMS", "parse_timestamps"]

ACCEPTED_FORMS = (
    "datetimes (datetime64, pandas or datetime timestamps), ISO 8601 text ('2015-02-01', "
    "'2015-02-01T10:30:00'; an offset such as 'Z' or '+02:00' is dropped, seasons follow the "
    "local clock), a year and month ('2015-02', '2015/02', '1977M01', '1977-Jan', "
    "'1977-January', 'Jan 1977'), a day with a month name ('01-Jan-1977', 'January 1, 1977'), "
    "a year ('1977'), or Unix epoch numbers (seconds, ms, us or ns, told apart by size)"
)
#: The years ``datetime64[ns]`` holds whole.
FIRST_YEAR, LAST_YEAR = 1678, 2261
_MISSING_TEXT = frozenset({"", "nan", "nat", "none", "null", "na", "n/a"})
_MONTHS = {name: i + 1 for i, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
    ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
    ("oct", "october"), ("nov", "november"), ("dec", "december"))) for name in names}
_FLAGS = re.ASCII | re.IGNORECASE  # ASCII: '１９７７' is not a year here
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2})(?::([0-9]{2})(?::([0-9]{2})"
                  r"(?:[.,]([0-9]{1,9}))?)?)?(?:\s*(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?))?)?", _FLAGS)
_OFFSET = r"([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?)\s*(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)$"
_DAY_FORMS = (  # (pattern, group names in order)
    (re.compile(r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})", _FLAGS), "ymd"),
    (re.compile(r"([0-9]{1,2})[-/ ]([a-z]+)\.?[-/ ,]*([0-9]{4})", _FLAGS), "dny"),
    (re.compile(r"([a-z]+)\.? +([0-9]{1,2}),? +([0-9]{4})", _FLAGS), "ndy"),
    (re.compile(r"([0-9]{4})[-/]([0-9]{1,2})", _FLAGS), "ym"),
    (re.compile(r"([0-9]{4})m([0-9]{1,2})", _FLAGS), "ym"),
    (re.compile(r"([0-9]{4})[-/ ]?([a-z]+)\.?", _FLAGS), "yn"),
    (re.compile(r"([a-z]+)\.?[-/ ,]*([0-9]{4})", _FLAGS), "ny"),
    (re.compile(r"([0-9]{4})", _FLAGS), "y"),
)
_EPOCH_UNITS = ((1e10, 10**9), (1e13, 10**6), (1e16, 10**3))  # below: ns per unit
_NS_LIMIT = 9.2e18  # |int64| holds +-9.22e18; the last part is NaT's


def local_wall_time(ts: Any) -> Any:
    """Time-zone-aware pandas timestamps -> their local wall time (seasons are local)."""
    if getattr(ts, "tz", None) is not None and hasattr(ts, "tz_localize"):
        return ts.tz_localize(None)
    accessor = getattr(ts, "dt", None)
    if accessor is not None and getattr(accessor, "tz", None) is not None:
        return accessor.tz_localize(None)
    return ts


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _refuse(what: str, value: object, position: int, problem: str) -> SchemaError:
    return SchemaError(f"{what}: timestamp {_shown(value)} at position {position} {problem}; "
                       f"accepted: {ACCEPTED_FORMS}")


def parse_timestamps(values: Any, what: str) -> npt.NDArray[np.datetime64]:
    """``datetime64[ns]`` of each value (``NaT`` where one is missing), from any accepted form.

    Parameters
    ----------
    values : array-like
        One-dimensional timestamps in one of the accepted forms (see the module docstring).
    what : str
        Where they come from, for the error (``"fit"``, ``"column 'ts'"``).

    Raises
    ------
    SchemaError
        A value in no accepted form, an invalid date (``'2015-02-30'``), a time outside the
        years 1678-2261, booleans or durations; the message names ``what``, the value, its
        position and the accepted forms.

    Example
    -------
    >>> parse_timestamps(["1977-Jan", "Feb 1977", "1977-03", None], "column 'month'")
    array(['1977-01-01T00:00:00.000000000', '1977-02-01T00:00:00.000000000',
           '1977-03-01T00:00:00.000000000',                           'NaT'],
          dtype='datetime64[ns]')
    """
    try:
        arr = np.asarray(local_wall_time(values))
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{what}: timestamps are not a sequence ({exc})") from None
    if arr.ndim != 1:
        raise SchemaError(f"{what}: timestamps must be one-dimensional, got shape {arr.shape}")
    kind = arr.dtype.kind
    if kind == "M":
        return _datetimes(arr, what)
    if kind in "iuf":
        return _epoch(arr, what)
    if kind in "US":
        return _text(arr.astype(str), what)
    if kind == "O":
        return _objects(arr, what)
    name = {"b": "booleans", "m": "durations"}.get(kind, str(arr.dtype))
    raise SchemaError(f"{what}: timestamps are {name}, not times; accepted: {ACCEPTED_FORMS}")


def _datetimes(arr: npt.NDArray[Any], what: str) -> npt.NDArray[np.datetime64]:
    """datetime64 of any unit -> ns, refusing times ns cannot hold (a cast would wrap)."""
    years = arr.astype("datetime64[Y]").astype(np.int64) + 1970
    bad = ~np.isnat(arr) & ((years < FIRST_YEAR) | (years > LAST_YEAR))
    if bad.any():
        i = int(np.argmax(bad))
        raise _refuse(what, str(arr[i]), i, f"is outside the years {FIRST_YEAR}-{LAST_YEAR}")
    out: npt.NDArray[np.datetime64] = arr.astype("datetime64[ns]")
    return out


def _epoch(arr: npt.NDArray[Any], what: str,
           where: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.datetime64]:
    """Unix epoch numbers; ``where`` maps their positions to the column's, for errors."""
    at = (lambda i: i) if where is None else (lambda i: int(where[i]))
    x = arr.astype(np.float64)
    infinite = np.isinf(x)
    if infinite.any():
        i = int(np.argmax(infinite))
        raise _refuse(what, arr[i].item(), at(i), "is not finite")
    finite = ~np.isnan(x)
    largest = float(np.max(np.abs(x[finite]))) if finite.any() else 0.0
    per_unit = next((ns for bound, ns in _EPOCH_UNITS if largest < bound), 1)
    scaled = x * per_unit
    beyond = finite & (np.abs(scaled) >= _NS_LIMIT)
    if beyond.any():
        i = int(np.argmax(beyond))
        raise _refuse(what, arr[i].item(), at(i), f"as a Unix epoch time is outside the years "
                                             f"{FIRST_YEAR}-{LAST_YEAR}")
    if arr.dtype.kind in "iu":  # exact: a float would round nanoseconds
        ns = arr.astype(np.int64) * np.int64(per_unit)
    else:
        ns = np.where(finite, np.round(scaled), 0.0).astype(np.int64)
    out = ns.view("datetime64[ns]").copy()
    out[~finite] = np.datetime64("NaT")
    return out


def _text(arr: npt.NDArray[np.str_], what: str,
          where: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.datetime64]:
    """Text timestamps; ``where`` maps their positions to the column's, for errors."""
    # The common cases in C, fast: strict ISO 8601, then with an offset dropped.
    text = pa.array(arr, pa.string())
    for attempt in (text, pc.replace_substring_regex(pc.utf8_trim_whitespace(text), _OFFSET,
                                                     r"\1")):
        try:
            cast = pc.cast(attempt, pa.timestamp("ns"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        out: npt.NDArray[np.datetime64] = np.asarray(cast.to_numpy(zero_copy_only=False),
                                                     dtype="datetime64[ns]")
        return out
    unique, first, inverse = np.unique(arr, return_index=True, return_inverse=True)
    parsed = np.empty(unique.size, dtype="datetime64[ns]")
    failures: list[tuple[int, str, str]] = []
    for j, text in enumerate(unique.tolist()):
        try:
            parsed[j] = _one(text)
        except ValueError as exc:
            failures.append((int(first[j]), text, str(exc)))
    if failures:
        position, text, problem = min(failures)
        raise _refuse(what, text, position if where is None else int(where[position]), problem)
    result: npt.NDArray[np.datetime64] = parsed[inverse.reshape(-1)]
    return result


def _one(text: str) -> np.datetime64:
    """One text timestamp; ValueError saying what is wrong with it."""
    s = text.strip()
    if s.lower() in _MISSING_TEXT:
        return np.datetime64("NaT", "ns")
    iso = _ISO.fullmatch(s)
    if iso:
        y, mo, d, h, mi, sec, frac = iso.groups()
        moment = _date(int(y), int(mo), int(d))
        clock = (int(h or 0), int(mi or 0), int(sec or 0))
        if clock[0] > 23 or clock[1] > 59 or clock[2] > 59:
            raise ValueError("is not a valid time of day")
        ns = (clock[0] * 3600 + clock[1] * 60 + clock[2]) * 10**9 + int((frac or "").ljust(9, "0"))
        return np.datetime64(moment, "ns") + np.timedelta64(ns, "ns")
    for pattern, order in _DAY_FORMS:
        match = pattern.fullmatch(s)
        if match:
            parts = dict(zip(order, match.groups(), strict=True))
            month = _month(parts["n"]) if "n" in parts else int(parts.get("m", 1))
            return np.datetime64(_date(int(parts["y"]), month, int(parts.get("d", 1))), "ns")
    raise ValueError("is not in a form driftwise reads")


def _month(name: str) -> int:
    month = _MONTHS.get(name.lower())
    if month is None:
        raise ValueError(f"names no month ({name!r}; English names such as 'Jan' or 'January')")
    return month


def _date(year: int, month: int, day: int) -> dt.date:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"is outside the years {FIRST_YEAR}-{LAST_YEAR}")
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"is not a valid date ({exc})") from None


def _objects(arr: npt.NDArray[Any], what: str) -> npt.NDArray[np.datetime64]:
    """A mixed object column: each value by its own kind, numbers together (their unit)."""
    out = np.full(arr.size, np.datetime64("NaT"), dtype="datetime64[ns]")
    texts: list[int] = []
    numbers: list[int] = []
    for i, value in enumerate(arr.tolist()):
        if value is None or (isinstance(value, (float, dt.date, np.datetime64))
                             and value != value):  # NaN, NaT (pandas' and NumPy's)
            continue
        if isinstance(value, str):
            texts.append(i)
        elif isinstance(value, bool):
            raise _refuse(what, value, i, "is a boolean, not a time")
        elif isinstance(value, (int, float)):
            numbers.append(i)
        elif isinstance(value, dt.datetime):
            naive = value.replace(tzinfo=None)  # wall time, as for aware pandas timestamps
            exact = getattr(naive, "to_datetime64", None)  # a pandas one keeps its nanoseconds
            moment = exact() if exact is not None else np.datetime64(naive)
            out[i] = _datetimes(np.array([moment]), what)[0]
        elif isinstance(value, (dt.date, np.datetime64)):
            out[i] = _datetimes(np.array([np.datetime64(value)]), what)[0]
        else:
            raise _refuse(what, value, i, f"is a {type(value).__name__}, not a time")
    if texts:
        index = np.asarray(texts, dtype=np.int64)
        out[index] = _text(np.asarray(arr[index].tolist(), dtype=str), what, index)
    if numbers:
        index = np.asarray(numbers, dtype=np.int64)
        out[index] = _epoch(np.asarray(arr[index].tolist()), what, index)
    return out
