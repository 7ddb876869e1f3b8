"""Generate the synthetic reference/current Parquet pairs used by the benchmark.

Usage: python benchmarks/make_data.py OUT_DIR N [N ...]

Each file has N rows, 15 float64 columns and 5 string columns. The current file
differs from the reference in four planted columns (three numeric mean shifts, one
categorical whose mix changes); every other column is drawn from the same
distribution as in the reference. Generation is deterministic: the random stream
depends only on SEED, N and the role (reference or current). A pair that already
exists is left alone; files are written to a temporary name and renamed, so an
interrupted run never leaves a half-written file that would later be skipped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20_241_122

Sampler = Callable[[np.random.Generator, int], np.ndarray]


def _bimodal_symmetric(rng: np.random.Generator, n: int) -> np.ndarray:
    centre = np.where(rng.random(n) < 0.5, -2.0, 2.0)
    return centre + rng.standard_normal(n)


def _bimodal_skewed(rng: np.random.Generator, n: int) -> np.ndarray:
    second = rng.random(n) < 0.3
    return np.where(second, rng.normal(6.0, 2.0, n), rng.normal(0.0, 1.0, n))


# name -> (sampler, planted mean shift in units of the reference standard deviation)
NUMERIC: dict[str, tuple[Sampler, float]] = {
    "normal_std": (lambda r, n: r.standard_normal(n), 0.0),
    "normal_score": (lambda r, n: r.normal(50.0, 10.0, n), 0.2),
    "normal_narrow": (lambda r, n: r.normal(-3.0, 0.5, n), 0.0),
    "normal_wide": (lambda r, n: r.normal(1000.0, 250.0, n), 0.0),
    "lognormal_small": (lambda r, n: r.lognormal(0.0, 0.5, n), 0.0),
    "lognormal_income": (lambda r, n: r.lognormal(3.0, 1.0, n), 0.3),
    "lognormal_tight": (lambda r, n: r.lognormal(10.0, 0.25, n), 0.0),
    "uniform_unit": (lambda r, n: r.random(n), 0.0),
    "uniform_wide": (lambda r, n: r.uniform(-100.0, 100.0, n), 0.0),
    "bimodal_symmetric": (_bimodal_symmetric, 0.5),
    "bimodal_skewed": (_bimodal_skewed, 0.0),
    "int_poisson": (lambda r, n: r.poisson(5000.0, n).astype(np.float64), 0.0),
    "int_amount": (lambda r, n: np.floor(r.lognormal(7.0, 1.2, n)), 0.0),
    "heavy_tail_t3": (lambda r, n: r.standard_t(3.0, n), 0.0),
    "exponential": (lambda r, n: r.exponential(2.0, n), 0.0),
}

# name -> (cardinality, whether the current mix differs from the reference)
CATEGORICAL: dict[str, tuple[int, bool]] = {
    "cat_3": (3, False),
    "cat_5": (5, False),
    "cat_10": (10, True),
    "cat_20": (20, False),
    "cat_50": (50, False),
}


def _reference_mix(cardinality: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, cardinality + 1) ** 0.8
    return weights / weights.sum()


def _drifted_mix(cardinality: int) -> np.ndarray:
    # Blend in the reversed order: frequent categories get rarer, rare ones commoner.
    p = _reference_mix(cardinality)
    return 0.6 * p + 0.4 * p[::-1]


def _categorical(rng: np.random.Generator, n: int, mix: np.ndarray) -> pa.Array:
    labels = pa.array([f"v{k:02d}" for k in range(mix.size)], type=pa.string())
    codes = rng.choice(mix.size, size=n, p=mix)
    return labels.take(pa.array(codes))


def make_table(n: int, role: int, shifts: dict[str, float] | None) -> pa.Table:
    """Draw one table. role 0 is the reference, 1 the current sample.

    shifts maps a numeric column to the absolute amount added to it (current only).
    """
    rng = np.random.default_rng(np.random.SeedSequence([SEED, n, role]))
    columns: dict[str, pa.Array] = {}
    for name, (sampler, _) in NUMERIC.items():
        values = sampler(rng, n)
        if shifts:
            values = values + shifts.get(name, 0.0)
        columns[name] = pa.array(values, type=pa.float64())
    for name, (cardinality, drifts) in CATEGORICAL.items():
        mix = _drifted_mix(cardinality) if role == 1 and drifts else _reference_mix(cardinality)
        columns[name] = _categorical(rng, n, mix)
    return pa.table(columns)


def _write(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)


def data_paths(out_dir: Path, n: int) -> tuple[Path, Path]:
    return out_dir / f"reference_{n}.parquet", out_dir / f"current_{n}.parquet"


def generate(out_dir: Path, n: int) -> None:
    ref_path, cur_path = data_paths(out_dir, n)
    if ref_path.exists() and cur_path.exists():
        print(f"data: {n:>9,} rows already present")
        return
    reference = make_table(n, 0, None)
    shifts = {
        name: sd_units * float(np.std(reference[name].to_numpy()))
        for name, (_, sd_units) in NUMERIC.items()
        if sd_units
    }
    current = make_table(n, 1, shifts)
    _write(reference, ref_path)
    _write(current, cur_path)
    print(f"data: {n:>9,} rows written ({ref_path.stat().st_size / 2**20:.1f} MiB per file)")


def planted_drift() -> dict[str, object]:
    return {
        "numeric_mean_shift_sd": {k: s for k, (_, s) in NUMERIC.items() if s},
        "categorical_mix_change": [k for k, (_, d) in CATEGORICAL.items() if d],
    }


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = Path(argv[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    for n in (int(a) for a in argv[1:]):
        generate(out_dir, n)
    (out_dir / "planted_drift.json").write_text(json.dumps(planted_drift(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
