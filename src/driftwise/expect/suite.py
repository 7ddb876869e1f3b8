"""Declarative data expectations: the quality rules a data engineer writes per column.

A suite is YAML (``docs/expectations.md``)::

    window_rows: 500          # the window size the suggested margins were set for
    alpha: 0.01               # and the false-failure rate each was set at
    rows: {min: 200}          # rows per window
    columns:
      AGE:
        type: integer
        not_null: 0.99        # at least this share of the rows present
        range: {min: 18, max: 100, mostly: 0.998}
      EDUCATION:
        allowed: {values: ["1", "2", "3"], mostly: 0.99}
      email:
        regex: {pattern: "[^@]+@[^@]+", mostly: 1.0}
        length: {min: 3, max: 120}
      ID: {unique: true}
      ts:
        monotonic: increasing
        freshness: {max_age: 2h}

Shares (``not_null``, ``mostly``) are at least-this-share rules: ``range``, ``allowed``,
``regex`` and ``length`` count over the present values. Every error names the key path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from driftwise.config._model import StrictModel, validate_mapping
from driftwise.config._yaml import read_yaml

Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Number = Annotated[float, Field(allow_inf_nan=False)]
TYPES = ("integer", "float", "number", "string", "boolean", "datetime")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_seconds(text: str) -> float:
    """``"90s"``, ``"15m"``, ``"2h"``, ``"1d"``, ``"1w"`` in seconds."""
    found = _DURATION.match(text)
    if found is None:
        raise ValueError(f"cannot read duration {text!r}; write a number and a unit "
                         "(s, m, h, d, w), e.g. '2h'")
    return float(found.group(1)) * _SECONDS[found.group(2)]


def _check_bounds(low: float | None, high: float | None) -> None:
    """A range rule's bounds: at least one given, and in order."""
    if low is None and high is None:
        raise ValueError("give min, max or both")
    if low is not None and high is not None and low > high:
        raise ValueError(f"min {low} is above max {high}")


class RangeRule(StrictModel):
    """Values within ``[min, max]`` (either may be left open)."""

    min: Number | None = None
    max: Number | None = None
    mostly: Share = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> RangeRule:
        _check_bounds(self.min, self.max)
        return self


class AllowedRule(StrictModel):
    """Values among ``values`` (compared as category labels: ``1`` and ``"1"`` agree)."""

    values: list[str | int | float | bool]
    mostly: Share = 1.0

    @field_validator("values", mode="after")
    @classmethod
    def _some(cls, value: list[Any]) -> list[Any]:
        if not value:
            raise ValueError("list at least one allowed value")
        return value


class RegexRule(StrictModel):
    """Whole values matching ``pattern`` (RE2 syntax, as Arrow evaluates it)."""

    pattern: str
    mostly: Share = 1.0

    @field_validator("pattern", mode="after")
    @classmethod
    def _compiles(cls, value: str) -> str:
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            pc.match_substring_regex(pa.array(["x"]), f"^(?:{value})$")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise ValueError(f"pattern {value!r} does not compile ({exc})") from None
        return value


class LengthRule(StrictModel):
    """Strings of ``min`` to ``max`` characters."""

    min: Annotated[int, Field(ge=0)] | None = None
    max: Annotated[int, Field(ge=0)] | None = None
    mostly: Share = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> LengthRule:
        _check_bounds(self.min, self.max)
        return self


class FreshnessRule(StrictModel):
    """The newest timestamp at most ``max_age`` old when the window is checked."""

    max_age: str

    @field_validator("max_age", mode="after")
    @classmethod
    def _readable(cls, value: str) -> str:
        duration_seconds(value)
        return value

    @property
    def seconds(self) -> float:
        return duration_seconds(self.max_age)


class ColumnExpectations(StrictModel):
    """The rules of one column."""

    type: Literal[TYPES] | None = None  # type: ignore[valid-type]
    not_null: Share | None = None
    range: RangeRule | None = None
    allowed: AllowedRule | None = None
    regex: RegexRule | None = None
    length: LengthRule | None = None
    unique: bool = False
    monotonic: Literal["increasing", "decreasing", "strictly_increasing",
                       "strictly_decreasing"] | None = None
    freshness: FreshnessRule | None = None


class RowsRule(StrictModel):
    """Rows per window."""

    min: Annotated[int, Field(ge=0)] | None = None
    max: Annotated[int, Field(ge=0)] | None = None


class ExpectationSuite(StrictModel):
    """A validated expectation suite."""

    window_rows: Annotated[int, Field(ge=1)] | None = None
    alpha: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None
    rows: RowsRule | None = None
    columns: dict[str, ColumnExpectations] = Field(default_factory=dict)

    def rule_count(self) -> int:
        """How many rules the suite holds."""
        per = sum(sum(1 for name in ColumnExpectations.model_fields
                      if getattr(c, name) not in (None, False)) for c in self.columns.values())
        return per + (self.rows is not None)

    def to_yaml_dict(self) -> dict[str, Any]:
        """Plain data for YAML, without defaults left unset."""
        data: dict[str, Any] = self.model_dump(exclude_none=True, exclude_defaults=True)
        return data


def parse_suite(data: Any, source: str = "expectations") -> ExpectationSuite:
    """Validate a suite mapping; errors name the source and the key path."""
    if isinstance(data, Mapping) and "expectations" in data and len(data) == 1:
        data = data["expectations"]
    return validate_mapping(ExpectationSuite, data, source)


def load_suite(path: str | os.PathLike[str]) -> ExpectationSuite:
    """Read and validate a YAML expectation suite."""
    return parse_suite(read_yaml(path), os.fspath(path))
