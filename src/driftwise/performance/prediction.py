"""Prediction drift: the model's outputs compared with its outputs on the reference."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from driftwise.stats import (
    chi2_homogeneity,
    jensen_shannon_distance,
    ks_2samp,
    population_stability_index,
)

PROBABILITY_BINS = 10


def _binned(p: NDArray[np.float64]) -> NDArray[np.int64]:
    edges = np.linspace(0.0, 1.0, PROBABILITY_BINS + 1)[1:-1]
    return np.bincount(np.searchsorted(edges, p, side="right"), minlength=PROBABILITY_BINS)


def score_drift(reference: NDArray[np.float64], current: NDArray[np.float64]) -> dict[str, float]:
    """PSI and Jensen–Shannon distance on ten equal-width probability bins, and a KS test.

    ``reference``/``current`` are positive-class probabilities (binary) or top-label
    confidences (multiclass).
    """
    ref, cur = _binned(reference), _binned(current)
    ks = ks_2samp(reference, current)
    return {
        "psi": population_stability_index(ref, cur),
        "jensenshannon": jensen_shannon_distance(ref, cur),
        "ks_p_value": float(ks.p_value or 1.0),
        "mean_confidence": float(np.mean(current)),
        "mean_confidence_reference": float(np.mean(reference)),
        "mean_confidence_change": float(np.mean(current) - np.mean(reference)),
    }


def class_mix_drift(reference: NDArray[np.int64], current: NDArray[np.int64], n_classes: int) -> (
    dict[str, float]
):
    """Change in the predicted-class mix: chi-square of homogeneity and total variation."""
    res = chi2_homogeneity(np.bincount(reference, minlength=n_classes),
                           np.bincount(current, minlength=n_classes))
    return {"class_mix_p_value": float(res.p_value or 1.0), "class_mix_tvd": res.effect}


def regression_drift(reference: NDArray[np.float64], current: NDArray[np.float64]) -> (
    dict[str, float]
):
    """Drift of a regressor's predictions: KS p-value and normed Wasserstein effect."""
    res = ks_2samp(reference, current)
    return {"ks_p_value": float(res.p_value or 1.0), "wasserstein_normed": res.effect,
            "mean": float(np.mean(current)), "mean_reference": float(np.mean(reference))}
