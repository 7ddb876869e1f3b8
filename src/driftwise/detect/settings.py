"""Detector settings: one validated object shared by the library, the CLI and configs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from driftwise.detect.tests import (
    CATEGORICAL_TESTS,
    DEFAULT_MIN_EFFECT,
    DEFAULT_THRESHOLDS,
    NUMERIC_TESTS,
)
from driftwise.errors import ConfigError
from driftwise.stats.correction import CORRECTIONS


@dataclass(frozen=True)
class DriftSettings:
    """How columns are tested and how drift is decided.

    Parameters
    ----------
    numeric_test, categorical_test : str
        Test for numeric / categorical columns (``"auto"`` picks per column).
    correction : {"fdr", "bonferroni", "none"}
        Multiple-test correction across the columns' p-values.
    alpha : float
        Significance level applied to the corrected p-values.
    min_effect : mapping
        Smallest effect that counts as drift for p-value tests, per kind
        (``numeric``: Wasserstein / reference sd; ``categorical``: total variation).
    thresholds : mapping
        Drift thresholds of distance tests (PSI, Jensen–Shannon, ...).
    bins : int
        Reference-quantile bins for binned distances on numeric columns.
    tests : mapping
        Per-column test overrides, ``{column: test}``.
    drift_share : float
        The dataset drifts when at least this share of tested columns drifts (and at
        least one does); 0 means "any column".
    """

    numeric_test: str = "auto"
    categorical_test: str = "auto"
    correction: str = "fdr"
    alpha: float = 0.05
    min_effect: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIN_EFFECT))
    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    bins: int = 10
    tests: Mapping[str, str] = field(default_factory=dict)
    drift_share: float = 0.0

    def __post_init__(self) -> None:
        if self.numeric_test not in NUMERIC_TESTS:
            raise ConfigError(_choice("numeric_test", self.numeric_test, NUMERIC_TESTS))
        if self.categorical_test not in CATEGORICAL_TESTS:
            raise ConfigError(
                _choice("categorical_test", self.categorical_test, CATEGORICAL_TESTS)
            )
        if self.correction not in CORRECTIONS:
            raise ConfigError(_choice("correction", self.correction, CORRECTIONS))
        if not 0.0 < self.alpha < 1.0:
            raise ConfigError(f"alpha must lie strictly between 0 and 1, got {self.alpha}")
        if not 0.0 <= self.drift_share <= 1.0:
            raise ConfigError(f"drift_share must lie in [0, 1], got {self.drift_share}")
        if self.bins < 2:
            raise ConfigError(f"bins must be at least 2, got {self.bins}")
        merged_effect = {**DEFAULT_MIN_EFFECT, **dict(self.min_effect)}
        bad = set(merged_effect) - set(DEFAULT_MIN_EFFECT)
        if bad:
            raise ConfigError(f"min_effect keys must be numeric/categorical, got {sorted(bad)}")
        merged_thresholds = {**DEFAULT_THRESHOLDS, **dict(self.thresholds)}
        bad = set(merged_thresholds) - set(DEFAULT_THRESHOLDS)
        if bad:
            raise ConfigError(
                f"thresholds keys must be among {sorted(DEFAULT_THRESHOLDS)}, got {sorted(bad)}"
            )
        for key, value in [*merged_effect.items(), *merged_thresholds.items()]:
            if not isinstance(value, int | float) or value < 0:
                raise ConfigError(f"{key}: expected a non-negative number, got {value!r}")
        for column, test in self.tests.items():
            if test not in set(NUMERIC_TESTS) | set(CATEGORICAL_TESTS):
                raise ConfigError(
                    f"tests.{column}: unknown test {test!r}",
                )
        object.__setattr__(self, "min_effect", merged_effect)
        object.__setattr__(self, "thresholds", merged_thresholds)
        object.__setattr__(self, "tests", dict(self.tests))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], where: str = "settings") -> DriftSettings:
        """Build from a mapping (a config section), naming any unknown key."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return cls(**dict(values))

    def replace(self, **changes: Any) -> DriftSettings:
        """A copy with ``changes`` applied (``None`` values are ignored)."""
        current = self.to_dict()
        current.update({k: v for k, v in changes.items() if v is not None})
        return DriftSettings(**current)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        out = asdict(self)
        for key in ("min_effect", "thresholds", "tests"):
            out[key] = dict(out[key])
        return out


def _choice(key: str, value: str, choices: tuple[str, ...]) -> str:
    return f"{key}: unknown value {value!r}; choose one of {', '.join(choices)}"
