"""Comparing one column's reference and current profiles, and the drift decision.

This is the half of the engine seam that exists once: every engine (in memory, Dask)
builds :class:`~driftwise.detect.profile.ColumnProfile` objects for the current data, and
the tests, quality facts, plots and the dataset decision are computed here from the two
profiles alone. Exact numeric profiles (sorted values) get the exact tests; a gridded one
on either side brings both onto the reference's grid (:mod:`driftwise.stats.grid_tests`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from driftwise.data import ColumnKind
from driftwise.data.schema import MAX_CODED_CATEGORIES
from driftwise.detect import _plot
from driftwise.detect.profile import ColumnProfile, ReferenceProfile
from driftwise.detect.results import ColumnDrift, DatasetDrift, DriftReport
from driftwise.detect.settings import DriftSettings
from driftwise.detect.tests import (
    BINNED_TESTS,
    CATEGORICAL_TESTS,
    EFFECT_KIND,
    NUMERIC_TESTS,
    align_counts,
    homogeneity_test,
    run_count_test,
    run_numeric_test,
)
from driftwise.errors import SchemaError
from driftwise.quality import ColumnQuality, categorical_quality, numeric_quality
from driftwise.stats import SortedPair, TwoSampleResult, adjust
from driftwise.stats.grid_tests import GridPair

#: Numeric tests computed on a grid; the others need every value.
GRID_TESTS = ("ks", "mannwhitney", "wasserstein", *BINNED_TESTS, "auto")


@dataclass(frozen=True)
class ColumnComparison:
    """One column's test result (``None`` when untested), quality facts, note and plot."""

    reference: ColumnProfile
    result: TwoSampleResult | None
    quality: ColumnQuality
    note: str | None
    plot: dict[str, Any] | None


def test_for(col: ColumnProfile, settings: DriftSettings) -> str:
    """The test ``col`` gets under ``settings``; a SchemaError if it does not apply."""
    chosen = settings.tests.get(col.name)
    if col.kind == ColumnKind.NUMERIC:
        test = chosen or settings.numeric_test
        allowed: tuple[str, ...] = NUMERIC_TESTS
    else:
        test = chosen or settings.categorical_test
        allowed = CATEGORICAL_TESTS
    if test not in allowed:
        raise SchemaError(
            f"column {col.name!r} is {col.kind.value}: test {test!r} does not apply; "
            f"choose one of {', '.join(allowed)}"
        )
    return test


def compare_column(ref: ColumnProfile, cur: ColumnProfile, settings: DriftSettings,
                   type_note: str | None) -> ColumnComparison:
    """Compare the current profile of one column with its reference profile."""
    if ref.kind == ColumnKind.NUMERIC:
        if ref.grid is None and cur.grid is None:
            return _compare_exact(ref, cur, settings, type_note)
        return _compare_grid(ref, cur, settings, type_note)
    if ref.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
        assert ref.labels is not None and ref.counts is not None
        assert cur.labels is not None and cur.counts is not None
        quality = categorical_quality(ref.labels, ref.n_missing, ref.n_rows, cur.labels,
                                      cur.counts, cur.n_missing, type_note)
        labels, ref_counts, cur_counts = align_counts(ref.labels, ref.counts, cur.labels,
                                                      cur.counts)
        result, note = run_count_test(test_for(ref, settings), ref_counts, cur_counts)
        return ColumnComparison(ref, result, quality, note,
                                _plot.bars(labels, ref_counts, cur_counts))
    quality = ColumnQuality(
        missing_share_reference=ref.n_missing / ref.n_rows if ref.n_rows else 0.0,
        missing_share_current=cur.n_missing / cur.n_rows if cur.n_rows else 0.0,
        type_mismatch=type_note,
    )
    return ColumnComparison(ref, None, quality, None, None)


def _compare_exact(ref: ColumnProfile, cur: ColumnProfile, settings: DriftSettings,
                   type_note: str | None) -> ColumnComparison:
    assert ref.sorted_values is not None and cur.sorted_values is not None
    quality = numeric_quality(ref.sorted_values, ref.n_missing, cur.sorted_values,
                              cur.n_missing, type_note)
    pair = SortedPair(ref.sorted_values, cur.sorted_values, assume_sorted=True)
    result, note = run_numeric_test(test_for(ref, settings), pair, settings.bins)
    return ColumnComparison(ref, result, quality, note,
                            _plot.histogram(ref.sorted_values, cur.sorted_values))


def _compare_grid(ref: ColumnProfile, cur: ColumnProfile, settings: DriftSettings,
                  type_note: str | None) -> ColumnComparison:
    edges = ref.edges() if ref.grid is not None or cur.grid is None else cur.grid.edges
    pair = GridPair(edges, ref.on_grid(edges), cur.on_grid(edges))
    test = test_for(ref, settings)
    if test not in GRID_TESTS:
        raise SchemaError(
            f"column {ref.name!r} is summarised on a grid, where test {test!r} cannot be "
            f"computed (it needs every value); choose one of {', '.join(GRID_TESTS)}, or "
            "compare exact profiles")
    result, note = _grid_test(test, pair, settings.bins)
    current, reference = pair.current, pair.reference
    # The grid's ends are the reference's extremes when it was cut from this reference;
    # only then do its outer cells count the values out of the reference's range.
    spans = edges[0] == reference.minimum and edges[-1] == reference.maximum
    out_of_range = current.below + int(current.counts[-1])
    quality = ColumnQuality(
        missing_share_reference=ref.n_missing / ref.n_rows if ref.n_rows else 0.0,
        missing_share_current=cur.n_missing / cur.n_rows if cur.n_rows else 0.0,
        out_of_range_share=out_of_range / current.n if spans else None,
        type_mismatch=type_note,
    )
    return ColumnComparison(ref, result, quality, note, _plot.grid_histogram(pair))


