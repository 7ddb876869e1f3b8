"""Compact distribution summaries for the HTML report's charts."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftwise.stats.grid import GridSample
from driftwise.stats.grid_tests import GridPair

HISTOGRAM_BINS = 30
MAX_BARS = 20
OTHER_LABEL = "(other)"


def _quantile(sorted_values: NDArray[np.float64], q: float) -> float:
    return float(sorted_values[int(q * (sorted_values.size - 1))])


def histogram(reference_sorted: NDArray[np.float64], current_sorted: NDArray[np.float64]) -> (
    dict[str, Any]
):
    """Shared equal-width bins over the central 99% of both samples; tails fold inwards."""
    low = min(_quantile(reference_sorted, 0.005), _quantile(current_sorted, 0.005))
    high = max(_quantile(reference_sorted, 0.995), _quantile(current_sorted, 0.995))
    if high <= low:
        low, high = low - 0.5, high + 0.5
    if high <= low:  # equal values of a huge magnitude: +-0.5 is below their spacing
        low, high = np.nextafter(low, -np.inf), np.nextafter(high, np.inf)
    # Weighted sums, not low + t * (high - low): the width may exceed the largest double.
    t = np.arange(HISTOGRAM_BINS + 1) / HISTOGRAM_BINS
    edges = np.maximum.accumulate(low * (1.0 - t) + high * t)
    inner = edges[1:-1]

    def counts(values: NDArray[np.float64]) -> list[int]:
        cuts = np.searchsorted(values, inner, side="left")
        binned: list[int] = np.diff(np.concatenate([[0], cuts, [values.size]])).tolist()
        return binned

    return {
        "type": "histogram", "edges": edges.tolist(),
        "reference": counts(reference_sorted), "current": counts(current_sorted),
    }


def grid_histogram(pair: GridPair) -> dict[str, Any]:
    """:func:`histogram` from grid summaries: each cell's count placed at its mean."""
    edges = pair.edges
    ref_f, cur_f = pair.cdfs

    def quantile(cdf: NDArray[np.float64], q: float) -> float:
        return float(edges[min(int(np.searchsorted(cdf[:-1], q)), edges.size - 1)])

    low = min(quantile(ref_f, 0.005), quantile(cur_f, 0.005))
    high = max(quantile(ref_f, 0.995), quantile(cur_f, 0.995))
    if high <= low:
        low, high = low - 0.5, high + 0.5
    if high <= low:
        low, high = np.nextafter(low, -np.inf), np.nextafter(high, np.inf)
    t = np.arange(HISTOGRAM_BINS + 1) / HISTOGRAM_BINS
    hist_edges = np.maximum.accumulate(low * (1.0 - t) + high * t)

    def counts(sample: GridSample) -> list[int]:
        filled = sample.counts > 0
        with np.errstate(invalid="ignore", over="ignore"):
            means = sample.sums[filled] / sample.counts[filled]
        means = np.where(np.isfinite(means), means, np.append(edges, edges[-1])[filled])
        where = np.searchsorted(hist_edges[1:-1], means, side="left")
        binned: list[int] = np.bincount(where, weights=sample.counts[filled],
                                        minlength=HISTOGRAM_BINS).astype(np.int64).tolist()
        return binned

    return {"type": "histogram", "edges": hist_edges.tolist(),
            "reference": counts(pair.reference), "current": counts(pair.current)}


def bars(labels: tuple[str, ...], reference: NDArray[np.int64], current: NDArray[np.int64]) -> (
    dict[str, Any]
):
    """The most common categories of either sample; the rest summed as ``(other)``."""
    ref_share = reference / max(int(reference.sum()), 1)
    cur_share = current / max(int(current.sum()), 1)
    order = np.argsort(-np.maximum(ref_share, cur_share), kind="stable")
    top, rest = order[:MAX_BARS], order[MAX_BARS:]
    out_labels = [labels[i] for i in top]
    ref_out = reference[top].tolist()
    cur_out = current[top].tolist()
    if rest.size:
        out_labels.append(OTHER_LABEL)
        ref_out.append(int(reference[rest].sum()))
        cur_out.append(int(current[rest].sum()))
    return {"type": "bars", "categories": out_labels, "reference": ref_out, "current": cur_out}
