"""The service section's results table, from the JSON lines the service benchmarks printed.

    .venv/bin/python benchmarks/service_report.py RESULTS_DIR [--no-readme]

``RESULTS_DIR`` holds ``{ingest,ingest2,latency,screen,window}-{sqlite,postgresql}.json``
(``ingest2``: the ingest benchmark with two uvicorn workers; what
``benchmarks/run.sh`` writes); the table is printed and written between
``<!-- service:start -->`` and ``<!-- service:end -->`` in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent / "README.md"
START, END = "<!-- service:start -->", "<!-- service:end -->"
BACKENDS = ("sqlite", "postgresql")


def _load(folder: Path, bench: str, backend: str) -> dict[str, Any] | None:
    path = folder / f"{bench}-{backend}.json"
    if not path.is_file():
        return None
    lines = [line for line in path.read_text().splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def _get(data: dict[str, Any] | None, *keys: str) -> float | None:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data if isinstance(data, int | float) else None


ROWS: list[tuple[str, str, str, tuple[str, ...], str, float, str]] = [
    # what, bench, limit text, path in its JSON, unit, target, at least/at most
    ("Batch ingest, JSON body", "ingest", ">= 50,000 records/s",
     ("json", "records_per_s_median"), "records/s", 50_000, "min"),
    ("Batch ingest, Arrow IPC body", "ingest", ">= 50,000 records/s",
     ("arrow", "records_per_s_median"), "records/s", 50_000, "min"),
    ("Batch ingest, JSON body, 2 workers (`DRIFTWISE_WORKERS=2`)", "ingest2",
     ">= 50,000 records/s", ("json", "records_per_s_median"), "records/s", 50_000, "min"),
    ("Batch ingest, Arrow IPC body, 2 workers", "ingest2", ">= 50,000 records/s",
     ("arrow", "records_per_s_median"), "records/s", 50_000, "min"),
    ("Single-record ingest p99 at 200 req/s", "latency", "<= 20 ms",
     ("idle", "latency", "p99_ms"), "ms", 20.0, "max"),
    ("Single-record ingest p99 at 200 req/s, windows being evaluated", "latency",
     "<= 20 ms", ("evaluating", "latency", "p99_ms"), "ms", 20.0, "max"),
    ("Screening one record (`POST /screen`, kNN outlier check) p99 at 200 req/s", "screen",
     "<= 10 ms", ("idle", "latency", "p99_ms"), "ms", 10.0, "max"),
    ("One 10,000 x 20 window evaluated (service `duration_s`)", "window", "<= 0.5 s",
     ("service", "duration_s_median"), "s", 0.5, "max"),
]


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "not measured"
    if unit == "records/s":
        return f"{value:,.0f}"
    if unit == "ms":
        return f"{value:,.1f} ms"
    return f"{value:.3f} s"


def _verdict(value: float | None, target: float, kind: str) -> str:
    if value is None:
        return "—"
    ok = value >= target if kind == "min" else value <= target
    ratio = value / target
    return f"{'PASS' if ok else 'FAIL'} ({ratio:.2f}x)"


def render(folder: Path) -> str:
    data = {(b, k): _load(folder, b, k) for b in ("ingest", "ingest2", "latency", "window")
            for k in BACKENDS}
    lines = ["| target | limit | SQLite | PostgreSQL | SQLite vs limit | PostgreSQL vs limit |",
             "|---|---|---:|---:|---|---|"]
    for what, bench, limit, path, unit, target, kind in ROWS:
        values = [_get(data[bench, k], *path) for k in BACKENDS]
        lines.append(f"| {what} | {limit} | " + " | ".join(_fmt(v, unit) for v in values)
                     + " | " + " | ".join(_verdict(v, target, kind) for v in values) + " |")
    lines.append("")
    lines.append("More from the same runs (medians):")
    lines.append("")
    lines.append("| measure | SQLite | PostgreSQL |")
    lines.append("|---|---:|---:|")
    extra: list[tuple[str, str, tuple[str, ...], str]] = [
        ("JSON batch request p50 / p99", "ingest", ("json", "request_p50_ms_median"), "ms"),
        ("", "ingest", ("json", "request_p99_ms_median"), "ms"),
        ("Arrow batch request p50 / p99", "ingest", ("arrow", "request_p50_ms_median"),
         "ms"),
        ("", "ingest", ("arrow", "request_p99_ms_median"), "ms"),
        ("Server CPU per 1,000 records, JSON", "ingest",
         ("json", "server_cpu_ms_per_1000_median"), "ms"),
        ("Server CPU per 1,000 records, Arrow", "ingest",
         ("arrow", "server_cpu_ms_per_1000_median"), "ms"),
        ("Single record p50, idle", "latency", ("idle", "latency", "p50_ms"), "ms"),
        ("Single record p50, windows being evaluated", "latency",
         ("evaluating", "latency", "p50_ms"), "ms"),
        ("Evaluator busy during the evaluating phase", "latency",
         ("evaluating", "busy_share"), "share"),
        ("Window: evaluator pass, direct (claim, read, evaluate, commit)", "window",
         ("direct", "pass_s_median"), "s"),
        ("Window: `Monitor.run` alone", "window", ("direct", "monitor_run_s_median"), "s"),
        ("Window: reading its rows", "window", ("direct", "read_rows_s_median"), "s"),
        ("Window: committing it (`commit_window`, holds the write lock)", "window",
         ("direct", "commit_window_s_median"), "s"),
    ]
    pending: list[str] | None = None
    for what, bench, path, unit in extra:
        cells = []
        for k in BACKENDS:
            v = _get(data[bench, k], *path)
            cells.append("—" if v is None else f"{100 * v:.0f}%" if unit == "share"
                         else _fmt(v, unit))
        if what:
            if pending is not None:
                lines.append(pending[0] + " | " + " | ".join(pending[1:]) + " |")
            pending = [f"| {what}", *cells]
        else:
            assert pending is not None
            pending = [pending[0], *(f"{a} / {b}" for a, b in zip(pending[1:], cells,
                                                                  strict=True))]
    if pending is not None:
        lines.append(pending[0] + " | " + " | ".join(pending[1:]) + " |")
    machine = next((d["machine"] for d in data.values() if d and "machine" in d), None)
    if machine:
        loads = sorted({str(d["machine"]["loadavg"][0]) for d in data.values()
                        if d and "machine" in d})
        lines.append("")
        lines.append(f"Run on {machine['at']} by `benchmarks/run.sh`'s service part (in "
                     f"`{folder}`): {machine['cpus']} CPUs, Python {machine['python']}, "
                     f"driftwise {machine['driftwise']}; 1-minute load average at the end "
                     f"of each run: {', '.join(loads)}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    table = render(args.folder)
    print(table)
    if not args.no_readme:
        text = README.read_text()
        if START not in text or END not in text:
            print(f"service report: no {START} ... {END} in {README}", file=sys.stderr)
            sys.exit(1)
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        README.write_text(f"{head}{START}\n{table}\n{END}{tail}")


if __name__ == "__main__":
    main()
