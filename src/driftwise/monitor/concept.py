"""Per-feature concept-drift baselines for the Monitor (binning learned on the reference)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from driftwise.data import ColumnKind, category_counts
from driftwise.data.columns import labels as to_labels
from driftwise.detect import DriftDetector
from driftwise.errors import ConfigError
from driftwise.monitor.metric_names import prefixed
from driftwise.monitor.result import MetricValue
from driftwise.performance.concept import relation_change
from driftwise.stats import adjust, quantile_edges

CONCEPT_BINS = 10
ALPHA = 0.05


class _Binner:
    """Maps a column to bin indices: reference deciles, or reference categories (+ other)."""

    def __init__(self, name: str, kind: ColumnKind, column: pa.ChunkedArray,
                 sorted_values: NDArray[np.float64] | None) -> None:
        self.name = name
        self.numeric = kind == ColumnKind.NUMERIC
        if self.numeric:
            assert sorted_values is not None
            self.edges = quantile_edges(sorted_values, CONCEPT_BINS)
            self.n_bins = self.edges.size + 2  # + a bin for missing values
        else:
            labels = category_counts(column).labels
            self.index = {label: i for i, label in enumerate(labels)}
            self.n_bins = len(labels) + 2  # + unseen, + missing

    def bins(self, column: pa.ChunkedArray) -> NDArray[np.int64]:
        if self.numeric:
            values = column.to_numpy(zero_copy_only=False).astype(np.float64)
            out: NDArray[np.int64] = np.searchsorted(self.edges, values, side="left").astype(
                np.int64)
            out[np.isnan(values)] = self.n_bins - 1
            return out
        unseen, missing = self.n_bins - 2, self.n_bins - 1
        return np.fromiter(
            (missing if v is None else self.index.get(v, unseen) for v in to_labels(column)),
            dtype=np.int64, count=len(column))


class ConceptReference:
    """The reference side of the feature–target relation tests."""

    def __init__(self, detector: DriftDetector | None, table: pa.Table, features: Sequence[str],
                 target: NDArray[np.int64], n_classes: int) -> None:
        if detector is None:
            raise ConfigError("checks.concept_drift needs checks.feature_drift (it reuses the "
                              "reference profile's column kinds)")
        profile = detector.profile_
        self.binners: list[_Binner] = []
        for name in features:
            prof = profile.columns.get(name)
            if prof is None:
                raise ConfigError(f"checks.concept_drift.features: {name!r} is not a monitored "
                                  "feature")
            if not prof.tested:
                continue
            kind = ColumnKind.NUMERIC if prof.kind == ColumnKind.NUMERIC else \
                ColumnKind.CATEGORICAL
            self.binners.append(_Binner(name, kind, table.column(name), prof.sorted_values))
        self.reference_bins = [b.bins(table.column(b.name)) for b in self.binners]
        self.target = target
        self.n_classes = n_classes

    def compare(self, table: pa.Table, target: NDArray[np.int64]) -> dict[str, MetricValue]:
        """``concept.<feature>.*`` metrics and ``concept.relation_changed`` (BH-corrected)."""
        out: dict[str, MetricValue] = {}
        p_values = []
        for binner, ref_bins in zip(self.binners, self.reference_bins, strict=True):
            change = relation_change(binner.name, ref_bins, self.target,
                                     binner.bins(table.column(binner.name)), target,
                                     binner.n_bins, self.n_classes)
            out.update(prefixed(f"concept.{binner.name}", {
                "p_value_reference": change.p_value_reference,
                "p_value_current": change.p_value_current,
                "cramers_v_reference": change.cramers_v_reference,
                "cramers_v_current": change.cramers_v_current,
                "change_p_value": change.change_p_value}))
            p_values.append(change.change_p_value)
        adjusted = adjust(p_values, "fdr") if p_values else np.array([])
        changed = [b.name for b, p in zip(self.binners, adjusted, strict=True) if p < ALPHA]
        for binner, p in zip(self.binners, adjusted, strict=True):
            out[f"concept.{binner.name}.change_p_value_adjusted"] = float(p)
        out["concept.relation_changed"] = bool(changed)
        out["concept.features_changed"] = len(changed)
        return out
