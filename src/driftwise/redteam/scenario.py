"""The scenario protocol: one seeded, reproducible change to a dataset that says what it did.

A scenario takes a table (anything :func:`driftwise.data.to_table` accepts), an intensity and
an onset row, and returns a :class:`ScenarioResult`: the changed table (same rows in the same
order, so windows cut from it line up with the clean ones), the columns and rows it changed,
and whether it changed the labels. Rows before the onset are never touched, and intensity 0 is
exactly the identity: the scorecard's honesty checks rest on both.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from driftwise.data import ColumnKind, infer_kind, require_rows, to_table
from driftwise.errors import ConfigError, SchemaError

KINDS = ("covariate", "labels", "concept", "seasonal", "pipeline")


@dataclass(frozen=True)
class ScenarioResult:
    """What one scenario did to one table.

    Attributes
    ----------
    data : pyarrow.Table
        The changed table: as many rows as the input, in the same order (a dropped feature
        is the only change that removes a column).
    scenario, kind : str
        The scenario's registered name and its family (see :data:`KINDS`).
    params : dict
        The scenario's parameters as resolved (the columns it chose, factors, segment).
    intensity : float
        As asked; each scenario documents what it means.
    onset_row : int
        The first row the scenario may change.
    changed_columns : tuple of str
        Columns whose values (or type, or presence) differ from the input's.
    changed_rows : ndarray of int64
        Sorted indices of the rows whose values differ in any column (the target included).
    labels_changed : bool
        Whether the target column's values differ.
    description : str
        One sentence a person reads in the scorecard.
    """

    data: pa.Table = field(repr=False)
    scenario: str
    kind: str
    params: dict[str, Any]
    intensity: float
    onset_row: int
    changed_columns: tuple[str, ...]
    changed_rows: NDArray[np.int64] = field(repr=False)
    labels_changed: bool
    description: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, without the data (the rows changed are counted, not listed)."""
        return {"scenario": self.scenario, "kind": self.kind, "params": self.params,
                "intensity": self.intensity, "onset_row": self.onset_row,
                "changed_columns": list(self.changed_columns),
                "changed_rows": len(self.changed_rows),
                "labels_changed": self.labels_changed, "description": self.description}


@dataclass(frozen=True)
class Change:
    """What a scenario's ``_change`` returns: the new table and what it changed."""

    data: pa.Table
    changed_columns: tuple[str, ...]
    changed_rows: NDArray[np.int64]
    description: str
    params: dict[str, Any] = field(default_factory=dict)
    labels_changed: bool = False


class Scenario(ABC):
    """Base class: configuration in ``__init__``, the change in :meth:`apply`.

    Subclasses set :attr:`name`, :attr:`kind`, :attr:`summary` and :attr:`intensity_means`
    and implement :meth:`_change`, which receives a validated table, an intensity in
    ``(0, max_intensity]``, the onset row (``0 <= onset < rows``) and a seeded generator, and
    changes only rows ``>= onset``.
    """

    name: ClassVar[str]
    kind: ClassVar[str]
    summary: ClassVar[str]
    intensity_means: ClassVar[str]
    max_intensity: ClassVar[float] = 1.0
    needs_target: ClassVar[bool] = False
    needs_model: ClassVar[bool] = False

    def apply(self, data: Any, *, intensity: float, onset: int | float = 0, seed: int = 0,
              target: str | None = None, model: Any = None,
              features: Sequence[str] | None = None) -> ScenarioResult:
        """Apply the scenario.

        Parameters
        ----------
        data
            The clean table (any input :func:`driftwise.data.to_table` accepts).
        intensity : float
            How strong the change is, from 0 (the identity) to :attr:`max_intensity`.
        onset : int or float
            The first row that may change: a row index, or a share of the rows in [0, 1).
        seed : int
            Seeds every random choice: the same arguments give the same result.
        target : str, optional
            The label column (scenarios of labels and concept need it; others leave it).
        model : optional
            The user's fitted model, for scenarios that need it.
        features : sequence of str, optional
            The columns a scenario may choose from when it was not given columns
            (default: every column but the target).

        Returns
        -------
        ScenarioResult
        """
        self.check_params()
        table = to_table(data)
        require_rows(table, "scenario input")
        level = _intensity(intensity, self.max_intensity, self.name)
        onset_row = _onset(onset, table.num_rows)
        if target is not None and target not in table.column_names:
            raise SchemaError(f"scenario {self.name!r}: no target column {target!r} in the "
                              f"data (columns: {', '.join(table.column_names[:10])})")
        if self.needs_target and target is None:
            raise ConfigError(f"scenario {self.name!r} changes the labels: pass target=")
        if self.needs_model and model is None:
            raise ConfigError(f"scenario {self.name!r} needs the model: pass model=")
        pool = [c for c in (features if features is not None else table.column_names)
                if c != target]
        missing = [c for c in pool if c not in table.column_names]
        if missing:
            raise SchemaError(f"scenario {self.name!r}: features not in the data: "
                              f"{', '.join(missing)}")
        if level == 0.0:
            return ScenarioResult(table, self.name, self.kind, self.params(), 0.0, onset_row,
                                  (), np.empty(0, np.int64), False,
                                  f"{self.summary} at intensity 0: nothing changed")
        rng = np.random.default_rng(seed)
        change = self._change(table, level, onset_row, rng, target=target, model=model,
                              features=pool)
        labels_changed = change.labels_changed or (
            target is not None and target in change.changed_columns)
        return ScenarioResult(change.data, self.name, self.kind,
                              {**self.params(), **change.params}, level, onset_row,
                              change.changed_columns,
                              np.unique(np.asarray(change.changed_rows, np.int64)),
                              labels_changed, change.description)

    def params(self) -> dict[str, Any]:
        """The parameters given in ``__init__`` (plain JSON)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def check_params(self) -> None:
        """Check the parameters that need no data (a factor's sign, a count's type).

        Raises
        ------
        ConfigError
            A parameter is invalid; the message names it. Parameters that need the data
            (a column's kind, a category that must exist) are checked by :meth:`apply`.
        """
        return None

    @abstractmethod
    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, model: Any,
                features: list[str]) -> Change:
        """Change rows ``>= onset`` of ``table``; see the class docstring."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


def _intensity(value: float, ceiling: float, name: str) -> float:
    try:
        level = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"scenario {name!r}: intensity must be a number, "
                          f"got {value!r}") from None
    if not math.isfinite(level) or level < 0.0 or level > ceiling:
        raise ConfigError(f"scenario {name!r}: intensity must be in [0, {ceiling:g}], "
                          f"got {value!r}")
    return level


