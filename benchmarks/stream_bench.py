"""Sequential detectors, driftwise next to River: updates per second and detection points.

Run from the repository root with driftwise's venv (``benchmarks/run.sh`` does, after the
batch harness)::

    .venv/bin/python benchmarks/stream_bench.py [--reps 3] [--no-readme]

It starts one worker process per tool and repetition (driftwise in ``.venv``, River in
``benchmarks/.venv-anchors``), each of which times every detector on the same generated
1,000,000-value stream and records the alarms of ADWIN and Page-Hinkley on shared streams;
then it writes the table between ``<!-- stream:start -->`` and ``<!-- stream:end -->`` in
``benchmarks/README.md``. The worker mode imports only NumPy at module level, so the same
file runs in either venv.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "benchmarks" / "README.md"
ELEC2 = ROOT.parent / "shared" / "data" / "elec2" / "elec2_electricity_normalized.csv"
VENVS = {"driftwise": ROOT / ".venv" / "bin" / "python",
         "river": ROOT / "benchmarks" / ".venv-anchors" / "bin" / "python"}
N = 1_000_000
N_KSWIN = 20_000  # River's KSWIN runs SciPy's exact KS test per value: ~3,000 values/s
START, END = "<!-- stream:start -->", "<!-- stream:end -->"


def speed_streams() -> dict[str, np.ndarray]:
    """The stream every per-item timing uses: N(0, 1) with a 1-sd mean shift half-way."""
    rng = np.random.default_rng(20261122)
    half = N // 2
    values = np.concatenate([rng.normal(0.0, 1.0, half), rng.normal(1.0, 1.0, N - half)])
    errors = np.concatenate([rng.random(half) < 0.1, rng.random(N - half) < 0.2])
    return {"values": values, "errors": errors.astype(np.float64)}


def in_control_stream() -> np.ndarray:
    """N(0, 1) throughout: where a calibrated chart spends its life (an alarm per ~500)."""
    return np.random.default_rng(7).normal(0.0, 1.0, N)


def detection_streams() -> dict[str, np.ndarray]:
    """Streams for the detection points: planted mean shifts, and real Elec2 columns."""
    out = {}
    for seed, shift in ((1, 1.0), (2, 0.5), (3, 0.25)):
        rng = np.random.default_rng(seed)
        out[f"N(0,1), +{shift} sd at 5,000 (seed {seed})"] = np.concatenate(
            [rng.normal(0.0, 1.0, 5000), rng.normal(shift, 1.0, 5000)])
    if ELEC2.is_file():
        table = np.genfromtxt(ELEC2, delimiter=",", names=True, dtype=None, encoding="utf-8")
        out["Elec2 nswprice (45,312)"] = np.asarray(table["nswprice"], dtype=np.float64)
        out["Elec2 vicdemand (45,312)"] = np.asarray(table["vicdemand"], dtype=np.float64)
    return out


def time_loop(make: Callable[[], Any], xs: list[float], step: Callable[[Any, float], bool]) -> (
    tuple[float, int]
):
    det = make()
    alarms = 0
    start = time.perf_counter()
    for x in xs:
        if step(det, x):
            alarms += 1
    return time.perf_counter() - start, alarms


def river_worker() -> dict[str, Any]:
    from river import __version__, drift
    from river.drift import binary

    def step(det: Any, x: float) -> bool:
        det.update(x)
        return bool(det.drift_detected)

    data = speed_streams()
    values, errors = data["values"].tolist(), [int(b) for b in data["errors"].tolist()]
    per_item = {}
    for name, make, xs in (
        ("adwin", drift.ADWIN, values), ("page_hinkley", drift.PageHinkley, values),
        ("ddm", binary.DDM, errors), ("eddm", binary.EDDM, errors),
        ("kswin", lambda: drift.KSWIN(seed=1), values[:N_KSWIN]),
    ):
        elapsed, alarms = time_loop(make, xs, step)
        per_item[name] = {"n": len(xs), "seconds": elapsed, "alarms": alarms}
    points = {}
    for stream, xs_arr in detection_streams().items():
        for name, make in (("adwin", drift.ADWIN), ("page_hinkley", drift.PageHinkley)):
            det = make()
            hits = []
            for i, x in enumerate(xs_arr.tolist()):
                det.update(x)
                if det.drift_detected:
                    hits.append(i)
            points[f"{stream}|{name}"] = hits
    return {"version": __version__, "per_item": per_item, "points": points}


def driftwise_worker() -> dict[str, Any]:
    from driftwise import __version__
    from driftwise.stream import (
        ADWIN,
        CUSUM,
        DDM,
        EDDM,
        EWMA,
        KSWIN,
        PageHinkley,
        Shewhart,
        calibrate_cusum,
        calibrate_ewma,
    )

    h = calibrate_cusum(500).h
    big_l = calibrate_ewma(500, lam=0.2).L
    data = speed_streams()
    values, errors = data["values"].tolist(), data["errors"].tolist()
    makers: dict[str, tuple[Callable[[], Any], list[float]]] = {
        "adwin": (lambda: ADWIN(engine="compiled"), values),
        "adwin_python": (lambda: ADWIN(engine="python"), values),
        "page_hinkley": (PageHinkley, values),
        "ddm": (DDM, errors), "eddm": (EDDM, errors),
        "kswin": (lambda: KSWIN(seed=1), values[:N_KSWIN]),
        "cusum": (lambda: CUSUM(h=h, mean=0.0, std=1.0), values),
        "ewma": (lambda: EWMA(lam=0.2, L=big_l, mean=0.0, std=1.0), values),
        "shewhart": (lambda: Shewhart(mean=0.0, std=1.0), values),
    }
    per_item: dict[str, Any] = {}
    batches: dict[str, Any] = {}
    for name, (make, xs) in makers.items():
        elapsed, alarms = time_loop(make, xs, lambda det, x: bool(det.update(x)))
        per_item[name] = {"n": len(xs), "seconds": elapsed, "alarms": alarms}
    arrays = {"batch": data["values"], "batch_in_control": in_control_stream()}
    for kind, arr in arrays.items():
        batch = {}
        for name in ("cusum", "ewma", "shewhart", "page_hinkley", "adwin", "adwin_python"):
            det = makers[name][0]()
            start = time.perf_counter()
            found = det.update_many(arr)
            batch[name] = {"n": int(arr.size), "seconds": time.perf_counter() - start,
                           "alarms": int(found.size)}
        batches[kind] = batch
    points = {}
    for stream, xs_arr in detection_streams().items():
        points[f"{stream}|adwin"] = ADWIN().update_many(xs_arr).tolist()
        points[f"{stream}|page_hinkley"] = PageHinkley().update_many(xs_arr).tolist()
    return {"version": __version__, "per_item": per_item, **batches, "points": points}


def run_worker(tool: str, out: Path) -> dict[str, Any]:
    python = VENVS[tool]
    if not python.is_file():
        raise SystemExit(f"stream bench: {python} not found (run `make bench` once)")
    env = dict(os.environ, PYTHONHASHSEED="0")
    subprocess.run([str(python), __file__, "--worker", tool, "--out", str(out)], check=True,
                   cwd=ROOT, env=env)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def rate(entry: dict[str, Any]) -> float:
    return float(entry["n"]) / float(entry["seconds"])


def fmt_rate(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1e6:,.2f} M/s" if value >= 1e6 else f"{value / 1e3:,.1f} k/s"


def short(points: list[int], limit: int = 6) -> str:
    shown = ", ".join(f"{p:,}" for p in points[:limit])
    return f"{len(points)}: {shown}{', …' if len(points) > limit else ''}" if points else "0"


def render(runs: dict[str, list[dict[str, Any]]], reps: int) -> str:
    dw, rv = runs["driftwise"], runs["river"]

    def median(tool_runs: list[dict[str, Any]], kind: str, name: str) -> float | None:
        rates = [rate(r[kind][name]) for r in tool_runs if name in r.get(kind, {})]
        return statistics.median(rates) if rates else None

    load = os.getloadavg()
    lines = [
        f"Run on {datetime.now(UTC).isoformat(timespec='seconds')} with "
        "`benchmarks/stream_bench.py`.",
        "",
        f"- Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}; load average "
        f"at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}.",
        f"- Versions: driftwise {dw[0]['version']} (numpy {np.__version__}); River "
        f"{rv[0]['version']} (its own venv).",
        f"- Each tool ran in its own process, {reps} times; the table shows medians. Stream: "
        f"{N:,} values of N(0, 1) with a 1-sd mean shift half-way (DDM and EDDM: its 0/1 "
        f"error stream, 10 % then 20 % errors); KSWIN on the first {N_KSWIN:,} values. "
        "Per item: a Python loop calling `update(x)` (River: `update(x)` then "
        "`drift_detected`). CUSUM h and EWMA L are calibrated for ARL0 = 500.",
        "",
        "| detector | driftwise `update` | River `update` | driftwise / River "
        "| driftwise `update_many` | `update_many`, in control | alarms driftwise / River |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {"adwin": "adwin (compiled core)", "adwin_python": "adwin (Python core)"}
    for name in ("cusum", "ewma", "shewhart", "page_hinkley", "adwin", "adwin_python", "ddm",
                 "eddm", "kswin"):
        if name not in dw[0]["per_item"]:
            continue
        river_name = "adwin" if name == "adwin_python" else name
        d_item, r_item = median(dw, "per_item", name), median(rv, "per_item", river_name)
        ratio = f"{d_item / r_item:.2f}" if d_item and r_item else "—"
        r_alarms = (rv[0]["per_item"][river_name]["alarms"] if river_name in rv[0]["per_item"]
                    else "—")
        lines.append(
            f"| {labels.get(name, name)} | {fmt_rate(d_item)} | {fmt_rate(r_item)} | {ratio} | "
            f"{fmt_rate(median(dw, 'batch', name))} | "
            f"{fmt_rate(median(dw, 'batch_in_control', name))} | "
            f"{dw[0]['per_item'][name]['alarms']} / {r_alarms} |"
        )
    cusum_b = min(median(dw, kind, "cusum") or 0.0 for kind in ("batch", "batch_in_control"))
    ewma_b = min(median(dw, kind, "ewma") or 0.0 for kind in ("batch", "batch_in_control"))
    on_par = [n for n in ("page_hinkley", "ddm", "eddm", "kswin", "adwin")
              if (median(dw, "per_item", n) or 0) >= 0.95 * (median(rv, "per_item", n) or 1e30)]
    lines += [
        "",
        "`update_many, in control`: a second 1,000,000-value stream, N(0, 1) throughout (an "
        "alarm every ~500 values, as calibrated); the other `update_many` column is the "
        "shifted stream above, whose second half alarms every ~10 values.",
        "",
        f"Targets: `update_many` ≥ 10 M/s on both streams for CUSUM ({fmt_rate(cusum_b)}: "
        f"{'PASS' if cusum_b >= 1e7 else 'FAIL'}) and EWMA ({fmt_rate(ewma_b)}: "
        f"{'PASS' if ewma_b >= 1e7 else 'FAIL'}), the slower of the two; per-item `update` "
        f"at least on par with River "
        f"(within 5 %): {', '.join(on_par) or 'none'}"
        f"{'' if 'adwin' in on_par else '; not ADWIN'}. The ADWIN target is met by the "
        "compiled core (C, built at install); River's ADWIN is compiled Rust. The Python core "
        "(the fallback where no C compiler is found) gives the same alarms and is listed for "
        "comparison.",
        "",
        "Detection points (0-based positions of the alarms; River's defaults on both sides):",
        "",
        "| stream | detector | driftwise | River | same |",
        "|---|---|---|---|---|",
    ]
    for key, river_points in rv[0]["points"].items():
        stream, name = key.split("|")
        ours = dw[0]["points"].get(key, [])
        lines.append(f"| {stream} | {name} | {short(ours)} | {short(river_points)} | "
                     f"{'yes' if ours == river_points else 'no'} |")
    return "\n".join(lines)


def write_readme(block: str) -> None:
    from readme_block import write_block

    write_block(README, block, START, END,
                "## Sequential detectors (driftwise.stream vs River)\n\n" + STREAM_INTRO)


STREAM_INTRO = """\
`benchmarks/stream_bench.py` (run by `benchmarks/run.sh` after the batch harness; skip it with
`BENCH_STREAM=0`, or run it alone with `.venv/bin/python benchmarks/stream_bench.py`) times
each sequential detector of `driftwise.stream` and River's on the same 1,000,000-value stream,
and lists the alarms of ADWIN and Page-Hinkley, both with River's default parameters, on
shared streams.

