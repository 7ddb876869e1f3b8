"""The Monitor on Dask beside the Monitor in memory: `driftwise report --config` on Parquet
folders of a binary classifier's predictions.

Usage: python benchmarks/monitor_scale_bench.py [N ...]   (default: 1000000 10000000)

The data (seeded, written on the fly under benchmarks/.data/monitor_scale, never committed):
five features, a segment column, the model's probability, the label drawn from it, and a
timestamp that puts 100,000 rows in each day. The current sample's income column drifts
upward over time. The Monitor (binary, period windows of a day, estimated and realized
accuracy and ROC AUC, prediction drift, feature drift) runs as whole processes:

* ``driftwise report REF/ CUR/ --config monitor.yaml --engine dask`` (a LocalCluster, one
  worker per core): column drift from every row, row-level checks on a seeded sample of
  50,000 rows per window (docs/scale.md);
* the same without ``--engine dask``, in memory, every check on every row.

Peak memory is that of the whole process tree (scheduler and workers included), sampled
every 0.1 s (see scale_bench.py). The table is written into benchmarks/README.md with the
number of windows that raised a feature-drift verdict by each path.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE)]
from readme_block import write_block  # noqa: E402
from scale_bench import DRIFTWISE, RESULTS, measure  # noqa: E402

DATA = HERE / ".data" / "monitor_scale"
SEED = 20_261_204
CHUNK = 1_000_000
ROWS_PER_DAY = 100_000
START, END = "<!-- monitor-scale:start -->", "<!-- monitor-scale:end -->"
CONFIG = {
    "model": {"task": "binary", "name": "bench"},
    "columns": {"probabilities": "proba", "target": "label", "timestamp": "ts",
                "segments": ["plan"]},
    "windows": {"period": "day", "min_rows": 1_000},
    "checks": {"estimated_performance": {"metrics": ["accuracy", "roc_auc"]},
               "performance": {"metrics": ["accuracy", "roc_auc"]}, "bootstrap": 0},
}


def chunk(role: int, index: int, n: int, total: int) -> pa.Table:
    """Rows ``index * CHUNK ...`` of the reference (role 0) or the current sample (1)."""
    rng = np.random.default_rng(np.random.SeedSequence([SEED, role, index]))
    first = index * CHUNK
    position = (first + np.arange(n)) / max(total - 1, 1)
    drift = 0.15 * position if role == 1 else 0.0
    x = rng.normal(size=n)
    income = rng.lognormal(10.0, 0.5, size=n) * (1 + drift)
    tenure = rng.exponential(3.0, size=n)
    visits = rng.poisson(4, size=n).astype(np.float64)
    score = rng.normal(size=n)
    plans = np.array(["basic", "plus", "pro"])
    logit = 1.2 * x + 0.4 * (np.log(income) - 10) + 0.2 * score - 0.1 * tenure
    proba = 1 / (1 + np.exp(-logit))
    day0 = np.datetime64("2026-01-01" if role == 0 else "2026-06-01", "us")
    step_us = 86_400_000_000 // ROWS_PER_DAY
    ts = day0 + ((first + np.arange(n)) * step_us).astype("timedelta64[us]")
    return pa.table({
        "x": x, "income": income, "tenure": tenure, "visits": visits, "score": score,
        "plan": plans[rng.choice(3, size=n, p=[0.5, 0.3, 0.2])],
        "proba": proba, "label": (rng.random(n) < proba).astype(np.int64), "ts": ts,
    })


def generate(n: int) -> tuple[Path, Path]:
    folders = []
    for role, name in ((0, "reference"), (1, "current")):
        folder = DATA / str(n) / name
        if not folder.is_dir():
            tmp = folder.with_name(name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            for index, start in enumerate(range(0, n, CHUNK)):
                pq.write_table(chunk(role, index, min(CHUNK, n - start), n),
                               tmp / f"part-{index:05d}.parquet", row_group_size=250_000)
            tmp.rename(folder)
        folders.append(folder)
    return folders[0], folders[1]


def _drifted_windows(out: Path) -> tuple[int, int]:
    windows = json.loads(out.read_text())["windows"]
    ok = [w for w in windows if w["status"] == "ok"]
    return sum(bool(w["metrics"].get("drift.dataset.drift_detected")) for w in ok), len(ok)


def run_size(n: int, cores: int, config: Path) -> list[dict[str, Any]]:
    ref, cur = generate(n)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        base = [str(DRIFTWISE), "report", str(ref), str(cur), "--config", str(config),
                "--json", str(out)]
        for tool, cmd in (("Monitor --engine dask", [*base, "--engine", "dask"]),
                          ("Monitor in memory", base)):
            print(f"monitor-scale: {n:>11,} rows, {tool}", flush=True)
            m = measure(cmd)
            row: dict[str, Any] = {"n": n, "tool": tool, "cores": cores, **m,
                                   "rows_per_cpu_s": 2 * n / max(m["cpu_s"], 1e-9)}
            if m["rc"] in (0, 1) and out.exists():
                row["drifted"], row["windows"] = _drifted_windows(out)
                out.unlink()
            rows.append(row)
    return rows


def render(rows: list[dict[str, Any]], when: str, cores: int) -> str:
    lines = [
        f"Run on {when} (UTC) with `python benchmarks/monitor_scale_bench.py` on {cores} "
        "CPUs: a binary classifier's predictions, day windows of 100,000 rows, income "
        "drifting upward over the current sample.",
        "",
        "| rows per sample | tool | wall s | peak memory MiB (process tree) "
        "| rows per CPU-second | windows with feature drift |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r["rc"] not in (0, 1):
            lines.append(f"| {r['n']:,} | {r['tool']} | failed (exit {r['rc']}) | "
                         f"{r['peak_mib']:,.0f} | — | — |")
            continue
        drifted = f"{r['drifted']} of {r['windows']}" if "windows" in r else "—"
        lines.append(f"| {r['n']:,} | {r['tool']} | {r['wall_s']:.1f} | {r['peak_mib']:,.0f} "
                     f"| {r['rows_per_cpu_s']:,.0f} | {drifted} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [1_000_000, 10_000_000]
    cores = len(os.sched_getaffinity(0))
    when = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "monitor.yaml"
        config.write_text(yaml.safe_dump(CONFIG))
        rows = [row for n in sizes for row in run_size(n, cores, config)]
    for row in rows:
        if row["stderr_tail"]:
            print(f"{row['tool']} at {row['n']:,}: {row['stderr_tail']}", file=sys.stderr)
    RESULTS.mkdir(exist_ok=True)
    stamp = when.replace(":", "").replace("-", "")
    with open(RESULTS / f"monitor-scale-{stamp}.jsonl", "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    block = render(rows, when, cores)
    print(block)
    write_block(HERE / "README.md", block, START, END,
                "## The Monitor on Dask and in memory\n\nSee "
                "`benchmarks/monitor_scale_bench.py` for what is measured and how.")
    return 0 if all(r["rc"] in (0, 1) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
