"""Multivariate drift of a table's numeric columns: MMD, a domain classifier, PCA error.

Univariate tests miss a change of the joint distribution (a correlation that flips, a new
cluster inside the old marginals). This detector looks at numeric and boolean columns
together: each is standardised by the reference (mean, sd), missing values are replaced by
the reference median for MMD and PCA (the gradient-boosting classifier takes them as they
are), and at most ``max_rows`` rows per sample are used (a seeded random subset).
Drift is called when any configured view signals, each at ``alpha / views`` (Bonferroni).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from driftwise.data import ColumnKind, infer_kind, numeric_values, to_table
from driftwise.detect.geometry.classifier import (
    CLASSIFIERS,
    DomainClassifierResult,
    domain_classifier_test,
)
from driftwise.detect.geometry.mmd import MMDResult, mmd_test
from driftwise.detect.geometry.reconstruction import ReconstructionDrift, ReconstructionResult
from driftwise.errors import ConfigError, InsufficientDataError, NotFittedError, SchemaError

MULTIVARIATE_TESTS = ("mmd", "classifier", "reconstruction")
MIN_ROWS = 20


@dataclass(frozen=True)
class MultivariateDrift:
    """What the multivariate views found on the listed columns."""

    columns: tuple[str, ...]
    reference_rows: int
    current_rows: int
    drift_detected: bool
    mmd: MMDResult | None = None
    classifier: DomainClassifierResult | None = None
    reconstruction: ReconstructionResult | None = None
    alpha: float = 0.05
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "columns": list(self.columns), "reference_rows": self.reference_rows,
            "current_rows": self.current_rows, "drift_detected": self.drift_detected,
            "alpha": self.alpha, "mmd": self.mmd.to_dict() if self.mmd else None,
            "classifier": self.classifier.to_dict() if self.classifier else None,
            "reconstruction": self.reconstruction.to_dict() if self.reconstruction else None,
            "skipped": self.skipped,
        }


def _numeric_matrix(table: pa.Table, columns: Sequence[str], sample: str) -> NDArray[np.float64]:
    out = np.empty((table.num_rows, len(columns)))
    for j, name in enumerate(columns):
        if name not in table.column_names:
            raise SchemaError(f"multivariate column {name!r} is missing from the {sample} sample")
        column = table.column(name)
        arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        if pa.types.is_boolean(arr.type):
            arr = arr.cast(pa.int8())
        numeric_values(name, column, sample)  # type and infinity checks, with the messages
        out[:, j] = arr.to_numpy(zero_copy_only=False).astype(np.float64)
    return out


class MultivariateDriftDetector:
    """Joint drift of several numeric columns.

    Parameters
    ----------
    columns : sequence of str, optional
        Columns to use; default: every numeric or boolean column of the reference.
    tests : sequence of {"mmd", "classifier", "reconstruction"}
    alpha : float
    n_permutations : int
    classifier : {"gradient_boosting", "logistic"}
    folds, importances : int
    variance : float
        Variance share kept by the PCA of the reconstruction view.
    max_rows : int
    seed : int

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=1000)
    >>> ref = {"a": a, "b": a + 0.1 * rng.normal(size=1000)}
    >>> c = rng.normal(size=1000)
    >>> cur = {"a": c, "b": -c + 0.1 * rng.normal(size=1000)}   # same marginals
    >>> MultivariateDriftDetector().fit(ref).compare(cur).drift_detected
    True
    """

    def __init__(self, *, columns: Sequence[str] | None = None,
                 tests: Sequence[str] = MULTIVARIATE_TESTS, alpha: float = 0.05,
                 n_permutations: int = 100, classifier: str = "gradient_boosting",
                 folds: int = 2, importances: int = 5, min_auc: float = 0.55,
                 variance: float = 0.9, max_rows: int = 2000, seed: int = 0) -> None:
        self.columns = columns
        self.tests = tests
        self.alpha = alpha
        self.n_permutations = n_permutations
        self.classifier = classifier
        self.folds = folds
        self.importances = importances
        self.min_auc = min_auc
        self.variance = variance
        self.max_rows = max_rows
        self.seed = seed

    def _rows(self, x: NDArray[np.float64], salt: int) -> NDArray[np.float64]:
        if x.shape[0] <= self.max_rows:
            return x
        idx = np.random.default_rng(self.seed + salt).choice(x.shape[0], self.max_rows,
                                                              replace=False)
        return x[np.sort(idx)]

    def fit(self, reference: Any) -> MultivariateDriftDetector:
        """Pick the columns and learn the reference's scaling, medians and PCA."""
        unknown = [t for t in self.tests if t not in MULTIVARIATE_TESTS]
        if unknown or not self.tests:
            raise ConfigError(f"multivariate tests must be among {', '.join(MULTIVARIATE_TESTS)}"
                              f", got {list(self.tests)}")
        if self.classifier not in CLASSIFIERS:
            raise ConfigError(f"classifier: unknown value {self.classifier!r}; choose one of "
                              f"{', '.join(CLASSIFIERS)}")
        table = to_table(reference)
        if self.columns is None:
            chosen = [c for c in table.column_names if infer_kind(c, table.column(c))[0]
                      in (ColumnKind.NUMERIC, ColumnKind.BOOLEAN)]
        else:
            chosen = list(self.columns)
        if len(chosen) < 2:
            raise InsufficientDataError(
                f"multivariate drift needs at least two numeric columns, got {chosen}; list "
                "them under multivariate.columns"
            )
        x = self._rows(_numeric_matrix(table, chosen, "reference"), 0)
        if x.shape[0] < MIN_ROWS:
            raise InsufficientDataError(
                f"multivariate drift needs at least {MIN_ROWS} reference rows, got {x.shape[0]}")
        self.columns_ = tuple(chosen)
        self.median_ = np.nan_to_num(np.nanmedian(x, axis=0))
        self.mean_ = np.nan_to_num(np.nanmean(x, axis=0))
        sd = np.nan_to_num(np.nanstd(x, axis=0))
        self.scale_ = np.where(sd > 0, sd, 1.0)
        self.reference_ = (x - self.mean_) / self.scale_
        if "reconstruction" in self.tests:
            self.reconstruction_ = ReconstructionDrift(variance=self.variance, seed=self.seed)
            self.reconstruction_.fit(self._imputed(self.reference_))
        return self

    def _imputed(self, xs: NDArray[np.float64]) -> NDArray[np.float64]:
        fill = (self.median_ - self.mean_) / self.scale_
        return np.where(np.isnan(xs), fill[None, :], xs)

    def compare(self, current: Any) -> MultivariateDrift:
        """Run the views on ``current``."""
        ref = getattr(self, "reference_", None)
        if ref is None:
            raise NotFittedError("this MultivariateDriftDetector is not fitted: call fit first")
        table = to_table(current)
        y = self._rows(_numeric_matrix(table, self.columns_, "current"), 1)
        if y.shape[0] < MIN_ROWS:
            return MultivariateDrift(self.columns_, ref.shape[0], y.shape[0], False,
                                     alpha=self.alpha, skipped=(
                                         f"the current sample has {y.shape[0]} rows; "
                                         f"multivariate drift needs at least {MIN_ROWS}"))
        ys = (y - self.mean_) / self.scale_
        level = self.alpha / len(self.tests)
        signals = []
        mmd = cls = rec = None
        if "mmd" in self.tests:
            mmd = mmd_test(self._imputed(ref), self._imputed(ys),
                           n_permutations=self.n_permutations, seed=self.seed)
            signals.append(mmd.p_value < level)
        if "classifier" in self.tests:
            a, b = (ref, ys) if self.classifier == "gradient_boosting" else (
                self._imputed(ref), self._imputed(ys))
            cls = domain_classifier_test(a, b, feature_names=self.columns_,
                                         classifier=self.classifier, folds=self.folds,
                                         importances=self.importances, seed=self.seed)
            signals.append(cls.p_value < level and cls.auc >= self.min_auc)
        if "reconstruction" in self.tests:
            rec = self.reconstruction_.compare(self._imputed(ys))
            signals.append(rec.drift_detected)
        return MultivariateDrift(self.columns_, ref.shape[0], table.num_rows, any(signals), mmd,
                                 cls, rec, self.alpha)
