"""The tabular drift detector: fit a reference once, compare many current batches."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from driftwise.data import (
    ColumnKind,
    category_counts,
    markers_of,
    numeric_values,
    require_rows,
    to_table,
)
from driftwise.data.schema import type_family
from driftwise.detect import _plot
from driftwise.detect._profile_file import is_profile_path
from driftwise.detect.geometry.suite import GeometrySuite
from driftwise.detect.profile import ColumnProfile, ReferenceProfile, no_values_error
from driftwise.detect.results import ColumnDrift, DatasetDrift, DriftReport
from driftwise.detect.settings import DetectorParams, DriftSettings
from driftwise.detect.tests import (
    CATEGORICAL_TESTS,
    EFFECT_KIND,
    NUMERIC_TESTS,
    align_counts,
    run_count_test,
    run_numeric_test,
)
from driftwise.errors import ConfigError, NotFittedError, SchemaError
from driftwise.quality import ColumnQuality, categorical_quality, numeric_quality
from driftwise.stats import SortedPair, TwoSampleResult, adjust

Progress = Callable[[str], None]


def _check_columns(profile: ReferenceProfile, table: pa.Table) -> None:
    expected = list(profile.columns)
    present = [c for c in table.column_names if c not in profile.excluded]
    missing = [c for c in expected if c not in present]
    extra = [c for c in present if c not in profile.columns]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing from current: {', '.join(map(repr, missing))}")
        if extra:
            parts.append(f"not in the reference: {', '.join(map(repr, extra))}")
        raise SchemaError(
            "the samples have different columns (" + "; ".join(parts) + "); "
            "align them or exclude columns with --exclude"
        )


def _type_note(col: ColumnProfile, column: pa.ChunkedArray) -> str | None:
    """Raise on a change of type family; describe a compatible storage change (int -> float)."""
    cur_family = type_family(column.type)
    if cur_family == "null":
        raise no_values_error(col.name, "current", len(column))
    if cur_family != col.family:
        raise SchemaError(
            f"column {col.name!r} holds {col.family} values in the reference but "
            f"{cur_family} values in the current sample{_offending(col, column)}; "
            "the two samples must share a type"
        )
    if str(column.type) == col.arrow_type:
        return None
    return f"reference {col.arrow_type}, current {column.type}"


def _offending(col: ColumnProfile, column: pa.ChunkedArray) -> str:
    """Examples of current values that do not fit the reference's type."""
    is_text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
    if col.family != "number" or not is_text:
        return ""
    bad: list[str] = []
    for value in column.slice(0, 100_000).to_pylist():
        if value is None:
            continue
        try:
            float(value)
        except ValueError:
            if value not in bad:
                bad.append(value)
            if len(bad) == 3:
                break
    return f" (not numbers: {', '.join(map(repr, bad))})" if bad else ""


