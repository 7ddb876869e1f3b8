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


def real_power(path: str, column: str, sizes: tuple[int, ...] = (5_000, 20_000, 100_000),
               draws: int = 100, seed: int = 0) -> list[dict[str, float]]:
    """Detection rates of the exact and the grid KS at 0.05 on real flights data: January's
    ``column`` against February's (a real shift), and against other January rows (none)."""
    import pyarrow.parquet as pq

    from driftwise.stats import SortedPair
    from driftwise.stats.grid import grid_edges
    from driftwise.stats.numeric import ks_pair

    table = pq.read_table(path, columns=["date", column])
    month = table.column("date").to_numpy().astype("datetime64[M]")
    values = table.column(column).to_numpy().astype(np.float64)
    january, february = values[month == month.min()], values[month == month.min() + 1]
    rng = np.random.default_rng(seed)
    out = []
    for n in sizes:
        hits = {"exact_shift": 0, "grid_shift": 0, "exact_null": 0, "grid_null": 0}
        for _ in range(draws):
            picked = rng.choice(january.size, 2 * n, replace=False)
            ref, same = january[picked[:n]], january[picked[n:]]
            other = february[rng.choice(february.size, n, replace=False)]
            ref_sorted = np.sort(ref)
            edges = grid_edges(ref_sorted)
            for name, cur in (("shift", other), ("null", same)):
                exact = ks_pair(SortedPair(ref_sorted, cur, assume_sorted=False))
                grid = GridPair(edges, GridSample.of(edges, ref), GridSample.of(edges, cur))
                hits[f"exact_{name}"] += (exact.p_value or 1.0) < 0.05
                hits[f"grid_{name}"] += (grid.ks().p_value or 1.0) < 0.05
        out.append({"n": n, **{k: v / draws for k, v in hits.items()}})
    return out


def main() -> None:
    """Print the false-alarm table at 1M, 10M and 100M rows, and the real-data power."""
    import sys

    print("| rows per sample | grid edges from | false alarms at 0.05 | at 0.01 |")
    print("|---:|---|---:|---:|")
    for n in (1_000_000, 10_000_000, 100_000_000):
        for own in (True, False):
            rng = np.random.default_rng([0, n, own])
            p = np.array([null_pair(rng, n, own).ks().p_value for _ in range(2_000)])
            where = "the reference's own order statistics" if own else "a 262,144-row pilot"
            print(f"| {n:,} | {where} | {np.mean(p < 0.05):.4f} | {np.mean(p < 0.01):.4f} |")
    path = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/flights_us_2001_vega/" \
        "flights-3m.parquet"
    for column in ("distance", "delay"):
        print(f"\nflights `{column}`, January vs February (shift) and vs January (null), "
              "detection rate at 0.05 over 100 draws:")
        print("| rows per sample | exact, shift | grid, shift | exact, null | grid, null |")
        print("|---:|---:|---:|---:|---:|")
        for row in real_power(path, column):
            print(f"| {row['n']:,} | {row['exact_shift']:.2f} | {row['grid_shift']:.2f} | "
                  f"{row['exact_null']:.2f} | {row['grid_null']:.2f} |")


if __name__ == "__main__":
    main()
