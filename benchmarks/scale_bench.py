"""Scale-out benchmark: `driftwise report` on Parquet folders of 1M, 10M and 100M rows.

Usage: python benchmarks/scale_bench.py [N ...]   (default: 1000000 10000000 100000000)

For each size, the data of ``scale_data.py`` (20 columns, current drawn from the reference's
distributions) is compared by whole processes, each timed from start to exit:

* ``driftwise report REF/ CUR/ --engine dask`` (a LocalCluster of one worker per core);
* ``driftwise report REF/ CUR/`` in memory, up to 10M rows (100M rows do not fit);
* whylogs 1.6.4 (``anchors/whylogs_drift.py``: profile both folders, its drift scores), at
  1M rows, when its venv exists (``benchmarks/.venv-whylogs``; see requirements-whylogs.txt).

Peak memory is the largest *sum* of the resident set sizes of the process and all its
descendants (the Dask scheduler and workers included), sampled every 0.1 s from /proc.
Rows per CPU-second counts both samples' rows over the CPU time (user + system) of the
process and every descendant it waited for (``getrusage(RUSAGE_CHILDREN)``): a fair
per-core rate whether a tool uses one core (whylogs) or all of them.
False alarms: the columns whose unadjusted p-value is below 0.05 on this no-drift data (a
handful of draws), and the rate over 1,000 simulated no-drift grids of the same size
(``grid_calibration.py``), which measures the test itself. One JSON line per run goes to
``benchmarks/.results/``; the table is written into benchmarks/README.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]
from grid_calibration import false_alarm_rate  # noqa: E402
from readme_block import write_block  # noqa: E402
from scale_data import generate  # noqa: E402

DATA = HERE / ".data" / "scale"
RESULTS = HERE / ".results"
DRIFTWISE = ROOT / ".venv" / "bin" / "driftwise"
WHYLOGS_PY = HERE / ".venv-whylogs" / "bin" / "python"
IN_MEMORY_MAX = 10_000_000
WHYLOGS_MAX = 1_000_000
START, END = "<!-- scale:start -->", "<!-- scale:end -->"


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and every descendant, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        pid = int(entry)
        children.setdefault(ppid, []).append(pid)
        rss[pid] = pages * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd`` to its end: wall seconds, peak tree RSS, exit status."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.1)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    return {"wall_s": wall, "cpu_s": cpu, "peak_mib": peak / 2**20, "rc": proc.returncode,
            "stderr_tail": err[-400:] if proc.returncode not in (0, 1) else ""}


def _false_alarms(report: Path) -> tuple[int, int]:
    columns = json.loads(report.read_text())["columns"]
    tested = [c for c in columns if c.get("p_value") is not None]
    return sum(c["p_value"] < 0.05 for c in tested), len(tested)


def run_size(n: int, cores: int) -> list[dict[str, Any]]:
    generate(DATA, n)
    ref, cur = DATA / str(n) / "reference", DATA / str(n) / "current"
    rows: list[dict[str, Any]] = []
    simulated = false_alarm_rate(n, own_edges=False)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        contenders: list[tuple[str, list[str]]] = [
            ("driftwise --engine dask",
             [str(DRIFTWISE), "report", str(ref), str(cur), "--engine", "dask", "--json",
              str(out)])]
        if n <= IN_MEMORY_MAX:
            contenders.append(("driftwise (memory)",
                               [str(DRIFTWISE), "report", str(ref), str(cur), "--json",
                                str(out)]))
        if n <= WHYLOGS_MAX and WHYLOGS_PY.exists():
            contenders.append(("whylogs 1.6.4",
                               [str(WHYLOGS_PY), str(HERE / "anchors" / "whylogs_drift.py"),
                                str(ref), str(cur), str(out)]))
        for tool, cmd in contenders:
            print(f"scale: {n:>11,} rows, {tool}", flush=True)
            m = measure(cmd)
            row: dict[str, Any] = {"n": n, "tool": tool, **m, "cores": cores,
                                   "rows_per_s": 2 * n / m["wall_s"],
                                   "rows_per_cpu_s": 2 * n / max(m["cpu_s"], 1e-9)}
            if m["rc"] in (0, 1) and out.exists():
                if tool.startswith("whylogs"):
                    result = json.loads(out.read_text())
                    row["false_alarms"] = result["columns_drifted"]
                    row["tested"] = result["columns_scored"]
                else:
                    row["false_alarms"], row["tested"] = _false_alarms(out)
                    row["simulated_far"] = simulated
                out.unlink()
            rows.append(row)
    return rows


def render(rows: list[dict[str, Any]], when: str, cores: int) -> str:
    lines = [
        f"Run on {when} (UTC) with `python benchmarks/scale_bench.py` on {cores} CPUs; no "
        "drift between reference and current (every flagged column is a false alarm).",
        "",
        "| rows per sample | tool | wall s | peak memory MiB (process tree) | rows/s "
        "| rows per CPU-second | columns with p < 0.05 | false-alarm rate at 0.05, 1,000 "
        "simulated grids |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        fa = f"{r['false_alarms']} of {r['tested']}" if "false_alarms" in r else "—"
        sim = f"{r['simulated_far']:.3f}" if "simulated_far" in r else "—"
        if r["rc"] not in (0, 1):
            lines.append(f"| {r['n']:,} | {r['tool']} | failed (exit {r['rc']}) | "
                         f"{r['peak_mib']:,.0f} | — | — | — | — |")
            continue
        lines.append(f"| {r['n']:,} | {r['tool']} | {r['wall_s']:.1f} | {r['peak_mib']:,.0f} "
                     f"| {r['rows_per_s']:,.0f} | {r['rows_per_cpu_s']:,.0f} | {fa} | {sim} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [1_000_000, 10_000_000, 100_000_000]
    cores = len(os.sched_getaffinity(0))
    when = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    rows = [row for n in sizes for row in run_size(n, cores)]
    RESULTS.mkdir(exist_ok=True)
    stamp = when.replace(":", "").replace("-", "")
    with open(RESULTS / f"scale-{stamp}.jsonl", "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    block = render(rows, when, cores)
    print(block)
    write_block(HERE / "README.md", block, START, END,
                "## Scale-out: Parquet folders of 1M to 100M rows\n\nSee "
                "`benchmarks/scale_bench.py` for what is measured and how.")
    return 0 if all(r["rc"] in (0, 1) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