Where the detection points can differ, and why (definitions, not bugs):
- Page-Hinkley: River starts the running maximum of its "decrease" sum at -1, driftwise at
  -inf (the definition); a decrease whose sum never rises above -1 is flagged earlier by
  River.
- ADWIN: the same bucket histogram, cut test and clock; driftwise updates the window variance
  per batch of `clock` values (Chan et al.'s pairwise formula), which can move a borderline
  cut in the last bits. Both restart with an empty window after an alarm. driftwise's two
  ADWIN cores (compiled C and pure Python) run the same arithmetic: their alarms and states
  are identical (tests/stream/test_adwin_engines.py).
- DDM, EDDM, KSWIN are timed but not compared point by point: EDDM tracks its maximum from
  the first error (River: after 30 values), KSWIN draws its comparison sample with another
  generator."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=sorted(VENVS))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    if args.worker:
        result = river_worker() if args.worker == "river" else driftwise_worker()
        args.out.write_text(json.dumps(result))
        return
    runs: dict[str, list[dict[str, Any]]] = {"driftwise": [], "river": []}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            for tool in ("driftwise", "river"):  # interleaved, so drifting load hits both
                print(f"stream bench: {tool} run {rep + 1}/{args.reps}", flush=True)
                runs[tool].append(run_worker(tool, Path(tmp) / f"{tool}-{rep}.json"))
    block = render(runs, args.reps)
    print(block)
    if not args.no_readme:
        write_readme(block)


if __name__ == "__main__":
    sys.exit(main())