def _onset(value: int | float, rows: int) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"onset must be a row index or a share in [0, 1), got {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value) or not 0.0 <= value < 1.0:
            raise ConfigError(f"onset as a share of the rows must be in [0, 1), got {value!r}")
        return min(rows - 1, int(value * rows))
    if isinstance(value, int | np.integer) and 0 <= int(value) < rows:
        return int(value)
    raise ConfigError(f"onset must be a row index in [0, {rows}) or a share in [0, 1), "
                      f"got {value!r}")


# -- helpers the generators share ---------------------------------------------------
#: Kinds a monitor tests value by value: what pipeline bugs pick from by default.
VALUE_KINDS = (ColumnKind.NUMERIC, ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN)


def column_kind(table: pa.Table, name: str) -> ColumnKind:
    """The kind driftwise infers for ``name`` (numeric, categorical, ...)."""
    return infer_kind(name, table.column(name))[0]


def choose_columns(table: pa.Table, pool: Sequence[str], kinds: Sequence[ColumnKind],
                   count: int, rng: np.random.Generator, scenario: str,
                   *, given: Sequence[str] | None = None) -> list[str]:
    """``given`` checked against ``kinds``, or ``count`` columns of those kinds drawn from
    ``pool`` (seeded); a clear error when there are not enough."""
    if given is not None:
        if len(set(given)) != len(given):
            raise ConfigError(f"scenario {scenario!r}: a column is named twice in "
                              f"{list(given)!r}")
        for name in given:
            if name not in table.column_names:
                raise SchemaError(f"scenario {scenario!r}: no column {name!r} in the data")
            if column_kind(table, name) not in kinds:
                raise SchemaError(
                    f"scenario {scenario!r}: column {name!r} is "
                    f"{column_kind(table, name).value}, this scenario needs "
                    f"{' or '.join(k.value for k in kinds)}")
        return list(given)
    candidates = [c for c in pool if column_kind(table, c) in kinds]
    if len(candidates) < count:
        raise SchemaError(f"scenario {scenario!r} needs {count} "
                          f"{' or '.join(k.value for k in kinds)} column(s); the data has "
                          f"{len(candidates)}")
    picked = rng.choice(len(candidates), size=count, replace=False)
    return [candidates[i] for i in sorted(picked)]


def rows_hit(rows: int, onset: int, share: float, rng: np.random.Generator) -> NDArray[np.int64]:
    """A seeded, sorted choice of ``round(share * (rows - onset))`` rows at or after onset
    (at least one when the share is positive)."""
    return pick_share(np.arange(onset, rows, dtype=np.int64), share, rng)


def pick_share(candidates: NDArray[np.int64], share: float,
               rng: np.random.Generator) -> NDArray[np.int64]:
    """A seeded, sorted choice of ``round(share * len(candidates))`` of ``candidates`` (at
    least one when the share is positive and there is a candidate)."""
    n = len(candidates)
    k = min(n, max(1, round(share * n))) if share > 0 and n else 0
    return np.sort(candidates[rng.choice(n, size=k, replace=False)]).astype(np.int64)


def replace_column(table: pa.Table, name: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    """``table`` with column ``name`` replaced (same position; the type may change)."""
    i = table.column_names.index(name)
    return table.set_column(i, pa.field(name, values.type), values)
