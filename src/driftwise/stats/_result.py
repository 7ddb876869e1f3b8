"""The small named result every two-sample kernel returns."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class TwoSampleResult:
    """Outcome of comparing a reference sample with a current sample.

    Attributes
    ----------
    test : str
        Name of the test or distance (``"ks"``, ``"chi2"``, ``"psi"`` ...).
    statistic : float
        The test statistic or the distance itself.
    p_value : float or None
        The p-value under "both samples come from one distribution"; ``None`` for a
        distance, which has no null distribution here.
    effect : float
        An effect size that does not grow with the sample size, used to tell a
        significant difference from one that matters.
    effect_name : str
        What ``effect`` measures (``"wasserstein_normed"``, ``"tvd"``, ...).
    method : str
        How the p-value was obtained (``"exact"``, ``"asymptotic"``, ``"interpolated"``)
        or ``"distance"`` for tests without a p-value.
    """

    test: str
    statistic: float
    p_value: float | None
    effect: float
    effect_name: str
    method: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (non-finite numbers become ``None``)."""
        out = asdict(self)
        for key in ("statistic", "p_value", "effect"):
            value = out[key]
            if value is not None and not math.isfinite(value):
                out[key] = None
        return out
