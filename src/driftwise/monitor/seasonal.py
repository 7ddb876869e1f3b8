"""Seasonal baselines attached to Monitor features: seasonal cycle or anomaly, per window."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from driftwise.config.monitor import SeasonalCheck
from driftwise.errors import InsufficientDataError, SchemaError
from driftwise.monitor import _columns as col
from driftwise.monitor.metric_names import prefixed
from driftwise.monitor.result import MetricValue
from driftwise.stream import SeasonalBaseline
from driftwise.stream.seasonal import MIN_SEASON_POINTS


def _series(table: pa.Table, column: str, timestamp: str, sample: str) -> tuple[
        NDArray[np.float64], NDArray[np.datetime64], int]:
    """The column's values and times, sorted by time, rows without either dropped (counted)."""
    for name in (column, timestamp):
        if name not in table.column_names:
            raise SchemaError(f"checks.seasonal: column {name!r} is missing from the {sample} "
                              "sample")
    values_col = table.column(column)
    if not (pa.types.is_floating(values_col.type) or pa.types.is_integer(values_col.type)):
        raise SchemaError(f"checks.seasonal: column {column!r} must be numeric, it holds "
                          f"{values_col.type}")
    ts_col = col.timestamps(table, timestamp, "checks.seasonal: ")
    tz = getattr(ts_col.type, "tz", None)
    if tz:  # seasons follow the local clock
        ts_col = pc.local_timestamp(ts_col)
    values = pc.cast(values_col, pa.float64()).to_numpy(zero_copy_only=False)
    ts = pc.cast(ts_col, pa.timestamp("ns")).to_numpy(zero_copy_only=False)
    keep = np.isfinite(values) & ~np.isnat(ts)
    order = np.argsort(ts[keep], kind="stable")
    return values[keep][order], ts[keep][order], int(keep.size - keep.sum())


VERDICT_FIELDS = ("anomalous", "seasonal", "score", "threshold", "burst_score",
                  "burst_threshold", "p_value", "overall_p_value")


class SeasonalChecks:
    """One :class:`SeasonalBaseline` per ``checks.seasonal`` entry.

    Metrics per entry ``seasonal.<column>.``: ``anomalous`` and ``seasonal`` (booleans; None
    when the reference is insufficient), ``score``, ``threshold``, ``burst_score``,
    ``burst_threshold``, ``p_value`` and ``overall_p_value``. Reasons say why a window has no
    verdict, how many rows were dropped, and which seasons pooled their spread.
    """

    def __init__(self, checks: Sequence[SeasonalCheck], timestamp: str | None) -> None:
        self.checks = tuple(checks)
        self.timestamp = timestamp
        self.baselines: dict[str, SeasonalBaseline] = {}

    def fit(self, table: pa.Table) -> SeasonalChecks:
        for check in self.checks:
            assert self.timestamp is not None  # the configuration requires it
            values, ts, _ = _series(table, check.column, self.timestamp, "reference")
            try:
                self.baselines[check.column] = SeasonalBaseline(**check.params).fit(values, ts)
            except InsufficientDataError as exc:
                raise InsufficientDataError(f"checks.seasonal {check.column!r}: {exc}") from None
        return self

    def _insufficient(self, check: SeasonalCheck, seasons: Sequence[str]) -> str:
        """Why a window has no verdict."""
        if not seasons:
            return "the reference is shorter than this window"
        baseline = self.baselines[check.column]
        return (f"insufficient reference for season(s) {'; '.join(seasons[:5])}"
                f"{'; ...' if len(seasons) > 5 else ''} (a season needs {MIN_SEASON_POINTS} "
                f"reference values of its own and {baseline.min_reference_points_} with the "
                f"{baseline.pool} neighbouring season(s) each side it may pool with)")

    def compare(self, table: pa.Table, metrics: dict[str, MetricValue],
                reasons: dict[str, str]) -> None:
        """Add this window's ``seasonal.*`` metrics (and a reason where there is no verdict)."""
        for check in self.checks:
            assert self.timestamp is not None
            base = f"seasonal.{check.column}"
            values, ts, dropped = _series(table, check.column, self.timestamp, "current")
            if dropped:
                reasons[f"{base}.dropped"] = (f"{dropped} row(s) without a value or timestamp "
                                              "left out of the seasonal comparison")
            if values.size == 0:
                verdict = None
                reasons[base] = "no row with both a value and a timestamp in this window"
            else:
                verdict = self.baselines[check.column].compare(values, ts)
            if verdict is None or verdict.verdict == "insufficient_reference":
                metrics.update(prefixed(base, dict.fromkeys(VERDICT_FIELDS)))
                if verdict is not None:
                    reasons[base] = self._insufficient(check, verdict.insufficient_seasons)
                continue
            if verdict.pooled_seasons:
                reasons[f"{base}.pooled"] = (
                    "spread pooled with neighbouring seasons (fewer than "
                    f"{self.baselines[check.column].min_reference_points_} reference values of "
                    "their own): " + "; ".join(verdict.pooled_seasons[:5])
                    + ("; ..." if len(verdict.pooled_seasons) > 5 else ""))
            metrics.update(prefixed(base, {
                "anomalous": verdict.verdict == "anomalous",
                "seasonal": verdict.verdict == "seasonal", "score": verdict.score,
                "threshold": verdict.threshold, "burst_score": verdict.burst_score,
                "burst_threshold": verdict.burst_threshold, "p_value": verdict.p_value,
                "overall_p_value": verdict.overall_p_value}))