class DriftDetector:
    """Two-sample drift tests on every column of a table, with the verdicts a user needs.

    Parameters
    ----------
    numeric_test, categorical_test, correction, alpha, min_effect, thresholds, bins,
    tests, drift_share
        See :class:`~driftwise.detect.settings.DriftSettings`.
    kinds : mapping, optional
        Column kind overrides, ``{column: "numeric" | "categorical" | ...}``.
    exclude : iterable of str
        Columns left out of the comparison.
    target, prediction : str, optional
        Columns holding the target / the model's prediction (tested, and labelled so).
    multivariate, embeddings, text : mapping, optional
        Settings of the report's multivariate, embedding and text parts (see
        :mod:`driftwise.detect.geometry.suite`); text and embedding columns are compared by
        default, multivariate drift when this mapping is given.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = {"x": rng.normal(size=2000), "y": rng.normal(size=2000)}
    >>> cur = {"x": rng.normal(0.5, 1, 2000), "y": rng.normal(size=2000)}
    >>> DriftDetector().fit(ref).compare(cur).drifted_columns
    ['x']
    """

    def __init__(
        self,
        *,
        numeric_test: str = "auto",
        categorical_test: str = "auto",
        correction: str = "fdr",
        alpha: float = 0.05,
        min_effect: Mapping[str, float] | None = None,
        thresholds: Mapping[str, float] | None = None,
        bins: int = 10,
        tests: Mapping[str, str] | None = None,
        drift_share: float = 0.0,
        kinds: Mapping[str, str] | None = None,
        exclude: Iterable[str] = (),
        target: str | None = None,
        prediction: str | None = None,
        multivariate: Mapping[str, Any] | None = None,
        embeddings: Mapping[str, Any] | None = None,
        text: Mapping[str, Any] | None = None,
    ) -> None:
        self.numeric_test = numeric_test
        self.categorical_test = categorical_test
        self.correction = correction
        self.alpha = alpha
        self.min_effect = min_effect
        self.thresholds = thresholds
        self.bins = bins
        self.tests = tests
        self.drift_share = drift_share
        self.kinds = kinds
        self.exclude = exclude
        self.target = target
        self.prediction = prediction
        self.multivariate = multivariate
        self.embeddings = embeddings
        self.text = text

    # -- configuration -------------------------------------------------------------
    def params(self) -> DetectorParams:
        """Every parameter, validated: a wrong type or value raises ConfigError naming it."""
        given = {name: getattr(self, name) for name in DetectorParams.model_fields}
        return DetectorParams(**{k: v for k, v in given.items() if v is not None})

    def settings(self) -> DriftSettings:
        """The validated settings this detector compares with."""
        return self.params().settings()

    # -- fitting -------------------------------------------------------------------
    def fit(self, reference: Any, *, name: str | None = None,
            progress: Progress | None = None) -> DriftDetector:
        """Profile the reference: a table, DataFrame, array, path, a ``.profile`` file or a
        loaded :class:`ReferenceProfile`.

        Returns
        -------
        DriftDetector
            ``self``, fitted (``profile_`` is set).
        """
        params = self.params()
        if isinstance(reference, str | os.PathLike) and is_profile_path(reference):
            reference = ReferenceProfile.load(reference)[0]
        if isinstance(reference, ReferenceProfile):
            return self._fit_profile(reference, params)
        table = to_table(reference)
        require_rows(table, "reference")
        roles = _roles(params)
        self.profile_ = ReferenceProfile.from_table(
            table, kinds=params.kinds, roles=roles, exclude=params.exclude,
            name=name or _source_name(reference, "reference"), progress=progress,
        )
        # The row-based parts (multivariate, embeddings, text) fit on the profile's row
        # sample, the same rows a saved profile keeps: results from a profile equal these.
        self.geometry_ = self._geometry(params).fit(self.profile_.rows,
                                                    self._kinds_of(self.profile_))
        # The raw reference is no longer needed: hand Arrow's freed buffers back to the OS
        # so that a large reference does not inflate the peak memory of the comparison.
        pa.default_memory_pool().release_unused()
        return self

    def _fit_profile(self, profile: ReferenceProfile, params: DetectorParams) -> DriftDetector:
        """Fit from a saved profile: its columns' kinds are fixed, roles and exclusions apply."""
        changed = [f"{c!r} is {profile.columns[c].kind.value}, configured {k}"
                   for c, k in params.kinds.items()
                   if c in profile.columns and profile.columns[c].kind.value != k]
        if changed:
            raise ConfigError("column kinds cannot change on a saved profile ("
                              + "; ".join(changed) + "); re-create it with `driftwise profile` "
                              "and this configuration")
        self.profile_ = profile.without(params.exclude)
        for column, role in _roles(params).items():
            if column not in self.profile_.columns:
                raise SchemaError(f"{role} column {column!r} is not in the reference profile")
            self.profile_.columns[column].role = role
        self.geometry_ = self._geometry(params).fit(self.profile_.rows,
                                                    self._kinds_of(self.profile_))
        return self

    @staticmethod
    def _geometry(params: DetectorParams) -> GeometrySuite:
        return GeometrySuite(**params.sections(), alpha=params.alpha)

    @staticmethod
    def _kinds_of(profile: ReferenceProfile) -> dict[str, ColumnKind]:
        return {name: col.kind for name, col in profile.columns.items()}

    def save(self, path: str | os.PathLike[str], *, rows: bool = True) -> None:
        """Save the fitted reference profile and these settings to one file.

        ``rows=False`` leaves out the row sample (whole reference rows, texts and vectors
        included): the file then holds per-column summaries only, and the multivariate,
        embedding and text parts are skipped when comparing with it.
        """
        self._require_fitted().save(path, settings=self.settings().to_dict(), rows=rows)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | ReferenceProfile,
             saved: Mapping[str, Any] | None = None, **overrides: Any) -> DriftDetector:
        """A detector from a saved profile, with its saved settings unless overridden.

        ``path`` may be a profile already read with :meth:`ReferenceProfile.load`, its
        settings passed as ``saved``.
        """
        if isinstance(path, ReferenceProfile):
            profile = path
        else:
            profile, saved = ReferenceProfile.load(path)
        params = {**dict(saved or {}), **{k: v for k, v in overrides.items() if v is not None}}
        return cls(**params).fit(profile)

    def _require_fitted(self) -> ReferenceProfile:
        profile: ReferenceProfile | None = getattr(self, "profile_", None)
        if profile is None:
            raise NotFittedError("this DriftDetector is not fitted yet: call fit(reference) first")
        return profile

    # -- comparing -----------------------------------------------------------------
    def compare(self, current: Any, *, name: str | None = None,
                progress: Progress | None = None) -> DriftReport:
        """Compare ``current`` with the fitted reference, column by column."""
        profile = self._require_fitted()
        settings = self.settings()
        table = to_table(current)
        require_rows(table, "current")
        _check_columns(profile, table)
        raw: list[tuple[ColumnProfile, TwoSampleResult | None, ColumnQuality, str | None,
                        dict[str, Any] | None]] = []
        for col in profile.columns.values():
            column = table.column(col.name)
            type_note = _type_note(col, column)
            _, result, quality, note, plot = _compare_column(col, column, settings, type_note)
            markers = markers_of(table, col.name)
            if markers or col.markers:
                quality = dataclasses.replace(quality, missing_markers_reference=dict(
                    col.markers), missing_markers_current=markers)
            raw.append((col, result, quality, note, plot))
            if progress is not None:
                progress(col.name)
        report = _decide(profile, table.num_rows, raw, settings,
                         name or _source_name(current, "current"))
        suite: GeometrySuite | None = getattr(self, "geometry_", None)
        if suite is None:
            return report
        parts = suite.compare(table)
        return dataclasses.replace(report, multivariate=parts.multivariate,
                                   embeddings=parts.embeddings, text=parts.text)


