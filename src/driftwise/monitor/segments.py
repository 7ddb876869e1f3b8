"""Per-segment performance and the "worst slices" finder.

A slice is one value of a segment column (``region=north``) or a pair of values of two
segment columns (``region=north & device=ios``) with at least ``min_rows`` rows. Slices
are ranked by how much their accuracy dropped from the reference, *divided by the
standard error of that drop*, so a 40-row slice with a large but noisy drop does not
outrank a 4,000-row slice with a solid one; the counts are reported beside it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from driftwise.data.columns import labels as to_labels
from driftwise.detect import DriftDetector, DriftSettings

MIN_SLICE_ROWS = 50
SegmentMetrics = dict[str, float | int | bool | None]
TOP_SLICES = 5


@dataclass(frozen=True)
class Slice:
    """One slice's accuracy now and on the reference, and how surely it dropped."""

    name: str
    rows: int
    reference_rows: int
    accuracy: float
    reference_accuracy: float
    drop: float
    z: float
    source: str  # "realized" (labels) or "estimated" (CBPE)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)


def slice_masks(table: pa.Table, segments: Sequence[str], min_rows: int) -> (
    dict[str, NDArray[np.bool_]]
):
    """Boolean row masks of every single-column and two-column slice with enough rows."""
    values = {s: np.asarray(to_labels(table.column(s)), dtype=object) for s in segments}
    masks: dict[str, NDArray[np.bool_]] = {}
    for s in segments:
        for v in sorted({x for x in values[s] if x is not None}):
            mask = values[s] == v
            if mask.sum() >= min_rows:
                masks[f"{s}={v}"] = mask
    singles = list(masks.items())
    for (a, ma), (b, mb) in itertools.combinations(singles, 2):
        if a.split("=", 1)[0] == b.split("=", 1)[0]:
            continue
        both = ma & mb
        if both.sum() >= min_rows:
            masks[f"{a} & {b}"] = both
    return masks


def worst_slices(
    current: dict[str, tuple[float, int]], reference: dict[str, tuple[float, int]],
    source: str, top: int = TOP_SLICES,
) -> list[Slice]:
    """Rank slices by the z-score of their accuracy drop (largest first)."""
    out = []
    for name, (acc, n) in current.items():
        if name not in reference:
            continue
        ref_acc, ref_n = reference[name]
        se = math.sqrt(max(acc * (1 - acc), 1e-12) / n + max(ref_acc * (1 - ref_acc), 1e-12)
                       / ref_n)
        drop = ref_acc - acc
        out.append(Slice(name, n, ref_n, acc, ref_acc, drop, drop / se, source))
    out.sort(key=lambda s: -s.z)
    return out[:top]


class SegmentDrift:
    """Feature drift per segment value, against the same segment of the reference."""

    def __init__(self) -> None:
        self.detectors: dict[str, DriftDetector] = {}
        self.segments: tuple[str, ...] = ()

    def fit(self, table: pa.Table, features: Sequence[str], segments: Sequence[str],
            settings: DriftSettings, min_rows: int) -> SegmentDrift:
        """One detector per segment value with at least ``min_rows`` reference rows."""
        self.segments = tuple(segments)
        for name, mask in slice_masks(table, segments, min_rows).items():
            if " & " not in name:
                self.detectors[name] = DriftDetector(**settings.to_dict()).fit(
                    table.filter(pa.array(mask)).select(list(features)), name=name)
        return self

    def compare(self, table: pa.Table) -> SegmentMetrics:
        """``segments.<col>=<value>.drift.*`` for every segment value present in the window."""
        out: SegmentMetrics = {}
        if not self.detectors:
            return out
        masks = slice_masks(table, self.segments, MIN_SLICE_ROWS)
        for name, detector in self.detectors.items():
            mask = masks.get(name)
            if mask is None:
                continue
            rows = table.filter(pa.array(mask)).select(list(detector.profile_.columns))
            d = detector.compare(rows, name=name).dataset_drift
            out[f"segments.{name}.drift.drift_detected"] = d.drift_detected
            out[f"segments.{name}.drift.drifted_columns"] = d.drifted_columns
            out[f"segments.{name}.drift.share"] = d.share
        return out
