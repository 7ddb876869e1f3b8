"""Reference-quantile bins for the binned distances on numeric data."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

DEFAULT_BINS = 10


def quantile_edges(sorted_reference: NDArray[np.float64], n_bins: int = DEFAULT_BINS) -> (
    NDArray[np.float64]
):
    """Interior bin edges at the reference's quantiles (duplicates from ties removed).

    The outer bins are open, so current values beyond the reference's range fall into
    the first or last bin. Bins are right-closed: ``(e[i-1], e[i]]``.
    """
    if n_bins < 2:
        raise ValueError("n_bins must be at least 2")
    qs = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]
    edges = np.quantile(sorted_reference, qs)
    edges = np.unique(edges)
    # An edge equal to the maximum would leave the last bin empty by construction.
    edges = edges[edges < sorted_reference[-1]]
    if edges.size == 0:
        # A constant reference: one bin below its value, one at it, one above.
        value = float(sorted_reference[-1])
        edges = np.array([np.nextafter(value, -np.inf), value])
    return edges


def counts_in_bins(sorted_values: NDArray[np.float64], interior_edges: NDArray[np.float64]) -> (
    NDArray[np.int64]
):
    """Counts of sorted values in the bins delimited by ``interior_edges``."""
    cuts = np.searchsorted(sorted_values, interior_edges, side="right")
    bounds = np.concatenate([[0], cuts, [sorted_values.size]])
    return np.diff(bounds).astype(np.int64)
