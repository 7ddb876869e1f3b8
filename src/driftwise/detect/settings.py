"""Detector settings: one validated model shared by the library, the CLI and configs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import BeforeValidator, Field, field_validator

from driftwise.config._model import StrictModel, validate
from driftwise.detect.geometry.suite import (
    EmbeddingsSection,
    MultivariateSection,
    TextSection,
    sections_of,
)
from driftwise.detect.tests import (
    CATEGORICAL_TESTS,
    DEFAULT_MIN_EFFECT,
    DEFAULT_THRESHOLDS,
    NUMERIC_TESTS,
)
from driftwise.stats.correction import CORRECTIONS

__all__ = ["DetectorParams", "DriftSettings"]

# The names live with the tests (detect.tests, stats.correction); these types spell them
# for validation and the JSON Schema (mypy sees plain strings).
if TYPE_CHECKING:
    NumericTest: TypeAlias = str
    CategoricalTest: TypeAlias = str
    TestName: TypeAlias = str
    Correction: TypeAlias = str
    EffectKind: TypeAlias = str
    DistanceTest: TypeAlias = str
else:
    NumericTest = Literal[NUMERIC_TESTS]
    CategoricalTest = Literal[CATEGORICAL_TESTS]
    TestName = Literal[tuple(dict.fromkeys(NUMERIC_TESTS + CATEGORICAL_TESTS))]
    Correction = Literal[CORRECTIONS]
    EffectKind = Literal[tuple(DEFAULT_MIN_EFFECT)]
    DistanceTest = Literal[tuple(DEFAULT_THRESHOLDS)]
NonNegative = Annotated[float, Field(ge=0)]


class DriftSettings(StrictModel):
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

    Examples
    --------
    >>> DriftSettings(alpha=0.01).thresholds["psi"]
    0.2
    >>> DriftSettings.parse({"alpha": "0.05"})
    Traceback (most recent call last):
    ...
    driftwise.errors.ConfigError: alpha: expected a number, got '0.05'
    """

    numeric_test: NumericTest = "auto"
    categorical_test: CategoricalTest = "auto"
    correction: Correction = "fdr"
    alpha: Annotated[float, Field(gt=0, lt=1)] = 0.05
    min_effect: dict[EffectKind, NonNegative] = Field(
        default_factory=lambda: dict(DEFAULT_MIN_EFFECT))
    thresholds: dict[DistanceTest, NonNegative] = Field(
        default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    bins: Annotated[int, Field(ge=2, le=1000)] = 10
    tests: dict[str, TestName] = Field(default_factory=dict)
    drift_share: Annotated[float, Field(ge=0, le=1)] = 0.0

    @field_validator("min_effect", mode="after")
    @classmethod
    def _all_effects(cls, value: dict[str, float]) -> dict[str, float]:
        return {**DEFAULT_MIN_EFFECT, **value}

    @field_validator("thresholds", mode="after")
    @classmethod
    def _all_thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        return {**DEFAULT_THRESHOLDS, **value}

    @classmethod
    def parse(cls, values: Mapping[str, Any] | None, where: str | None = None) -> DriftSettings:
        """Validated settings from a mapping (a config section); errors name the key."""
        return validate(cls, values, where)

    def replace(self, **changes: Any) -> DriftSettings:
        """A validated copy with ``changes`` applied (``None`` values are ignored)."""
        current = self.to_dict()
        current.update({k: v for k, v in changes.items() if v is not None})
        return DriftSettings.parse(current)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return self.model_dump()


#: The kinds a configuration may declare for a column (``nested`` and ``unsupported`` are
#: what driftwise finds, not what a user asks for).
DeclaredKind = Literal["numeric", "categorical", "boolean", "datetime", "text", "identifier",
                       "embedding"]


def _names(value: Any) -> Any:
    """A single column name where a list is expected is a common slip: say so. A tuple
    (what Python callers often pass) is a list."""
    if isinstance(value, str):
        raise ValueError(f"expected a list of column names, got the single string "
                         f"{value!r}; write [{value}]")
    return list(value) if isinstance(value, tuple) else value


ColumnNames = Annotated[list[str], BeforeValidator(_names)]


class ColumnsAndParts(StrictModel):
    """What a drift configuration and a detector share: excluded columns, the target and
    prediction columns, and the multivariate, embeddings and text parts."""

    exclude: ColumnNames = Field(default_factory=list)
    target: str | None = None
    prediction: str | None = None
    multivariate: MultivariateSection = None
    embeddings: EmbeddingsSection = None
    text: TextSection = None


class DetectorParams(DriftSettings, ColumnsAndParts):
    """Every parameter of a :class:`~driftwise.detect.DriftDetector`, validated at once."""

    kinds: dict[str, DeclaredKind] = Field(default_factory=dict)

    def settings(self) -> DriftSettings:
        """The comparison settings alone."""
        return DriftSettings.parse(self.model_dump(include=set(DriftSettings.model_fields)))

    def sections(self) -> dict[str, dict[str, Any] | None]:
        """The multivariate, embeddings and text sections as the keys a user set."""
        return sections_of(self)
