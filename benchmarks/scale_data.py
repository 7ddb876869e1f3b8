"""Generate the scale benchmark's Parquet folders: N rows of reference and current, no drift.

Usage: python benchmarks/scale_data.py OUT_DIR N [N ...]

The 20 columns of ``make_data.py`` (15 float64, 5 strings), drawn in chunks of 1,000,000
rows, one file and one row group per chunk, into ``OUT_DIR/N/{reference,current}/``. The
current folder is drawn from the *same* distributions as the reference: every column that
a test flags there is a false alarm. Each chunk's random stream depends only on the seed,
the role and the chunk's index, so a run is reproducible; a folder is written under a
temporary name and renamed when complete, and a complete folder is left alone.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_data import CATEGORICAL, NUMERIC, _categorical, _reference_mix

SEED = 20_261_203
CHUNK = 1_000_000


def chunk_table(role: int, index: int, n: int) -> pa.Table:
    """One chunk of ``n`` rows of the reference (role 0) or the current sample (role 1)."""
    rng = np.random.default_rng(np.random.SeedSequence([SEED, role, index]))
    columns: dict[str, pa.Array] = {}
    for name, (sampler, _) in NUMERIC.items():
        columns[name] = pa.array(sampler(rng, n), type=pa.float64())
    for name, (cardinality, _) in CATEGORICAL.items():
        columns[name] = _categorical(rng, n, _reference_mix(cardinality))
    return pa.table(columns)


def generate(out_dir: Path, n: int) -> None:
    for role, name in ((0, "reference"), (1, "current")):
        folder = out_dir / str(n) / name
        if folder.is_dir():
            print(f"scale data: {n:>11,} rows of {name} already present")
            continue
        tmp = folder.with_name(name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for index, start in enumerate(range(0, n, CHUNK)):
            rows = min(CHUNK, n - start)
            pq.write_table(chunk_table(role, index, rows), tmp / f"part-{index:05d}.parquet",
                           row_group_size=CHUNK)
        tmp.rename(folder)
        size = sum(p.stat().st_size for p in folder.iterdir()) / 2**30
        print(f"scale data: {n:>11,} rows of {name} written ({size:.2f} GiB)")


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    for n in (int(a) for a in argv[1:]):
        generate(Path(argv[0]), n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