def _roles(params: DetectorParams) -> dict[str, str]:
    roles = {}
    if params.target is not None:
        roles[params.target] = "target"
    if params.prediction is not None:
        roles[params.prediction] = "prediction"
    return roles


def _source_name(data: Any, default: str) -> str:
    if isinstance(data, str | os.PathLike):
        return os.path.basename(os.fspath(data)) or default
    return default


def _test_for(col: ColumnProfile, settings: DriftSettings) -> str:
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


def _compare_column(
    col: ColumnProfile, column: pa.ChunkedArray, settings: DriftSettings,
    type_note: str | None,
) -> tuple[ColumnProfile, TwoSampleResult | None, ColumnQuality, str | None,
           dict[str, Any] | None]:
    if col.kind == ColumnKind.NUMERIC:
        assert col.sorted_values is not None
        nv = numeric_values(col.name, column, "current")
        if nv.values.size == 0:
            raise no_values_error(col.name, "current", len(column))
        cur_sorted = np.sort(nv.values)
        quality = numeric_quality(col.sorted_values, col.n_missing, cur_sorted, nv.n_missing,
                                  type_note)
        pair = SortedPair(col.sorted_values, cur_sorted, assume_sorted=True)
        result, note = run_numeric_test(_test_for(col, settings), pair, settings.bins)
        return col, result, quality, note, _plot.histogram(col.sorted_values, cur_sorted)
    if col.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
        assert col.labels is not None and col.counts is not None
        cc = category_counts(column)
        if cc.counts.size == 0:
            raise no_values_error(col.name, "current", len(column))
        quality = categorical_quality(col.labels, col.n_missing, col.n_rows, cc.labels,
                                      cc.counts, cc.n_missing, type_note)
        labels, ref_counts, cur_counts = align_counts(col.labels, col.counts, cc.labels,
                                                      cc.counts)
        result, note = run_count_test(_test_for(col, settings), ref_counts, cur_counts)
        return col, result, quality, note, _plot.bars(labels, ref_counts, cur_counts)
    n_missing = column.null_count
    quality = ColumnQuality(
        missing_share_reference=col.n_missing / col.n_rows if col.n_rows else 0.0,
        missing_share_current=n_missing / len(column) if len(column) else 0.0,
        type_mismatch=type_note,
    )
    return col, None, quality, None, None


def _decide(
    profile: ReferenceProfile, current_rows: int,
    raw: list[tuple[ColumnProfile, TwoSampleResult | None, ColumnQuality, str | None,
                    dict[str, Any] | None]],
    settings: DriftSettings, current_name: str,
) -> DriftReport:
    p_values = {i: item[1].p_value for i, item in enumerate(raw)
                if item[1] is not None and item[1].p_value is not None}
    adjusted = adjust(list(p_values.values()), settings.correction)
    adjusted_by_index = dict(zip(p_values, adjusted.tolist(), strict=True))
    columns = []
    for i, (col, result, quality, note, plot) in enumerate(raw):
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
            drift_detected=bool(drifted), quality=quality, note=note,
            kind_reason=col.kind_reason, method=result.method, plot=plot,
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
