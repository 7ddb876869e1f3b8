"""Result objects of a tabular drift comparison and their JSON form."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from driftwise._json import dumps
from driftwise._version import __version__
from driftwise.quality import ColumnQuality

if TYPE_CHECKING:
    from driftwise.detect.geometry.embeddings import EmbeddingDrift
    from driftwise.detect.geometry.multivariate import MultivariateDrift
    from driftwise.detect.geometry.text import TextDrift


def _finite_or_none(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True)
class ColumnDrift:
    """Drift verdict and evidence for one column.

    ``p_value_adjusted`` is the p-value after the multiple-test correction; a column
    drifts when it is below ``alpha`` *and* ``effect`` reaches the minimum effect (for
    p-value tests), or when ``effect`` reaches ``threshold`` (for distances).
    """

    name: str
    kind: str
    role: str
    test: str | None
    statistic: float | None
    p_value: float | None
    p_value_adjusted: float | None
    effect: float | None
    effect_name: str | None
    threshold: float | None
    drift_detected: bool
    quality: ColumnQuality
    skipped: str | None = None
    note: str | None = None
    kind_reason: str = ""
    method: str | None = None
    plot: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, as documented in the README."""
        return {
            "name": self.name, "kind": self.kind, "role": self.role, "test": self.test,
            "statistic": _finite_or_none(self.statistic),
            "p_value": _finite_or_none(self.p_value),
            "p_value_adjusted": _finite_or_none(self.p_value_adjusted),
            "effect": _finite_or_none(self.effect), "effect_name": self.effect_name,
            "threshold": self.threshold, "drift_detected": self.drift_detected,
            "method": self.method, "skipped": self.skipped, "note": self.note,
            "kind_reason": self.kind_reason, "quality": self.quality.to_dict(),
            "plot": self.plot,
        }


@dataclass(frozen=True)
class DatasetDrift:
    """The dataset-level verdict: how many tested columns drifted."""

    drift_detected: bool
    drifted_columns: int
    columns: int
    share: float
    correction: str
    alpha: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "drift_detected": self.drift_detected, "drifted_columns": self.drifted_columns,
            "columns": self.columns, "share": self.share, "correction": self.correction,
            "alpha": self.alpha,
        }


@dataclass(frozen=True)
class DriftReport:
    """Everything one reference-vs-current comparison found."""

    reference_rows: int
    current_rows: int
    dataset_drift: DatasetDrift
    columns: tuple[ColumnDrift, ...]
    settings: dict[str, Any]
    reference_name: str = "reference"
    current_name: str = "current"
    multivariate: MultivariateDrift | None = None
    embeddings: tuple[EmbeddingDrift, ...] = ()
    text: tuple[TextDrift, ...] = ()

    @property
    def drift_detected(self) -> bool:
        """Whether the dataset drifted: its columns, or its multivariate/embedding/text parts."""
        return self.dataset_drift.drift_detected or (
            self.multivariate is not None and self.multivariate.drift_detected
        ) or any(e.drift_detected for e in self.embeddings) or any(
            t.drift_detected for t in self.text)

    @property
    def drifted_columns(self) -> list[str]:
        """Names of the columns that drifted."""
        return [c.name for c in self.columns if c.drift_detected]

    def column(self, name: str) -> ColumnDrift:
        """The result of column ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self, *, plots: bool = True) -> dict[str, Any]:
        """Plain-JSON form (the documented report format)."""
        columns = []
        for c in self.columns:
            d = c.to_dict()
            if not plots:
                d.pop("plot")
            columns.append(d)
        return {
            "driftwise_version": __version__,
            "reference_name": self.reference_name, "current_name": self.current_name,
            "reference_rows": self.reference_rows, "current_rows": self.current_rows,
            "settings": self.settings, "dataset_drift": self.dataset_drift.to_dict(),
            "columns": columns,
            "multivariate": self.multivariate.to_dict() if self.multivariate else None,
            "embeddings": [e.to_dict() for e in self.embeddings],
            "text": [t.to_dict() for t in self.text],
        }

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int = 2) -> str:
        """The JSON report as text; also written to ``path`` when given."""
        text = dumps(self.to_dict(), indent=indent)
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        return text
