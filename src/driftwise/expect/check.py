"""Evaluating an expectation suite on one table (a window, a batch, a file)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftwise.data._arrow import numpy_values
from driftwise.data.columns import category_label
from driftwise.data.schema import is_numeric_type, is_string_type, is_temporal_type
from driftwise.errors import SchemaError
from driftwise.expect.suite import ColumnExpectations, ExpectationSuite

#: Failing rows shown per rule.
EXAMPLES = 5


@dataclass(frozen=True)
class Outcome:
    """One rule on one table: what was observed, whether it passed, and failing rows."""

    column: str  # "table" for the table-level rules
    rule: str
    observed: float | int | str | None
    expected: str
    passed: bool
    failing_rows: int = 0
    examples: tuple[tuple[int, str], ...] = ()

    @property
    def metric(self) -> str:
        return f"expectations.{self.column}.{self.rule}"

    def describe(self) -> str:
        """One line: the rule, what was seen, and the first failing rows."""
        seen = f"{self.observed:.4g}" if isinstance(self.observed, float) else \
            str(self.observed)
        text = f"{self.column}.{self.rule}: {seen} (expected {self.expected})"
        if self.failing_rows:
            shown = ", ".join(f"row {r}: {v}" for r, v in self.examples)
            text += f"; {self.failing_rows} failing row(s), e.g. {shown}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "rule": self.rule, "metric": self.metric,
                "observed": self.observed, "expected": self.expected, "passed": self.passed,
                "failing_rows": self.failing_rows,
                "examples": [{"row": r, "value": v} for r, v in self.examples]}


@dataclass(frozen=True)
class SuiteResult:
    """Every rule's outcome on one table."""

    rows: int
    outcomes: tuple[Outcome, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(o.passed for o in self.outcomes)

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.passed)

    def metrics(self) -> dict[str, float | int | bool | None]:
        """``expectations.<col>.<rule>`` (the observed number; the ``type`` rule has only
        ``.passed``) and ``.passed``; ``expectations.failed`` and ``expectations.passed``."""
        out: dict[str, float | int | bool | None] = {}
        for o in self.outcomes:
            if not isinstance(o.observed, str):
                out[o.metric] = o.observed
            out[f"{o.metric}.passed"] = o.passed
        out["expectations.failed"] = len(self.failed)
        out["expectations.passed"] = self.passed
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "passed": self.passed, "failed": len(self.failed),
                "outcomes": [o.to_dict() for o in self.outcomes]}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _examples(column: pa.ChunkedArray, bad: np.ndarray) -> tuple[tuple[int, str], ...]:
    rows = np.flatnonzero(bad)[:EXAMPLES]
    return tuple((int(r), _shown(column[int(r)].as_py())) for r in rows)


