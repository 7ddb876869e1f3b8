"""Drift configuration from YAML: which columns, which kinds, which tests.

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
from dataclasses import dataclass, field
from typing import Any

import yaml

from driftwise.detect.geometry.suite import check_section
from driftwise.detect.settings import DriftSettings
from driftwise.errors import ConfigError

TOP_LEVEL_KEYS = ("drift", "columns", "exclude", "target", "prediction", "multivariate",
                  "embeddings", "text")
GEOMETRY_KEYS = ("multivariate", "embeddings", "text")
COLUMN_KEYS = ("kind", "test")


@dataclass(frozen=True)
class DriftConfig:
    """A parsed and validated drift configuration."""

    settings: dict[str, Any] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    tests: dict[str, str] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    target: str | None = None
    prediction: str | None = None
    geometry: dict[str, dict[str, Any]] = field(default_factory=dict)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def parse_config(data: Any, source: str = "config") -> DriftConfig:
    """Validate a configuration mapping, naming the bad key in any error."""
    top = _mapping(data, source)
    unknown = sorted(set(top) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise ConfigError(
            f"{source}: unknown key(s) {', '.join(unknown)}; known: {', '.join(TOP_LEVEL_KEYS)}"
        )
    settings = dict(_mapping(top.get("drift"), f"{source}: drift"))
    DriftSettings.from_mapping(settings, f"{source}: drift")
    kinds: dict[str, str] = {}
    tests: dict[str, str] = {}
    for name, spec in _mapping(top.get("columns"), f"{source}: columns").items():
        spec = _mapping(spec, f"{source}: columns.{name}")
        bad = sorted(set(spec) - set(COLUMN_KEYS))
        if bad:
            raise ConfigError(
                f"{source}: columns.{name}: unknown key(s) {', '.join(bad)}; "
                f"known: {', '.join(COLUMN_KEYS)}"
            )
        if "kind" in spec:
            kinds[str(name)] = str(spec["kind"])
        if "test" in spec:
            tests[str(name)] = str(spec["test"])
    exclude = top.get("exclude") or []
    if not isinstance(exclude, list) or not all(isinstance(x, str) for x in exclude):
        raise ConfigError(f"{source}: exclude: expected a list of column names")
    for key in ("target", "prediction"):
        if top.get(key) is not None and not isinstance(top[key], str):
            raise ConfigError(f"{source}: {key}: expected a column name")
    geometry = {key: check_section(key, top[key], f"{source}: {key}")
                for key in GEOMETRY_KEYS if key in top}
    return DriftConfig(settings, kinds, tests, tuple(exclude), top.get("target"),
                       top.get("prediction"), geometry)


def read_yaml(path: str | os.PathLike[str]) -> Any:
    """The data of a YAML file; unreadable or malformed files are ConfigErrors."""
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None


def load_config(path: str | os.PathLike[str]) -> DriftConfig:
    """Read and validate a YAML configuration file."""
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
