"""Splitting a frame into windows: fixed row counts or calendar periods."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from driftwise.errors import ConfigError, SchemaError
from driftwise.monitor._columns import timestamps

PERIODS = {"hour": "hour", "day": "day", "week": "week", "month": "month",
           "quarter": "quarter", "year": "year"}
_LABEL_FORMAT = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "week": "%Y-%m-%d",
                 "month": "%Y-%m", "quarter": "%Y-%m", "year": "%Y"}


def rows_label(start: int, rows: int, n_rows: int) -> str:
    """The label of the row window that starts at row ``start``."""
    return f"rows {start}-{min(start + rows, n_rows) - 1}"


def period_keys(table: pa.Table, period: str, timestamp: str | None) -> tuple[list[str],
                                                                            list[Any]]:
    """Each row's period window: its label and the period's start."""
    if period not in PERIODS:
        raise ConfigError(f"windows.period: expected one of {', '.join(PERIODS)}, got {period!r}")
    if timestamp is None or timestamp not in table.column_names:
        raise SchemaError(f"period windows need the timestamp column {timestamp!r}")
    ts = timestamps(table, timestamp, "period windows: ")
    if ts.null_count:
        raise SchemaError(f"column {timestamp!r} has {ts.null_count} missing timestamp(s)")
    start = pc.floor_temporal(ts, unit=PERIODS[period], week_starts_monday=True)
    return pc.strftime(start, format=_LABEL_FORMAT[period]).to_pylist(), start.to_pylist()


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
    keys, starts = period_keys(table, period, timestamp)
    groups: dict[str, list[int]] = {}
    first: dict[str, object] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
        first.setdefault(key, starts[i])
    ordered = sorted(groups, key=lambda k: first[k])  # type: ignore[arg-type, return-value]
    return [(key, table.take(pa.array(groups[key]))) for key in ordered]
