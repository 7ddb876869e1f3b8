"""Proposing an expectation suite from a reference, with margins that say how often a
window drawn like the reference fails each rule.

Each suggested share rule is set so that a window of ``window_rows`` rows drawn from the
reference's distribution fails it with probability at most about ``alpha``:

- the rate q of rows breaking the rule is bounded from the reference:
  - ``not_null``: the missing rate, by its Clopper–Pearson upper bound at 1 − alpha from
    the reference's count of missing values (also when that count is 0);
  - ``range`` (numbers) and ``length`` (strings): the reference's own min and max; the
    probability mass outside the range of n values drawn from a continuous distribution
    is Beta(2, n − 1) distributed (two spacings of the order statistics; mean 2/(n + 1)),
    and is bounded by its (1 − alpha) quantile (less for discrete data);
  - ``allowed`` (categories): the probability that a new row holds a category the
    reference never showed is the missing mass; Good–Turing estimates it by the share of
    categories seen once, bounded above by Clopper–Pearson at 1 − alpha;
- the rule's ``mostly`` (``not_null``'s share) is then 1 − k/w, with k the (1 − alpha)
  quantile of Binomial(w, q): w rows break it no more than k times with probability at
  least 1 − alpha.

``type`` is the reference's; ``unique`` is suggested for an integer or text column whose
values are all distinct; ``monotonic`` for a timestamp column the reference holds in
order. ``regex``, ``rows`` and ``freshness`` know things a sample cannot tell and are left
for hand-writing (docs/expectations.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftwise._lazy import LazyModule
from driftwise.data import to_table
from driftwise.data.columns import category_counts
from driftwise.data.schema import is_numeric_type, is_string_type, is_temporal_type
from driftwise.errors import ConfigError
from driftwise.expect.check import _family, _floats, _present
from driftwise.expect.suite import ExpectationSuite

if TYPE_CHECKING:
    from scipy import stats
else:
    stats = LazyModule("scipy.stats")

#: The most distinct values a column may have for ``allowed`` to be suggested.
MAX_ALLOWED = 100
DEFAULT_WINDOW_ROWS = 1000
DEFAULT_ALPHA = 0.01


def _upper_rate(k: int, n: int, alpha: float) -> float:
    """Clopper–Pearson upper confidence bound of a rate seen ``k`` times in ``n``."""
    if n == 0:
        return 1.0
    return 1.0 if k >= n else float(stats.beta.ppf(1 - alpha, k + 1, n - k))


def _mostly(rate: float, window_rows: int, alpha: float) -> float:
    """The least share a window of ``window_rows`` keeps with probability >= 1 - alpha when
    each row breaks the rule with probability ``rate``."""
    k = float(stats.binom.ppf(1 - alpha, window_rows, min(max(rate, 0.0), 1.0)))
    return float(np.floor((1.0 - k / window_rows) * 1e6) / 1e6)


def suggest(reference: Any, *, window_rows: int = DEFAULT_WINDOW_ROWS,
            alpha: float = DEFAULT_ALPHA, columns: list[str] | None = None) -> (
        ExpectationSuite):
    """A suite (for ``reference``: any table driftwise reads) for windows of ``window_rows``
    rows, each rule's false-failure rate at most
    about ``alpha`` on data drawn like ``reference`` (see the module docstring)."""
    if window_rows < 1:
        raise ConfigError("window_rows must be at least 1")
    if not 0.0 < alpha < 1.0:
        raise ConfigError("alpha must lie strictly between 0 and 1")
    reference = to_table(reference)
    names = columns if columns is not None else reference.column_names
    unknown = [c for c in names if c not in reference.column_names]
    if unknown:
        raise ConfigError(f"column(s) not in the reference: {', '.join(map(repr, unknown))}")
    out: dict[str, Any] = {}
    for name in names:
        spec = _column(reference.column(name), window_rows, alpha)
        if spec:
            out[name] = spec
    return ExpectationSuite(window_rows=window_rows, alpha=alpha, columns=out)


def _column(column: pa.ChunkedArray, w: int, alpha: float) -> dict[str, Any]:
    t = column.type
    n = len(column)
    present = _present(column)
    k_missing = int(n - present.sum())
    spec: dict[str, Any] = {}
    family = _family(t)
    if family in ("boolean", "integer", "float", "string", "datetime"):
        spec["type"] = family
    if n == 0:
        return spec
    spec["not_null"] = _mostly(_upper_rate(k_missing, n, alpha), w, alpha)
    m = int(present.sum())
    if m == 0:
        return spec
    # The mass outside the reference's range is Beta(2, m - 1) distributed (mean 2/(m + 1));
    # its upper (1 - alpha) quantile bounds it for this reference, not only on average.
    outside = float(stats.beta.ppf(1 - alpha, 2, max(m - 1, 1)))
    counts = None
    if is_string_type(t) or pa.types.is_boolean(t) or (pa.types.is_integer(t)):
        counts = category_counts(column)
    categorical = counts is not None and len(counts.labels) <= MAX_ALLOWED and \
        (not pa.types.is_integer(t) or len(counts.labels) <= 20) and len(counts.labels) < m
    distinct = None if counts is None else len(counts.labels)
    if (is_string_type(t) or pa.types.is_integer(t)) and distinct == m and m >= 100:
        # An identifier: its values are all distinct; its range says nothing of new rows.
        spec["unique"] = True
    elif categorical:
        assert counts is not None
        singletons = int(np.sum(counts.counts == 1))
        spec["allowed"] = {"values": sorted(counts.labels),
                           "mostly": _mostly(_upper_rate(singletons, m, alpha), w, alpha)}
    elif is_numeric_type(t) and not pa.types.is_boolean(t):
        values = _floats("", column, "range")[present]
        lo, hi = float(values.min()), float(values.max())
        if pa.types.is_integer(t):
            lo, hi = float(int(lo)), float(int(hi))
        spec["range"] = {"min": lo, "max": hi, "mostly": _mostly(outside, w, alpha)}
    if is_string_type(t):
        lengths = np.asarray(pc.utf8_length(pc.cast(column, pa.string()).combine_chunks())
                             .to_numpy(zero_copy_only=False), dtype=np.float64)[present]
        spec["length"] = {"min": int(lengths.min()), "max": int(lengths.max()),
                          "mostly": _mostly(outside, w, alpha)}
    if is_temporal_type(t) and m >= 100:
        v = _floats("", column, "monotonic")[present]
        if v.size > 1 and np.all(np.diff(v) >= 0) and v[-1] > v[0]:
            spec["monotonic"] = "increasing"
    return spec
