"""The tabular drift detector: fit a reference once, compare many current batches."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pyarrow as pa

from driftwise.data import ColumnKind, to_table
from driftwise.detect._profile_file import is_profile_path
from driftwise.detect.compare import compare_profiles, decide
from driftwise.detect.engine import Engine, InMemoryEngine, check_columns
from driftwise.detect.geometry.suite import GeometrySuite
from driftwise.detect.profile import ReferenceProfile
from driftwise.detect.results import DriftReport
from driftwise.detect.settings import DetectorParams, DriftSettings
from driftwise.errors import ConfigError, NotFittedError, SchemaError

Progress = Callable[[str], None]


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
    engine : Engine, optional
        Who profiles the data (:mod:`driftwise.detect.engine`): by default an
        :class:`~driftwise.detect.engine.InMemoryEngine` on every core; a
        ``driftwise.scale.DaskEngine`` takes Dask DataFrames and Parquet folders.

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
        engine: Engine | None = None,
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
        self.engine = engine

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
        engine = self._engine()
        data = engine.prepare(reference, "reference")
        self.profile_ = engine.profile(
            data, kinds=params.kinds, roles=_roles(params), exclude=params.exclude,
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

    def _engine(self) -> Engine:
        return self.engine if self.engine is not None else InMemoryEngine()

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
                progress: Progress | None = None, rows: Any = None) -> DriftReport:
        """Compare ``current`` with the fitted reference, column by column.

        ``current`` is data, or a :class:`ReferenceProfile` of the current sample (a stored
        window, or windows merged with :func:`~driftwise.detect.merge.merge_profiles`):
        then the per-column tests run on the profile, and the row-based parts
        (multivariate, embeddings, text) on ``rows``, a sample of the same data's rows,
        when given (else they are left out).
        """
        profile = self._require_fitted()
        settings = self.settings()
        if isinstance(current, ReferenceProfile):
            compared_profiles = compare_profiles(profile, current, settings)
            return self._with_rows(decide(profile, current.n_rows, compared_profiles,
                                          settings, name or current.name),
                                   None if rows is None else to_table(rows))
        if rows is not None:
            raise ConfigError("rows= goes with a current profile; data brings its own rows")
        engine = self._engine()
        data = engine.prepare(current, "current")
        check_columns(profile, engine.columns_of(data))
        compared = engine.compare(profile, data, settings, progress=progress)
        report = decide(profile, compared.n_rows, compared.columns, settings,
                        name or _source_name(current, "current"))
        return self._with_rows(report, compared.rows)

    def _with_rows(self, report: DriftReport, rows: Any) -> DriftReport:
        """The report with the row-based parts computed on ``rows`` (if any)."""
        suite: GeometrySuite | None = getattr(self, "geometry_", None)
        if suite is None or rows is None:
            return report
        parts = suite.compare(rows)
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
