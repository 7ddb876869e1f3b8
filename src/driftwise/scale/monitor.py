"""The Monitor on Dask: a reference and windows too large for memory.

What is computed from every row, and what from a sample:

* **Column drift** (feature drift, data quality: missing shares, out-of-range shares) of
  the reference and of every window comes from profiles built in the workers over all of
  their rows, exactly as :class:`~driftwise.scale.DaskEngine` builds them: exact where a
  column has at most ``exact_limit`` rows, else on the reference's grid (docs/scale.md).
* **Row-level checks** (prediction and score drift, estimated and realized performance,
  outliers, segments, concept checks, the multivariate detectors) need whole rows: they
  run on a seeded sample of each window (``window_rows``, default 50,000 rows) and are fitted on
  a seeded sample of the reference (``fit_rows``, default 200,000 rows). Both are stratified
  by partition, in proportion to each partition's rows in the window (largest remainders);
  partition ``i`` draws its share of window ``w`` with seed ``(seed, i, 3, w)`` and of the
  reference with ``(seed, i, 2)``. A window no larger than its sample is taken whole, and
  then every check equals the in-memory Monitor's. A sampled window says so in its
  ``reasons["sample"]``.

Windows are cut in the workers: row windows by each row's global position (partitions in
order), period windows by the timestamp column (one pass reading only that column counts
each window's rows per partition, so that the samples can be stratified). Windows are
evaluated in time order, a few at a time (at most ``WINDOWS_PER_BATCH`` windows and
``BATCH_EXACT_ROWS`` rows of exact values per computation), so the client holds a few
windows' profiles and samples, never the data.
"""

from __future__ import annotations

import operator
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from driftwise.detect import DriftDetector
from driftwise.detect.merge import proportional_quotas
from driftwise.detect.profile import ReferenceProfile
from driftwise.monitor import _columns as col
from driftwise.monitor.result import MonitorResult
from driftwise.monitor.windows import period_codes, rows_label
from driftwise.scale.dask_engine import (
    ColumnPlan,
    DaskEngine,
    Partitions,
    _as_table,
    _dask,
    profile_part,
    sample_part,
)

if TYPE_CHECKING:
    from driftwise.monitor import Monitor

#: Reference rows the row-level parts of the Monitor are fitted on.
FIT_ROWS = 200_000
#: Rows of each window the row-level checks run on.
WINDOW_ROWS = 50_000
#: Most windows profiled in one computation (each brings its profile and sample back).
WINDOWS_PER_BATCH = 8
#: Most rows of exact column values one computation brings back (a window's numeric
#: columns are gathered sorted up to the engine's ``exact_limit`` rows, then gridded).
BATCH_EXACT_ROWS = 2_000_000


def fit_on_engine(monitor: Monitor, reference: Any, engine: DaskEngine, *,
                  fit_rows: int = FIT_ROWS) -> Monitor:
    """Fit ``monitor`` on partitioned data: the feature-drift profile from every row in
    the workers, everything else on a seeded stratified sample of ``fit_rows`` rows."""
    from driftwise.monitor.monitor import _as_config

    cfg = monitor.config_ = _as_config(monitor.config)
    parts = engine.prepare(reference, "reference")
    c = cfg.columns
    col.require_columns(parts.schema.empty_table(),
                        [c.prediction, *c.probability_columns, c.target, c.id, c.timestamp,
                         *c.segments, *c.features], "reference")
    roles = {c.prediction, *c.probability_columns, c.target, c.id, c.timestamp} - {None}
    features = list(c.features) or [n for n in parts.schema.names if n not in roles]
    drift = None
    if cfg.checks.feature_drift is not None:
        drift = DriftDetector(**cfg.checks.feature_drift.to_dict(), engine=engine).fit(
            parts.select(features), name="reference")
        # Windows held in memory are compared here; Dask windows bring their profiles.
        drift.engine = None
    sample = engine.sample(parts, fit_rows, salt=2)
    monitor._fit_table(sample, drift=drift)
    monitor.reference_rows_ = parts.n_rows
    return monitor


