"""Time each contender as a whole process and collect what it flagged.

Called by benchmarks/run.sh (after the anchors venv and the data exist) with the
interpreter of .venv. Each run is wrapped in GNU `/usr/bin/time -v`; its wall-clock time
and maximum resident set size are what the benchmark reports. Environment:

BENCH_SIZES  row counts to run, space separated (default "10000 100000 1000000")
BENCH_REPS   repetitions per size for every size (default 5 up to 100k rows, 3 above)
BENCH_TOOLS  contenders to run (default "floor driftwise evidently")
BENCH_STRICT when 1, exit 3 if a target at 1M rows is missed

Raw measurements go to benchmarks/.results/<UTC time>/runs.jsonl, the medians to
summary.json beside it, and the table to benchmarks/README.md (see render.py).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from render import TARGET_SIZE, evaluate_targets, update_readme

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
DATA = BENCH / ".data"
RESULTS = BENCH / ".results"
VENV_BIN = ROOT / ".venv" / "bin"
ANCHORS_PYTHON = BENCH / ".venv-anchors" / "bin" / "python"
GNU_TIME = "/usr/bin/time"

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
ALL_TOOLS = ("floor", "driftwise", "driftwise-1thread", "evidently")
#: Environment of each contender beyond the common one: the single-threaded driftwise
#: shows what the thread pool adds (it still imports the same NumPy and pyarrow).
TOOL_ENV = {"driftwise-1thread": {"DRIFTWISE_THREADS": "1"}}


def default_reps(n: int) -> int:
    return 5 if n <= 100_000 else 3


def tool_command(tool: str, reference: Path, current: Path, out: Path) -> list[str]:
    if tool in ("driftwise", "driftwise-1thread"):
        return [
            str(VENV_BIN / "driftwise"), "report", str(reference), str(current),
            "--json", str(out),
        ]  # fmt: skip
    if tool == "evidently":
        script = BENCH / "anchors" / "evidently_drift.py"
        return [str(ANCHORS_PYTHON), str(script), str(reference), str(current), str(out)]
    if tool == "floor":
        script = BENCH / "floor.py"
        return [str(VENV_BIN / "python"), str(script), str(reference), str(current), str(out)]
    raise ValueError(f"unknown tool {tool!r}; expected one of {', '.join(ALL_TOOLS)}")


def parse_gnu_time(text: str) -> dict[str, float]:
    """Extract the fields we report from the output of `/usr/bin/time -v`."""
    fields: dict[str, float] = {}
    for raw in text.splitlines():
        line = raw.strip()
        key, _, value = line.rpartition(": ")
        if key.startswith("Elapsed (wall clock) time"):
            parts = [float(p) for p in value.split(":")]
            fields["wall_s"] = sum(p * 60**i for i, p in enumerate(reversed(parts)))
        elif key == "Maximum resident set size (kbytes)":
            fields["max_rss_kib"] = float(value)
        elif key == "User time (seconds)":
            fields["user_s"] = float(value)
        elif key == "System time (seconds)":
            fields["sys_s"] = float(value)
    missing = {"wall_s", "max_rss_kib"} - fields.keys()
    if missing:
        raise RuntimeError(f"could not read {sorted(missing)} from GNU time output:\n{text}")
    return fields


def measure(tool: str, n: int, out_dir: Path, tag: str) -> dict[str, Any]:
    reference, current = DATA / f"reference_{n}.parquet", DATA / f"current_{n}.parquet"
    out = out_dir / "outputs" / f"{tool}_{n}.json"
    log = out_dir / "logs" / f"{tool}_{n}_{tag}.log"
    timing = out_dir / "logs" / f"{tool}_{n}_{tag}.time"
    out.unlink(missing_ok=True)
    env = dict(os.environ, DO_NOT_TRACK="1", **TOOL_ENV.get(tool, {}))  # DO_NOT_TRACK:
    # Evidently's usage telemetry off
    cmd = [GNU_TIME, "-v", "-o", str(timing), *tool_command(tool, reference, current, out)]
    started = time.perf_counter()
    with log.open("w") as sink:
        rc = subprocess.run(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env).returncode
    record: dict[str, Any] = {
        "tool": tool, "n": n, "run": tag, "rc": rc,
        "wall_s_outside": round(time.perf_counter() - started, 3),
    }  # fmt: skip
    if rc == 0:
        record.update(parse_gnu_time(timing.read_text()))
        try:
            json.loads(out.read_text())
        except (OSError, ValueError) as exc:
            record["rc"] = -1
            record["error"] = f"no valid JSON written to {out.name}: {exc}"
    else:
        record["error"] = f"exit status {rc}; see {log.relative_to(ROOT)}"
    return record


def flagged_columns(tool: str, report: dict[str, Any]) -> list[str]:
    """Columns each tool calls drifted, by its own default criterion."""
    if tool.startswith("driftwise"):
        return [c["name"] for c in report.get("columns", []) if c.get("drift_detected")]
    if tool == "floor":
        return list(report["drifted_columns"])
    flagged = []
    for metric in report.get("metrics", []):
        config = metric.get("config", {})
        if not str(config.get("type", "")).endswith(":ValueDrift"):
            continue
        # p-value methods drift below the threshold, distances at or above it.
        value, threshold = float(metric["value"]), float(config["threshold"])
        is_p_value = "p_value" in str(config.get("method", ""))
        if (value < threshold) if is_p_value else (value >= threshold):
            flagged.append(config["column"])
    return flagged


def compare_with_floor(driftwise: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    """How closely driftwise's per-column numbers match the floor's, where both ran one test."""
    ours = {(c["name"], c["test"]): c for c in floor["columns"]}
    diffs_stat, diffs_p = [], []
    for column in driftwise.get("columns", []):
        match = ours.get((column.get("name"), column.get("test")))
        if match is None or column.get("statistic") is None or column.get("p_value") is None:
            continue
        diffs_stat.append(abs(float(column["statistic"]) - match["statistic"]))
        diffs_p.append(abs(float(column["p_value"]) - match["p_value"]))
    return {
        "same_flags": set(flagged_columns("driftwise", driftwise)) == set(floor["drifted_columns"]),
        "columns_compared": len(diffs_stat),
        "max_abs_diff_statistic": max(diffs_stat, default=None),
        "max_abs_diff_p_value": max(diffs_p, default=None),
    }


def evidently_methods(report: dict[str, Any]) -> list[str]:
    methods = {
        str(m["config"].get("method"))
        for m in report.get("metrics", [])
        if str(m.get("config", {}).get("type", "")).endswith(":ValueDrift")
    }
    return sorted(methods)


def warm_page_cache(n: int) -> None:
    """Read both files once so that no contender's first run pays for the disk."""
    for role in ("reference", "current"):
        with (DATA / f"{role}_{n}.parquet").open("rb") as f:
            while f.read(1 << 24):
                pass


