"""Pipeline bugs in how records, columns and labels arrive: repeated, late, as text, gone.

Unless a class says otherwise, intensity is the share of the rows after the onset that the
bug hits (:func:`~driftwise.redteam.scenario.rows_hit`, seeded). :class:`TypeChange` and
:class:`DroppedFeature` change a whole column (Arrow holds one type per column): a reader
cutting windows before the onset should take them from the clean data.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from driftwise.data import ColumnKind
from driftwise.errors import ConfigError
from driftwise.redteam._columns import changes, check_int, set_rows, span
from driftwise.redteam.pipeline import one_column
from driftwise.redteam.scenario import (
    VALUE_KINDS,
    Change,
    Scenario,
    pick_share,
    replace_column,
    rows_hit,
)


class DuplicatedRows(Scenario):
    """A retry loop repeating records: rows overwritten with copies of a few records.

    ``sources`` records after the onset are drawn (seeded; fewer when there are fewer rows);
    an ``intensity`` share of the rows after the onset (seeded) is overwritten, each row
    with a copy of one of them (seeded), whole records including the target. A row that
    already equals its copy is unchanged.

    Parameters
    ----------
    sources : int
        How many distinct records repeat, at least 1.
    """

    name = "duplicated_rows"
    kind = "pipeline"
    summary = "a few records repeat over and over (a retry loop)"
    intensity_means = "share of the rows after the onset replaced by a repeated record"

    def __init__(self, sources: int = 5) -> None:
        self.sources = sources

    def check_params(self) -> None:
        check_int(self.sources, "sources", self.name)

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        after = np.arange(onset, table.num_rows, dtype=np.int64)
        sources = pick_share(after, min(1.0, int(self.sources) / len(after)), rng)
        hit = rows_hit(table.num_rows, onset, intensity, rng)
        index = np.arange(table.num_rows)
        index[hit] = rng.choice(sources, size=len(hit), replace=True)
        out = table.take(pa.array(index))
        return changes(table, out, f"{len(hit)} of {span(onset, table.num_rows)} overwritten "
                       f"with copies of {len(sources)} records ({{rows}} rows changed)",
                       {"source_rows": sources.tolist(), "rows_hit": len(hit)})


class StaleFeature(Scenario):
    """A feature joined from a lagging source: its value is that of an earlier row.

    An ``intensity`` share (seeded) of the rows from ``max(onset, lag_rows)`` on take the
    value the column had ``lag_rows`` rows earlier in the clean data. On rows in random
    order the column's distribution does not move, but its relation to the other columns
    and the target breaks. Rows whose earlier value is the same are unchanged.

    Parameters
    ----------
    column : str, optional
        The column (default: a seeded numeric, categorical or boolean feature).
    lag_rows : int, optional
        How far behind the source is, at least 1 (default: ``max(1, rows // 20)``).
    """

    name = "stale_feature"
    kind = "pipeline"
    summary = "a feature takes the value of an earlier row (a lagging join)"
    intensity_means = ("share of the rows after the onset (and at least lag_rows into the "
                       "data) that hold a stale value")

    def __init__(self, column: str | None = None, lag_rows: int | None = None) -> None:
        self.column = column
        self.lag_rows = lag_rows

    def check_params(self) -> None:
        if self.lag_rows is not None:
            check_int(self.lag_rows, "lag_rows", self.name)

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        column = one_column(self, table, features, VALUE_KINDS, rng, self.column)
        lag = int(self.lag_rows) if self.lag_rows is not None else max(1, table.num_rows // 20)
        start = max(onset, lag)
        if start >= table.num_rows:
            raise ConfigError(f"scenario {self.name!r}: lag_rows={lag} leaves no row after "
                              f"the onset with a row {lag} rows earlier ({table.num_rows} rows)")
        hit = pick_share(np.arange(start, table.num_rows, dtype=np.int64), intensity, rng)
        data = table.column(column)
        out = replace_column(table, column, set_rows(data, hit, pc.take(data, pa.array(hit - lag))))
        return changes(table, out, f"{column!r} holds the value of {lag} rows earlier in "
                       f"{len(hit)} of {span(start, table.num_rows)} ({{rows}} rows changed)",
                       {"column": column, "lag_rows": lag, "rows_hit": len(hit)})


class TypeChange(Scenario):
    """A numeric column arrives as text, some of it in a locale's number format.

    Arrow holds one type per column, so the whole column becomes ``string``: every value is
    written as its exact text (``repr`` of a float, digits of an integer: it parses back to
    the same number), and an ``intensity`` share of the rows after the onset (seeded) are
    written with a thousands separator and a decimal comma (``1234.5`` as ``"1.234,5"``,
    ``7`` as ``"7,0"``), which naive parsing rejects. Nulls stay null; NaN and infinities
    keep their plain text. ``changed_rows`` is every row from the onset (from there on the
    column arrives as text); the rows before it hold their numbers' exact text, and windows
    before the onset should be read from the clean data.

    Parameters
    ----------
    column : str, optional
        The numeric column (default: a seeded numeric feature).

    Examples
    --------
    >>> result = TypeChange().apply({"x": [0.5, 1234.5, -20000.0, 3.25]}, intensity=1.0,
    ...                             onset=1)
    >>> result.data["x"].to_pylist(), result.changed_rows.tolist()
    (['0.5', '1.234,5', '-20.000,0', '3,25'], [1, 2, 3])
    """

    name = "type_change"
    kind = "pipeline"
    summary = "a numeric column arrives as text, some values in a locale's format"
    intensity_means = ("share of the rows after the onset written as '1.234,5' (the whole "
                       "column becomes text at any positive intensity)")

    def __init__(self, column: str | None = None) -> None:
        self.column = column

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        column = one_column(self, table, features, [ColumnKind.NUMERIC], rng, self.column)
        hit = rows_hit(table.num_rows, onset, intensity, rng)
        texts = [exact_text(v) for v in table.column(column).to_pylist()]
        malformed = 0
        for row in hit.tolist():
            value = table.column(column)[row].as_py()
            if value is not None and np.isfinite(float(value)):
                texts[row] = locale_text(value)
                malformed += 1
        out = replace_column(table, column, pa.array(texts, pa.string()))
        return Change(out, (column,), np.arange(onset, table.num_rows, dtype=np.int64),
                      f"{column!r} arrives as text in {span(onset, table.num_rows)}, "
                      f"{malformed} of them written like '1.234,5'",
                      {"column": column, "malformed_rows": malformed})


def exact_text(value: Any) -> str | None:
    """A number's text that parses back to it (``repr`` of a float)."""
    return None if value is None else repr(value) if isinstance(value, float) else str(value)


def locale_text(value: Any) -> str:
    """A finite number with ``.`` between thousands and a decimal comma: ``"-1.234,5"``.

    Examples
    --------
    >>> locale_text(1234.5), locale_text(7), locale_text(1e-05), locale_text(-20000.0)
    ('1.234,5', '7,0', '0,00001', '-20.000,0')
    """
    digits = format(Decimal(repr(value) if isinstance(value, float) else str(value)), "f")
    sign, digits = ("-", digits[1:]) if digits.startswith("-") else ("", digits)
    whole, _, fraction = digits.partition(".")
    return f"{sign}{int(whole):,}".replace(",", ".") + f",{fraction or '0'}"


class DroppedFeature(Scenario):
    """A feature no longer sent: the column is removed from the table.

    Any positive intensity drops the column (intensity has no other use). ``changed_rows``
    is every row from the onset, ``changed_columns`` the column; windows before the onset
    should be read from the clean data, which still has it.

    Parameters
    ----------
    column : str, optional
        The column to drop (default: a seeded numeric, categorical or boolean feature).
    """

    name = "dropped_feature"
    kind = "pipeline"
    summary = "a feature column stops arriving"
    intensity_means = "none: any positive intensity drops the whole column"

    def __init__(self, column: str | None = None) -> None:
        self.column = column

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        if self.column is not None and self.column == target:
            raise ConfigError(f"scenario {self.name!r}: column {target!r} is the target; "
                              "labels that stop arriving are labels_missing")
        kinds = VALUE_KINDS if self.column is None else tuple(ColumnKind)
        column = one_column(self, table, features, kinds, rng, self.column)
        return Change(table.drop_columns([column]), (column,),
                      np.arange(onset, table.num_rows, dtype=np.int64),
                      f"{column!r} is no longer sent from row {onset} (the column is removed)",
                      {"column": column})


class LabelsDelayed(Scenario):
    """Labels not yet arrived: the target is null for a block of rows after the onset.

    The ``round(intensity × (rows - onset))`` rows from the onset (at least one) have a
    null target, as when ground truth arrives days after the predictions. Labels already
    null are unchanged.
    """

    name = "labels_delayed"
    kind = "pipeline"
    summary = "the labels of the rows after the onset have not arrived yet"
    intensity_means = "share of the rows after the onset, from the onset on, without a label"
    needs_target = True

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        assert target is not None  # apply() requires it (needs_target)
        after = table.num_rows - onset
        block = np.arange(onset, onset + min(after, max(1, round(intensity * after))),
                          dtype=np.int64)
        return _null_labels(table, target, block, f"no label in {target!r} for the "
                            f"{len(block)} rows from row {onset} ({{rows}} rows changed)")


class LabelsMissing(Scenario):
    """Labels lost: the target is null for a seeded share of the rows after the onset.

    That share is the intensity.

    Labels already null are unchanged.
    """

    name = "labels_missing"
    kind = "pipeline"
    summary = "labels go missing at random after the onset"
    intensity_means = "share of the rows after the onset whose label is null"
    needs_target = True

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        assert target is not None  # apply() requires it (needs_target)
        hit = rows_hit(table.num_rows, onset, intensity, rng)
        return _null_labels(table, target, hit, f"no label in {target!r} for {len(hit)} of "
                            f"{span(onset, table.num_rows)} ({{rows}} rows changed)")


def _null_labels(table: pa.Table, target: str, rows: NDArray[np.int64],
                 description: str) -> Change:
    column = table.column(target)
    out = replace_column(table, target, set_rows(column, rows, pa.scalar(None, column.type)))
    return changes(table, out, description, {"rows_hit": len(rows)})