@dataclass(frozen=True)
class _Cut:
    """How rows fall into windows: by position (``rows``), by ``period``, or one window."""

    rows: int | None
    period: str | None
    timestamp: str | None

    def groups(self, table: pa.Table, offset: int) -> dict[Any, NDArray[np.intp]]:
        """The rows of ``table`` (a partition starting at global row ``offset``) in each
        window it holds, by window key (a row window's index, or a period's label), each
        window's rows in their order."""
        keys: list[Any]
        if self.period is not None:
            codes, labels, _ = period_codes(table, self.period, self.timestamp)
            keys = list(labels)
        else:
            window = (offset + np.arange(table.num_rows)) // self.rows if self.rows \
                else np.zeros(table.num_rows, dtype=np.int64)
            first = int(window[0]) if window.size else 0
            codes = (window - first).astype(np.intp)
            keys = list(range(first, first + (int(codes.max()) + 1 if codes.size else 0)))
        order = np.argsort(codes, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(keys)))])
        return {key: order[bounds[k]:bounds[k + 1]] for k, key in enumerate(keys)}


def _period_counts(part: Any, cut: _Cut) -> dict[str, tuple[int, int]]:
    """Rows per period window in one partition, and each period's start."""
    table = _as_table(part)
    assert cut.period is not None
    codes, labels, starts = period_codes(table, cut.period, cut.timestamp)
    counts = np.bincount(codes, minlength=len(labels))
    return {label: (int(counts[k]), starts[k]) for k, label in enumerate(labels)}


def _window_seed(key: Any) -> int:
    return zlib.crc32(key.encode()) if isinstance(key, str) else int(key)


def _window_partials(part: Any, index: int, offset: int, cut: _Cut,
                     plans: dict[Any, list[ColumnPlan]], quotas: dict[Any, int],
                     seed: int) -> dict[Any, tuple[ReferenceProfile, pa.Table]]:
    """One partition's rows of each asked window: profiled on the window's plan, and its
    share of the window's sample (every column)."""
    table = _as_table(part)
    groups = cut.groups(table, offset)
    out = {}
    for key, plan in plans.items():
        rows = table.take(pa.array(groups.get(key, np.empty(0, dtype=np.intp))))
        rng = np.random.default_rng([seed, index, 3, _window_seed(key)])
        out[key] = (profile_part(rows, index, plan, "current"),
                    sample_part(rows, quotas[key], rng))
    return out


@dataclass
class _Window:
    key: Any
    label: str
    counts: dict[int, int]  # partition -> rows of this window

    @property
    def n_rows(self) -> int:
        return sum(self.counts.values())


def _windows(parts: Partitions, cut: _Cut, engine: DaskEngine, name: str) -> list[_Window]:
    """Every window in order, with its rows in each partition."""
    n = parts.n_rows
    offsets = np.concatenate([[0], np.cumsum(parts.sizes)]).tolist()
    if cut.period is not None:
        dask = _dask()
        assert cut.timestamp is not None
        if cut.timestamp not in parts.schema.names:
            from driftwise.errors import SchemaError

            raise SchemaError(f"period windows need the timestamp column {cut.timestamp!r}")
        stamps = parts.select([cut.timestamp])
        found = engine._run([dask.delayed(_period_counts)(p, cut) for p in stamps.parts])
        first: dict[str, Any] = {}
        counts: dict[str, dict[int, int]] = {}
        for i, per_part in enumerate(found):
            for label, (count, start) in per_part.items():
                counts.setdefault(label, {})[i] = count
                first[label] = min(first.get(label, start), start)
        return [_Window(label, label, counts[label]) for label in sorted(counts,
                                                                         key=first.__getitem__)]
    if cut.rows is None:
        return [_Window(0, name, {i: s for i, s in enumerate(parts.sizes) if s})]
    windows = []
    for w, start in enumerate(range(0, n, cut.rows)):
        end = min(start + cut.rows, n)
        overlap = {i: min(end, offsets[i + 1]) - max(start, offsets[i])
                   for i in range(len(parts.sizes))}
        windows.append(_Window(w, rows_label(start, cut.rows, n),
                               {i: k for i, k in overlap.items() if k > 0}))
    return windows