def raw_data_bytes(n: int) -> int:
    total = 0
    for role in ("reference", "current"):
        table = pq.read_table(DATA / f"{role}_{n}.parquet")
        total += table.nbytes
        del table
    return total


def versions() -> dict[str, str]:
    found = {}
    for name in ("driftwise", "numpy", "scipy", "pyarrow"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    probe = (
        "import importlib.metadata as m, json;"
        "print(json.dumps({k: m.version(k) for k in ('evidently', 'pandas', 'numpy', 'scipy')}))"
    )
    anchors = json.loads(
        subprocess.run(
            [str(ANCHORS_PYTHON), "-c", probe], check=True, capture_output=True, text=True
        ).stdout
    )
    found["evidently"] = anchors["evidently"]
    found["anchors_env"] = ", ".join(f"{k} {v}" for k, v in anchors.items() if k != "evidently")
    return found


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    return {
        "nproc": nproc,
        "cpu": cpu,
        "memory": f"{mem_kib / 2**20:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def invocation() -> str:
    overrides = [
        f'{k}="{os.environ[k]}"' if " " in os.environ[k] else f"{k}={os.environ[k]}"
        for k in ("BENCH_SIZES", "BENCH_REPS", "BENCH_TOOLS")
        if os.environ.get(k)
    ]
    base = "make bench" if os.environ.get("MAKELEVEL") else "bash benchmarks/run.sh"
    return " ".join([*overrides, base])


def settings() -> tuple[list[int], dict[int, int], list[str]]:
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "").split()] or list(DEFAULT_SIZES)
    reps_override = os.environ.get("BENCH_REPS")
    reps = {n: int(reps_override) if reps_override else default_reps(n) for n in sizes}
    tools = os.environ.get("BENCH_TOOLS", "").split() or list(ALL_TOOLS)
    unknown = set(tools) - set(ALL_TOOLS)
    if unknown:
        raise SystemExit(f"BENCH_TOOLS: unknown {sorted(unknown)}; choose from {ALL_TOOLS}")
    if "driftwise" in tools and not (VENV_BIN / "driftwise").exists():
        raise SystemExit(f"{VENV_BIN / 'driftwise'} not found: run `make setup` first")
    return sizes, reps, tools


