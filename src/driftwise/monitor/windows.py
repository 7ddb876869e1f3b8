"""Splitting a frame into windows: fixed row counts or calendar periods."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from driftwise.errors import ConfigError, SchemaError
from driftwise.monitor._columns import timestamps

PERIODS = {"hour": "hour", "day": "day", "week": "week", "month": "month",
           "quarter": "quarter", "year": "year"}
_LABEL_FORMAT = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "week": "%Y-%m-%d",
                 "month": "%Y-%m", "quarter": "%Y-%m", "year": "%Y"}


def rows_label(start: int, rows: int, n_rows: int) -> str:
    """The label of the row window that starts at row ``start``."""
    return f"rows {start}-{min(start + rows, n_rows) - 1}"


def period_codes(table: pa.Table, period: str, timestamp: str | None) -> tuple[
        NDArray[np.intp], list[str], list[int]]:
    """Each row's period window as an index into its labels, which are in time order, and
    each label's start (the period's first instant, as Arrow's int64 of the timestamp).

    Vectorised: only the distinct periods are formatted, however many rows there are."""
    if period not in PERIODS:
        raise ConfigError(f"windows.period: expected one of {', '.join(PERIODS)}, got {period!r}")
    if timestamp is None or timestamp not in table.column_names:
        raise SchemaError(f"period windows need the timestamp column {timestamp!r}")
    ts = timestamps(table, timestamp, "period windows: ")
    if ts.null_count:
        raise SchemaError(f"column {timestamp!r} has {ts.null_count} missing timestamp(s)")
    start = pc.floor_temporal(ts, unit=PERIODS[period], week_starts_monday=True)
    instants = np.asarray(pc.cast(start, pa.int64()).to_numpy(), dtype=np.int64)
    distinct, first, inverse = np.unique(instants, return_index=True, return_inverse=True)
    formatted = pc.strftime(start.take(pa.array(first)), format=_LABEL_FORMAT[period])
    labels: list[str] = []
    starts: list[int] = []
    index: dict[str, int] = {}
    remap = np.empty(distinct.size, dtype=np.intp)
    for j, label in enumerate(formatted.to_pylist()):  # in time order
        if label not in index:  # two starts with one label (a clock change) are one window
            index[label] = len(labels)
            labels.append(label)
            starts.append(int(distinct[j]))
        remap[j] = index[label]
    return remap[inverse.ravel()], labels, starts


def split_windows(table: pa.Table, *, rows: int | None, period: str | None,
                  timestamp: str | None) -> list[tuple[str, pa.Table]]:
    """Consecutive windows of ``rows`` rows, or one window per calendar ``period``.

    Period windows are labelled by their start (weeks start on Monday) and ordered in
    time; rows need not be sorted.
    """
    if period is None:
        if rows is None:
            raise ConfigError("windows: set `rows` or `period` to split a frame")
        return [(rows_label(start, rows, table.num_rows), table.slice(start, rows))
                for start in range(0, table.num_rows, rows)]
    codes, labels, _ = period_codes(table, period, timestamp)
    order = np.argsort(codes, kind="stable")  # each window's rows keep their order
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(labels)))])
    return [(label, table.take(pa.array(order[bounds[k]:bounds[k + 1]])))
            for k, label in enumerate(labels)]