def run_on_engine(monitor: Monitor, frame: Any, engine: DaskEngine, *,
                  period: str | None = None, window_rows: int = WINDOW_ROWS,
                  name: str = "current") -> list[MonitorResult]:
    """Run a fitted Monitor over partitioned data, window by window (see the module)."""
    monitor._require_fitted()
    cfg = monitor.config_
    parts = engine.prepare(frame, "current")
    c = cfg.columns
    col.require_columns(parts.schema.empty_table(),
                        [c.prediction, *c.probability_columns, *monitor.features_], "current")
    cut = _Cut(cfg.window_rows if period is None else None, period, c.timestamp)
    windows = _windows(parts, cut, engine, name)
    reference = None if monitor.drift_ is None else monitor.drift_.profile_
    results = []
    for batch in _batches(windows, engine.exact_limit):
        measured = _profile_windows(engine, parts, cut, reference,
                                    [w for w in batch if w.n_rows >= cfg.min_rows],
                                    window_rows)
        for window in batch:
            if window.key not in measured:
                results.append(monitor._run_window(pa.table({}), window.label,
                                                   n_rows=window.n_rows))
                continue
            profile, rows = measured.pop(window.key)
            results.append(monitor._run_window(
                rows, window.label, profile=None if reference is None else profile,
                n_rows=window.n_rows))
    return results


def _batches(windows: list[_Window], exact_limit: int) -> list[list[_Window]]:
    """Consecutive windows, grouped so that each computation brings back a bounded amount:
    at most ``WINDOWS_PER_BATCH`` windows and ``BATCH_EXACT_ROWS`` exact rows."""
    batches: list[list[_Window]] = []
    weight = 0
    for window in windows:
        rows = window.n_rows if window.n_rows <= exact_limit else 0  # gridded: fixed size
        if not batches or len(batches[-1]) == WINDOWS_PER_BATCH or \
                weight + rows > BATCH_EXACT_ROWS:
            batches.append([])
            weight = 0
        batches[-1].append(window)
        weight += rows
    return batches


def _profile_windows(engine: DaskEngine, parts: Partitions, cut: _Cut,
                     reference: ReferenceProfile | None, windows: Sequence[_Window],
                     window_rows: int) -> dict[Any, tuple[ReferenceProfile, pa.Table]]:
    """Each window's profile (on the reference's plan) and seeded sample, from the workers."""
    if not windows:
        return {}
    dask = _dask()
    offsets = np.concatenate([[0], np.cumsum(parts.sizes)]).tolist()
    plans: dict[Any, list[ColumnPlan]] = {
        w.key: [] if reference is None else engine.current_plans(reference, w.n_rows)
        for w in windows}
    quotas: dict[Any, dict[int, int]] = {}
    for w in windows:
        members = sorted(w.counts)
        shares = proportional_quotas([w.counts[i] for i in members],
                                     min(window_rows, w.n_rows))
        quotas[w.key] = dict(zip(members, shares, strict=True))
    tasks = {}
    for i, part in enumerate(parts.parts):
        asked = [w.key for w in windows if i in w.counts]
        if asked:
            tasks[i] = dask.delayed(_window_partials)(
                part, i, offsets[i], cut, {k: plans[k] for k in asked},
                {k: quotas[k][i] for k in asked}, engine.seed)
    groups = {w.key: [dask.delayed(operator.getitem)(tasks[i], w.key) for i in sorted(w.counts)]
              for w in windows}
    return engine.reduce_groups(groups)