def summarise(records: list[dict[str, Any]], tools: list[str], n: int) -> dict[str, Any]:
    """Medians of the timed runs of each tool at n rows."""
    per_tool: dict[str, Any] = {}
    for tool in tools:
        runs = [r for r in records if r["tool"] == tool and r["n"] == n and r["run"] != "warmup"]
        good = [r for r in runs if r["rc"] == 0]
        entry: dict[str, Any] = {"runs": len(runs), "failed": len(runs) - len(good)}
        if good:
            entry["median_wall_s"] = statistics.median(r["wall_s"] for r in good)
            entry["median_rss_bytes"] = statistics.median(r["max_rss_kib"] for r in good) * 1024
            entry["walls_s"] = [r["wall_s"] for r in good]
        per_tool[tool] = entry
    return per_tool


def read_outputs(
    out_dir: Path, tools: list[str], n: int, per_tool: dict[str, Any]
) -> dict[str, Any]:
    """Add each tool's flagged columns to per_tool; compare driftwise with the floor."""
    reports = {}
    for tool in tools:
        output = out_dir / "outputs" / f"{tool}_{n}.json"
        if per_tool[tool]["failed"] == 0 and output.exists():
            reports[tool] = json.loads(output.read_text())
            per_tool[tool]["flagged"] = flagged_columns(tool, reports[tool])
    if "evidently" in reports:
        per_tool["evidently"]["methods"] = evidently_methods(reports["evidently"])
    if "driftwise" in reports and "floor" in reports:
        return compare_with_floor(reports["driftwise"], reports["floor"])
    return {}


class RunLog:
    """The raw measurements: kept in memory, appended to runs.jsonl, echoed to the terminal."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []

    def keep(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        with self.path.open("a") as sink:
            sink.write(json.dumps(record) + "\n")
        if record["rc"] == 0:
            shown = f"{record['wall_s']:8.2f} s {record['max_rss_kib'] / 1024:8.0f} MiB"
        else:
            shown = f"FAILED: {record['error']}"
        print(f"  {record['tool']:<10} n={record['n']:<8} {record['run']:<7} {shown}", flush=True)


def results_dir(started: dt.datetime) -> Path:
    out_dir = RESULTS / started.strftime("%Y%m%dT%H%M%SZ")
    (out_dir / "outputs").mkdir(parents=True)
    (out_dir / "logs").mkdir()
    latest = RESULTS / "latest"
    latest.unlink(missing_ok=True)
    latest.symlink_to(out_dir.name)
    return out_dir


def main() -> int:
    sizes, reps, tools = settings()
    started = dt.datetime.now(dt.UTC)
    host = machine()
    out_dir = results_dir(started)
    log = RunLog(out_dir / "runs.jsonl")
    # Reading every table up front also stops a run early on unreadable data.
    raw_bytes = {n: raw_data_bytes(n) for n in sizes}
    print(f"bench: sizes {sizes}, reps {reps}, tools {tools}; results in {out_dir}", flush=True)

    # One untimed run of each tool first, so that no timed run compiles bytecode.
    for tool in tools:
        log.keep(measure(tool, min(sizes), out_dir, "warmup"))
    failed: set[tuple[str, int]] = set()
    sizes_summary: dict[str, Any] = {}
    for n in sizes:
        warm_page_cache(n)
        for rep in range(1, reps[n] + 1):
            for tool in tools:
                if (tool, n) in failed:
                    continue  # a tool that failed once at this size would fail again
                record = measure(tool, n, out_dir, f"rep{rep}")
                log.keep(record)
                if record["rc"] != 0:
                    failed.add((tool, n))
        per_tool = summarise(log.records, tools, n)
        agreement = read_outputs(out_dir, tools, n, per_tool)
        sizes_summary[str(n)] = {"raw_bytes": raw_bytes[n], "tools": per_tool}
        if agreement:
            sizes_summary[str(n)]["driftwise_vs_floor"] = agreement

    summary = {
        "date": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": invocation(),
        "machine": host,
        "versions": versions(),
        "reps": {str(n): r for n, r in reps.items()},
        "tools": tools,
        "planted_drift": json.loads((DATA / "planted_drift.json").read_text()),
        "sizes": sizes_summary,
    }
    summary["targets"] = evaluate_targets(summary)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(update_readme(BENCH / "README.md", summary))
    if failed:
        print(f"bench: failed runs: {sorted(failed)}", file=sys.stderr)
        return 1
    missed = [t["target"] for t in summary["targets"] if t["status"] == "FAIL"]
    if missed and os.environ.get("BENCH_STRICT") == "1":
        print(f"bench: missed at {TARGET_SIZE:,} rows: {'; '.join(missed)}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