def _grid_test(test: str, pair: GridPair, bins: int) -> tuple[TwoSampleResult, str | None]:
    """A numeric test (or ``auto``, chosen as on the exact path) on a grid pair."""
    if test == "auto":
        n_distinct = int(np.count_nonzero(pair.reference.counts))
        if pair.reference_on_edges and n_distinct <= MAX_CODED_CATEGORIES:
            ref, cur = pair.value_counts()
            result = homogeneity_test(ref, cur)
            note = (f"discrete values ({n_distinct} distinct in reference): {result.test} "
                    "on values" + ("" if pair.exact else "; current values between reference "
                                   "values are counted with the next one"))
            return result, note
        test = "ks"
    if test == "ks":
        return pair.ks(), None
    if test == "mannwhitney":
        return pair.mannwhitney(), "on the grid: values within one cell count as ties"
    if test == "wasserstein":
        return pair.wasserstein_result(), None
    return pair.distance(test, bins), None


def storage_note(ref: ColumnProfile, arrow_type: str) -> str | None:
    """Describe a compatible change of storage type (int64 -> double), or ``None``."""
    return None if arrow_type == ref.arrow_type else \
        f"reference {ref.arrow_type}, current {arrow_type}"


def compare_profiles(reference: ReferenceProfile, current: ReferenceProfile,
                     settings: DriftSettings) -> list[ColumnComparison]:
    """Every column of a current *profile* (a stored or merged window) compared with the
    reference; type families must agree, storage types may differ."""
    missing = [c for c in reference.columns if c not in current.columns]
    extra = [c for c in current.columns if c not in reference.columns]
    if missing or extra:
        raise SchemaError(f"the current profile's columns differ from the reference's "
                          f"(missing: {missing or 'none'}; extra: {extra or 'none'})")
    out = []
    for name, ref in reference.columns.items():
        cur = current.columns[name]
        if cur.kind != ref.kind or cur.family != ref.family:
            raise SchemaError(f"column {name!r} is {ref.kind.value} ({ref.family}) in the "
                              f"reference but {cur.kind.value} ({cur.family}) in the current "
                              "profile")
        out.append(compare_column(ref, cur, settings, storage_note(ref, cur.arrow_type)))
    return out


def decide(profile: ReferenceProfile, current_rows: int,
           compared: list[ColumnComparison], settings: DriftSettings,
           current_name: str) -> DriftReport:
    """The report: p-values corrected across columns, each column's and the dataset's verdict."""
    p_values = {i: c.result.p_value for i, c in enumerate(compared)
                if c.result is not None and c.result.p_value is not None}
    adjusted = adjust(list(p_values.values()), settings.correction)
    adjusted_by_index = dict(zip(p_values, adjusted.tolist(), strict=True))
    columns = []
    for i, item in enumerate(compared):
        col, result, quality = item.reference, item.result, item.quality
        if result is None:
            columns.append(ColumnDrift(
                name=col.name, kind=col.kind.value, role=col.role, test=None, statistic=None,
                p_value=None, p_value_adjusted=None, effect=None, effect_name=None,
                threshold=None, drift_detected=False, quality=quality,
                skipped=col.skip_reason, kind_reason=col.kind_reason,
            ))
            continue
        p_adj = adjusted_by_index.get(i)
        if result.p_value is not None and p_adj is not None:
            threshold = settings.min_effect[EFFECT_KIND.get(result.effect_name, "numeric")]
            drifted = p_adj < settings.alpha and result.effect >= threshold
        else:
            threshold = settings.thresholds[result.test]
            drifted = result.effect >= threshold
        columns.append(ColumnDrift(
            name=col.name, kind=col.kind.value, role=col.role, test=result.test,
            statistic=result.statistic, p_value=result.p_value, p_value_adjusted=p_adj,
            effect=result.effect, effect_name=result.effect_name, threshold=threshold,
            drift_detected=bool(drifted), quality=quality, note=item.note,
            kind_reason=col.kind_reason, method=result.method, plot=item.plot,
        ))
    tested = [c for c in columns if c.skipped is None]
    n_drifted = sum(c.drift_detected for c in tested)
    share = n_drifted / len(tested) if tested else 0.0
    dataset = DatasetDrift(
        drift_detected=n_drifted > 0 and share >= settings.drift_share,
        drifted_columns=n_drifted, columns=len(tested), share=share,
        correction=settings.correction, alpha=settings.alpha,
    )
    return DriftReport(
        reference_rows=profile.n_rows, current_rows=current_rows, dataset_drift=dataset,
        columns=tuple(columns), settings=settings.to_dict(), reference_name=profile.name,
        current_name=current_name,
    )
