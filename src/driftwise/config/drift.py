"""The drift configuration file: which columns, which kinds, which tests.

Format (every key optional)::

    drift:                      # DriftSettings
      numeric_test: auto
      categorical_test: auto
      correction: fdr           # fdr | bonferroni | none
      alpha: 0.05
      min_effect: {numeric: 0.1, categorical: 0.05}
      thresholds: {psi: 0.2}
      bins: 10
      drift_share: 0.0
    columns:                    # per-column overrides
      EDUCATION: {kind: categorical, test: g_test}
      customer_id: {kind: identifier}
    exclude: [row_number]
    target: default
    prediction: score
    multivariate: {enabled: true, columns: [a, b], classifier: gradient_boosting}
    embeddings: {n_permutations: 200, metric: cosine}      # enabled: false to skip
    text: {embeddings: auto, top_terms: 15}                # enabled: false to skip

The last three sections hold the parameters of the multivariate, embedding and text
detectors (:mod:`driftwise.detect.geometry`); see docs/multivariate.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from driftwise.config._model import StrictModel, validate_mapping
from driftwise.config._yaml import read_yaml
from driftwise.detect.geometry.suite import (
    sections_of,
)
from driftwise.detect.settings import ColumnsAndParts, DeclaredKind, DriftSettings, TestName

__all__ = ["ColumnSpec", "DriftConfig", "detector_params", "load_config", "parse_config"]


class ColumnSpec(StrictModel):
    """``columns.<name>``: the column's kind and/or test."""

    kind: DeclaredKind | None = None
    test: TestName | None = None


class DriftConfig(ColumnsAndParts):
    """A validated drift configuration (the file ``driftwise report --config`` reads)."""

    drift: DriftSettings = Field(default_factory=DriftSettings)
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)

    @property
    def settings(self) -> dict[str, Any]:
        """The ``drift:`` keys the file sets."""
        values: dict[str, Any] = self.drift.model_dump(exclude_unset=True)
        return values

    @property
    def kinds(self) -> dict[str, str]:
        """Declared column kinds."""
        return {n: str(c.kind) for n, c in self.columns.items() if c.kind is not None}

    @property
    def tests(self) -> dict[str, str]:
        """Per-column tests."""
        return {n: str(c.test) for n, c in self.columns.items() if c.test is not None}

    @property
    def geometry(self) -> dict[str, dict[str, Any]]:
        """The multivariate / embeddings / text sections the file gives."""
        return {k: v for k, v in sections_of(self).items() if v is not None}


def parse_config(data: Any, source: str = "config") -> DriftConfig:
    """Validate a configuration mapping, naming the bad key in any error."""
    return validate_mapping(DriftConfig, data, source)


def load_config(path: str | os.PathLike[str]) -> DriftConfig:
    """Read and validate a YAML drift configuration file."""
    return parse_config(read_yaml(path), os.fspath(path))


def detector_params(
    config: DriftConfig | None = None,
    saved: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """DriftDetector parameters: saved profile settings < config file < explicit options.

    ``None`` overrides are ignored; ``exclude`` lists are combined.
    """
    params: dict[str, Any] = dict(saved or {})
    exclude: list[str] = []
    if config is not None:
        params.update(config.settings)
        params["tests"] = {**params.get("tests", {}), **config.tests}
        if config.kinds:
            params["kinds"] = dict(config.kinds)
        exclude.extend(config.exclude)
        for key in ("target", "prediction"):
            if getattr(config, key) is not None:
                params[key] = getattr(config, key)
        params.update(config.geometry)
    exclude.extend(overrides.pop("exclude", None) or [])
    if exclude:
        params["exclude"] = list(dict.fromkeys(exclude))
    params.update({k: v for k, v in overrides.items() if v is not None})
    return params
