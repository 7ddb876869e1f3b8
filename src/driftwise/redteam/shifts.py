"""Covariate shifts and a seasonal swing: numeric features move after the onset.

Every generator here measures its move in the column's standard deviation (sd): that of
the rows before the onset when at least 30 of them are finite, else that of the whole column
(:func:`~driftwise.redteam._columns.reference_sd`). A shifted column becomes float64, even
an integer one (moved by a fraction of its sd it is no longer whole): its rows before the
onset keep their values, not their type. Nulls stay null and NaN stays NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from driftwise.data import ColumnKind
from driftwise.errors import ConfigError
from driftwise.redteam._columns import (
    category_segment,
    changes,
    check_int,
    check_names,
    float_column,
    float_values,
    plain,
    reference_sd,
    reference_values,
    span,
)
from driftwise.redteam.scenario import Change, Scenario, choose_columns, replace_column, rows_hit

NUMERIC = (ColumnKind.NUMERIC,)


class _NumericColumns(Scenario):
    """Shared configuration: the numeric columns to change, given or drawn."""

    def __init__(self, columns: str | Sequence[str] | None = None, count: int = 1) -> None:
        self.columns = columns
        self.count = count

    def check_params(self) -> None:
        check_names(self.columns, "columns", self.name)
        check_int(self.count, "count", self.name)

    def _columns(self, table: pa.Table, features: list[str],
                 rng: np.random.Generator) -> list[str]:
        return choose_columns(table, features, NUMERIC, self.count, rng, self.name,
                              given=check_names(self.columns, "columns", self.name))


class CovariateMean(_NumericColumns):
    """Covariate shift: the mean of numeric columns moves at the onset.

    From the onset on, every value of each chosen column gets ``intensity × 2 × sd`` added
    (see the module docstring for the sd, the float64 cast and nulls).

    Parameters
    ----------
    columns : str or list of str, optional
        The numeric columns to shift (default: ``count`` drawn from the features).
    count : int
        How many columns to draw when ``columns`` is not given.

    Examples
    --------
    >>> result = CovariateMean("x").apply({"x": [float(i) for i in range(100)]},
    ...                                   intensity=0.5, onset=60)
    >>> result.changed_columns, len(result.changed_rows), round(result.data["x"][60].as_py(), 2)
    (('x',), 40, 77.46)
    >>> result.description
    'shifted x by +17.46 (1 sd) in the 40 rows from row 60 (40 rows changed)'
    """

    name = "covariate_mean"
    kind = "covariate"
    summary = "numeric features' mean shifts after the onset"
    intensity_means = ("shift of every value after the onset, in units of 2 sd: "
                       "intensity 1 adds 2 sd")

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        out, shifts = table, {}
        for name in self._columns(table, features, rng):
            values, nulls = float_values(table, name)
            shifts[name] = intensity * 2.0 * reference_sd(values, onset, name, self.name)
            values[onset:] += shifts[name]
            out = replace_column(out, name, float_column(values, nulls))
        moves = ", ".join(f"{n} by {s:+.4g}" for n, s in shifts.items())
        return changes(table, out, f"shifted {moves} ({2 * intensity:.3g} sd) in "
                       f"{span(onset, table.num_rows)} ({{rows}} rows changed)",
                       {"columns": list(shifts), "shifts": shifts})


class CovariateScale(_NumericColumns):
    """Covariate shift of spread: values move away from the column's median at the onset.

    From the onset on, every value ``v`` of each chosen column becomes
    ``median + (v - median) × (1 + 2 × intensity)``; the median is that of the rows that set
    the sd (see the module docstring, also for the float64 cast and nulls).

    Parameters
    ----------
    columns : str or list of str, optional
        The numeric columns to spread (default: ``count`` drawn from the features).
    count : int
        How many columns to draw when ``columns`` is not given.
    """

    name = "covariate_scale"
    kind = "covariate"
    summary = "numeric features spread wider around their median after the onset"
    intensity_means = ("spread factor after the onset is 1 + 2 × intensity: intensity 1 "
                       "triples every distance from the median")

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        out, medians = table, {}
        factor = 1.0 + 2.0 * intensity
        for name in self._columns(table, features, rng):
            values, nulls = float_values(table, name)
            reference_sd(values, onset, name, self.name)  # a constant column cannot spread
            medians[name] = float(np.median(reference_values(values, onset)))
            values[onset:] = medians[name] + (values[onset:] - medians[name]) * factor
            out = replace_column(out, name, float_column(values, nulls))
        around = ", ".join(f"{n} around {m:.4g}" for n, m in medians.items())
        return changes(table, out, f"spread {around} by a factor {factor:.3g} in "
                       f"{span(onset, table.num_rows)} ({{rows}} rows changed)",
                       {"columns": list(medians), "medians": medians, "factor": factor})


class CovariateMixture(_NumericColumns):
    """Covariate shift by a new population: a share of the rows after the onset moves far.

    An ``intensity`` share of the rows after the onset (seeded) form a second mixture
    component: each chosen column is shifted by 3 sd in those rows, the other rows are left
    as they are (see the module docstring for the sd, the float64 cast and nulls).

    Parameters
    ----------
    columns : str or list of str, optional
        The numeric columns the new population differs in (default: ``count`` drawn).
    count : int
        How many columns to draw when ``columns`` is not given (the data must have as many
        numeric features).
    """

    name = "covariate_mixture"
    kind = "covariate"
    summary = "a new population, 3 sd away in a few numeric features, joins after the onset"
    intensity_means = "share of the rows after the onset that belong to the new population"

    def __init__(self, columns: str | Sequence[str] | None = None, count: int = 2) -> None:
        super().__init__(columns, count)

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        names = self._columns(table, features, rng)
        hit = rows_hit(table.num_rows, onset, intensity, rng)
        out, shifts = table, {}
        for name in names:
            values, nulls = float_values(table, name)
            shifts[name] = 3.0 * reference_sd(values, onset, name, self.name)
            values[hit] += shifts[name]
            out = replace_column(out, name, float_column(values, nulls))
        moves = ", ".join(f"{n} {s:+.4g}" for n, s in shifts.items())
        return changes(table, out, f"{len(hit)} of {span(onset, table.num_rows)} are a new "
                       f"population shifted by 3 sd ({moves}; {{rows}} rows changed)",
                       {"columns": names, "shifts": shifts, "rows_hit": len(hit)})


class SegmentShift(_NumericColumns):
    """Covariate shift within one segment: one category's rows move, the others stay.

    The segment is one value of a categorical column (default: a seeded column among the
    features, and a seeded value among those on at least 5 % of the rows after the onset,
    but not all of them). From the onset on, the segment's rows of each chosen numeric
    column get ``intensity × 3 × sd`` added (the sd of the whole column, see the module
    docstring); rows outside the segment are untouched.

    Parameters
    ----------
    segment : str, optional
        The categorical (or boolean) column that defines the segment.
    value : optional
        The segment's value (compared by its label: ``2`` and ``"2"`` are the same).
    columns : str or list of str, optional
        The numeric columns to shift (default: ``count`` drawn from the features).
    count : int
        How many columns to draw when ``columns`` is not given.
    """

    name = "segment_shift"
    kind = "covariate"
    summary = "numeric features shift in one segment only after the onset"
    intensity_means = ("shift of the segment's values after the onset, in units of 3 sd: "
                       "intensity 1 adds 3 sd")

    def __init__(self, segment: str | None = None, value: Any = None,
                 columns: str | Sequence[str] | None = None, count: int = 1) -> None:
        super().__init__(columns, count)
        self.segment = segment
        self.value = value

    def check_params(self) -> None:
        super().check_params()
        check_segment(self.segment, self.value, self.name)

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        seg = category_segment(table, features, onset, rng, self.name, column=self.segment,
                               value=self.value)
        rows = np.flatnonzero(seg.mask[onset:]) + onset
        out, shifts = table, {}
        for name in self._columns(table, features, rng):
            values, nulls = float_values(table, name)
            shifts[name] = intensity * 3.0 * reference_sd(values, onset, name, self.name)
            values[rows] += shifts[name]
            out = replace_column(out, name, float_column(values, nulls))
        moves = ", ".join(f"{n} by {s:+.4g}" for n, s in shifts.items())
        return changes(table, out, f"shifted {moves} ({3 * intensity:.3g} sd) in the {len(rows)} "
                       f"rows where {seg.words} among {span(onset, table.num_rows)} "
                       "({rows} rows changed)",
                       {"segment": seg.column, "value": plain(seg.value),
                        "columns": list(shifts), "shifts": shifts, "segment_rows": len(rows)})


class Seasonal(_NumericColumns):
    """A seasonal swing: numeric columns oscillate after the onset.

    From the onset on, row ``r`` of each chosen column gets
    ``intensity × 2 × sd × sin(2π (r - onset) / period_rows)`` added (so the onset row
    itself is unchanged); see the module docstring for the sd, the float64 cast and nulls.

    Parameters
    ----------
    columns : str or list of str, optional
        The numeric columns that swing (default: ``count`` drawn from the features).
    count : int
        How many columns to draw when ``columns`` is not given.
    period_rows : int, optional
        The period in rows, at least 2 (default: ``max(50, (rows - onset) // 4)``, four
        cycles after the onset).
    """

    name = "seasonal"
    kind = "seasonal"
    summary = "numeric features swing in a sine wave after the onset"
    intensity_means = "amplitude of the swing in units of 2 sd: intensity 1 swings ±2 sd"

    def __init__(self, columns: str | Sequence[str] | None = None, count: int = 1,
                 period_rows: int | None = None) -> None:
        super().__init__(columns, count)
        self.period_rows = period_rows

    def check_params(self) -> None:
        super().check_params()
        if self.period_rows is not None:
            check_int(self.period_rows, "period_rows", self.name, minimum=2)

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        period = int(self.period_rows) if self.period_rows is not None else \
            max(50, (table.num_rows - onset) // 4)
        out, amplitudes = table, {}
        for name in self._columns(table, features, rng):
            values, nulls = float_values(table, name)
            amplitudes[name] = intensity * 2.0 * reference_sd(values, onset, name, self.name)
            values[onset:] += amplitudes[name] * wave(table.num_rows - onset, period)
            out = replace_column(out, name, float_column(values, nulls))
        swings = ", ".join(f"{n} by ±{a:.4g}" for n, a in amplitudes.items())
        return changes(table, out, f"swung {swings} ({2 * intensity:.3g} sd) in a sine wave of "
                       f"period {period} rows over "
                       f"{span(onset, table.num_rows)} ({{rows}} rows changed)",
                       {"columns": list(amplitudes), "amplitudes": amplitudes,
                        "period_rows": period})


def wave(rows: int, period: int) -> NDArray[np.float64]:
    """``sin(2π k / period)`` for ``k = 0 .. rows - 1``."""
    return np.sin(2.0 * math.pi * np.arange(rows, dtype=np.float64) / period)


def check_segment(segment: Any, value: Any, scenario: str) -> None:
    """A segment is a column name; a value needs its column."""
    if segment is not None and not isinstance(segment, str):
        raise ConfigError(f"scenario {scenario!r}: segment must be a column name, "
                          f"got {segment!r}")
    if value is not None and segment is None:
        raise ConfigError(f"scenario {scenario!r}: value={value!r} needs segment= (the column "
                          "it is a value of)")