def _present(column: pa.ChunkedArray) -> np.ndarray:
    """Rows holding a value (not null, not NaN)."""
    mask = numpy_values(pc.is_valid(column).combine_chunks()) if len(column) else \
        np.zeros(0, dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    if pa.types.is_floating(column.type) and len(column):
        nan = np.asarray(numpy_values(pc.fill_null(pc.is_nan(column), False).combine_chunks()),
                         dtype=bool)
        mask &= ~nan
    return mask


def _share_rule(name: str, rule: str, column: pa.ChunkedArray, present: np.ndarray,
                ok: np.ndarray, mostly: float, expected: str) -> Outcome:
    """A share-of-present-values rule: ``ok`` per row (ignored where absent)."""
    n = int(present.sum())
    bad = present & ~ok
    share = 1.0 if n == 0 else float((present & ok).sum() / n)
    return Outcome(name, rule, share, f">= {mostly:g} of present values {expected}",
                   share >= mostly, int(bad.sum()), _examples(column, bad))


def _family(t: pa.DataType) -> str:
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    if is_string_type(t):
        return "string"
    if is_temporal_type(t):
        return "datetime"
    return str(t)


def _type_ok(expected: str, t: pa.DataType) -> bool:
    family = _family(t)
    if expected == "number":
        return family in ("integer", "float")
    return family == expected


def _floats(name: str, column: pa.ChunkedArray, rule: str) -> np.ndarray:
    t = column.type
    if is_temporal_type(t):
        return np.asarray(numpy_values(pc.cast(column, pa.int64()).combine_chunks()),
                          dtype=np.float64)
    if not (is_numeric_type(t) or pa.types.is_boolean(t)):
        raise SchemaError(f"expectations: column {name!r} holds {t} values; its {rule} rule "
                          "needs numbers")
    values = pc.cast(column, pa.float64()).combine_chunks()
    return np.asarray(numpy_values(pc.fill_null(values, np.nan)), dtype=np.float64)


def _strings(name: str, column: pa.ChunkedArray, rule: str) -> pa.Array:
    if not is_string_type(column.type):
        raise SchemaError(f"expectations: column {name!r} holds {column.type} values; its "
                          f"{rule} rule needs text")
    return pc.cast(column, pa.string()).combine_chunks()


def _column(name: str, spec: ColumnExpectations, column: pa.ChunkedArray,
            now: float) -> list[Outcome]:
    out: list[Outcome] = []
    n = len(column)
    present = _present(column)
    if spec.type is not None:
        out.append(Outcome(name, "type", _family(column.type), spec.type,
                           _type_ok(spec.type, column.type)))
    if spec.not_null is not None:
        share = 1.0 if n == 0 else float(present.sum() / n)
        out.append(Outcome(name, "not_null", share, f">= {spec.not_null:g} of rows present",
                           share >= spec.not_null, int(n - present.sum()),
                           _examples(column, ~present)))
    if spec.range is not None:
        r = spec.range
        if is_temporal_type(column.type):
            raise SchemaError(f"expectations: column {name!r} holds {column.type} values; "
                              "a range rule is for numbers (use freshness for timestamps)")
        values = _floats(name, column, "range")
        with np.errstate(invalid="ignore"):
            ok = np.ones(n, dtype=bool)
            if r.min is not None:
                ok &= values >= r.min
            if r.max is not None:
                ok &= values <= r.max
        bounds = f"in [{'-inf' if r.min is None else f'{r.min:g}'}, " \
                 f"{'inf' if r.max is None else f'{r.max:g}'}]"
        out.append(_share_rule(name, "range", column, present, ok, r.mostly, bounds))
    if spec.allowed is not None:
        allowed = {category_label(v) for v in spec.allowed.values}
        encoded = pc.dictionary_encode(column.combine_chunks() if not pa.types.is_dictionary(
            column.type) else column.combine_chunks().cast(column.type.value_type))
        names = [category_label(v) for v in encoded.dictionary.to_pylist()]
        lookup = np.array([label in allowed for label in names] + [True], dtype=bool)
        index = np.asarray(numpy_values(pc.fill_null(encoded.indices, len(names))))
        ok = lookup[index] if n else np.zeros(0, dtype=bool)
        shown = ", ".join(sorted(str(a) for a in allowed)[:8])
        more = "" if len(allowed) <= 8 else f", ... ({len(allowed)} values)"
        out.append(_share_rule(name, "allowed", column, present, ok, spec.allowed.mostly,
                               f"among {{{shown}{more}}}"))
    if spec.regex is not None:
        text = _strings(name, column, "regex")
        matched = pc.match_substring_regex(text, f"^(?:{spec.regex.pattern})$")
        ok = np.asarray(numpy_values(pc.fill_null(matched, True)), dtype=bool) if n else \
            np.zeros(0, dtype=bool)
        out.append(_share_rule(name, "regex", column, present, ok, spec.regex.mostly,
                               f"matching {spec.regex.pattern!r}"))
    if spec.length is not None:
        lr = spec.length
        text = _strings(name, column, "length")
        lengths = np.asarray(numpy_values(pc.fill_null(pc.utf8_length(text), 0)),
                             dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
        ok = np.ones(n, dtype=bool)
        if lr.min is not None:
            ok &= lengths >= lr.min
        if lr.max is not None:
            ok &= lengths <= lr.max
        out.append(_share_rule(name, "length", column, present, ok, lr.mostly,
                               f"of {lr.min if lr.min is not None else 0} to "
                               f"{lr.max if lr.max is not None else 'any'} characters"))
    if spec.unique:
        kept = column.filter(pa.array(present)) if n else column
        rows = np.flatnonzero(present)
        encoded = pc.dictionary_encode(kept.combine_chunks()) if len(kept) else None
        dup = np.zeros(n, dtype=bool)
        if encoded is not None:
            idx = np.asarray(numpy_values(encoded.indices))
            _, first = np.unique(idx, return_index=True)
            repeat = np.ones(idx.size, dtype=bool)
            repeat[first] = False
            dup[rows[repeat]] = True
        out.append(Outcome(name, "unique", int(dup.sum()), "0 repeated values",
                           not dup.any(), int(dup.sum()), _examples(column, dup)))
    if spec.monotonic is not None:
        values = _floats(name, column, "monotonic")
        at = np.flatnonzero(present)
        v = values[at]
        step = np.diff(v)
        wrong = {"increasing": step < 0, "decreasing": step > 0,
                 "strictly_increasing": step <= 0, "strictly_decreasing": step >= 0}[
            spec.monotonic]
        bad = np.zeros(n, dtype=bool)
        bad[at[1:][wrong]] = True
        out.append(Outcome(name, "monotonic", int(bad.sum()),
                           f"0 rows out of {spec.monotonic.replace('_', ' ')} order",
                           not bad.any(), int(bad.sum()), _examples(column, bad)))
    if spec.freshness is not None:
        if not is_temporal_type(column.type):
            raise SchemaError(f"expectations: column {name!r} holds {column.type} values; "
                              "its freshness rule needs timestamps")
        seconds = pc.cast(pc.cast(column, pa.timestamp("us", "UTC") if getattr(
            column.type, "tz", None) else pa.timestamp("us")), pa.int64())
        newest = pc.max(seconds).as_py()
        age = None if newest is None else now - newest / 1e6
        out.append(Outcome(name, "freshness", age,
                           f"newest value at most {spec.freshness.max_age} old (seconds)",
                           age is not None and age <= spec.freshness.seconds))
    return out


def evaluate(suite: ExpectationSuite, data: Any, *, now: float | None = None) -> (
        SuiteResult):
    """Every rule of ``suite`` on ``data``; ``now``: the clock of the freshness rules (Unix
    seconds; naive timestamps are read as UTC). A column the suite names but the data lacks
    fails its rules (``observed`` None), so a dropped feature is caught, not skipped."""
    from driftwise.data import to_table

    data = to_table(data)
    clock = time.time() if now is None else now
    outcomes: list[Outcome] = []
    if suite.rows is not None:
        r = suite.rows
        ok = (r.min is None or data.num_rows >= r.min) and \
            (r.max is None or data.num_rows <= r.max)
        outcomes.append(Outcome("table", "rows", data.num_rows,
                                f"{r.min if r.min is not None else 0} to "
                                f"{r.max if r.max is not None else 'any'} rows", ok))
    for name, spec in suite.columns.items():
        if name not in data.column_names:
            outcomes.append(Outcome(name, "present", None, "the column exists", False))
            continue
        outcomes.extend(_column(name, spec, data.column(name), clock))
    return SuiteResult(data.num_rows, tuple(outcomes))
