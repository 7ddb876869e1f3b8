"""The false-alarm rate of KS on a grid at 1M, 10M and 100M rows, without drawing the rows.

On a fixed grid a sample's cell counts are all a test sees, and under no drift they are
multinomial with the cells' probabilities (KS is distribution-free, so the law is uniform
without loss of generality). Two ways a grid arises are simulated: edges that are order
statistics of the reference itself (an exact reference meeting a large current), and edges
from an independent pilot sample (the Dask engine's first pass). Used by
``tests/stats/test_grid.py`` (the property) and ``benchmarks/scale_bench.py`` (the table).
"""

from __future__ import annotations

import numpy as np

from driftwise.stats.grid import DEFAULT_GRID_CELLS, GridSample
from driftwise.stats.grid_tests import GridPair

#: Pilot rows of the Dask engine's first pass (driftwise.scale.dask_engine.PILOT_ROWS).
PILOT = 1 << 18


def null_pair(rng: np.random.Generator, n: int, own_edges: bool,
              cells: int = DEFAULT_GRID_CELLS) -> GridPair:
    """Two samples of ``n`` uniforms from one law, summarised on a grid (see the module)."""
    if own_edges:
        positions = np.round(np.linspace(0, n - 1, cells + 1)).astype(np.int64)
        spacings = rng.gamma(np.diff(np.concatenate([[-1], positions, [n]])).astype(float))
        edges = (np.cumsum(spacings) / spacings.sum())[:-1]
        ref_counts = np.concatenate([[1], np.diff(positions), [0]])
    else:
        pilot = np.sort(rng.random(PILOT))
        edges = pilot[np.round(np.linspace(0, pilot.size - 1, cells + 1)).astype(np.int64)]
        ref_counts = rng.multinomial(n, np.diff(np.concatenate([[0.0], edges, [1.0]])))
    probabilities = np.diff(np.concatenate([[0.0], edges, [1.0]]))
    cur_counts = rng.multinomial(n, probabilities)
    middles = np.concatenate([[edges[0] / 2], (edges[1:] + edges[:-1]) / 2,
                              [(1 + edges[-1]) / 2]])

    def summary(counts: np.ndarray) -> GridSample:
        total = int(counts.sum())
        return GridSample(counts.astype(np.int64), counts * middles, 0, total, 0.5,
                          total / 12.0, 0.0, 1.0)

    return GridPair(edges, summary(ref_counts), summary(cur_counts))


def false_alarm_rate(n: int, own_edges: bool, draws: int = 1_000, alpha: float = 0.05,
                     seed: int = 0) -> float:
    """Share of ``draws`` no-drift pairs of ``n`` rows each whose grid KS p-value < alpha."""
    rng = np.random.default_rng([seed, n, own_edges])
    p = np.array([null_pair(rng, n, own_edges).ks().p_value for _ in range(draws)])
    return float(np.mean(p < alpha))
