"""Change points on real series: driftwise's sequential detectors next to River's.

Run from the repository root with driftwise's venv (``benchmarks/run.sh`` does; skip it there
with ``BENCH_CHANGEPOINTS=0``)::

    .venv/bin/python benchmarks/changepoints.py [--json OUT.jsonl] [--no-readme]

Series with documented change points (``changepoint_series.py``: Elec2, INSECTS, Usenet1/2,
the Nile, and the Monitor's per-window accuracy on ACS employment and on the credit-scoring
example, each with an injected fault) are loaded once; each detector of :data:`DETECTORS`
runs on each series in its tool's venv, in a separate process (driftwise in ``.venv``, River
in ``benchmarks/.venv-anchors``, which also supplies statsmodels for the Nile); the alarms are
scored here (``changepoint_score.py``: F1 with a margin of 5 after van den Burg & Williams
2020, false alarms, mean detection delay) beside the detector that never alarms. One JSON
line per (series, detector) goes to stdout (and ``--json``); the markdown table replaces the
block between ``<!-- changepoints:start -->`` and ``<!-- changepoints:end -->`` in
benchmarks/README.md, and a summary the block between ``<!-- changepoints-summary:start -->``
and ``<!-- changepoints-summary:end -->`` in docs/stream.md.

What the detectors are fed, the same for both tools: each series standardised with the mean
and sd of its warm-up prefix (values before the first change; ``standardise``), from the
first value on. Detectors that need an in-control reference (CUSUM, EWMA, Shewhart, BOCPD)
get mean 0 and sd 1, i.e. that prefix; the self-starting variants learn theirs from the
stream. The error-rate detectors (DDM, EDDM) run only on the 0/1 error streams (Usenet), on
the raw 0/1 values. Every detector uses its defaults (River's and driftwise's agree for
ADWIN, Page-Hinkley, KSWIN, DDM, EDDM; KSWIN's seed is fixed on both sides); CUSUM, EWMA and
Shewhart have no River counterpart and are calibrated for an in-control ARL of 500; so is one
Page-Hinkley variant, whose threshold (calibrated by driftwise for a standardised stream) River's
Page-Hinkley gets too. Nothing is tuned on these series, for either tool.

The worker modes import only the standard library at module level, so this file runs in
either venv.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "benchmarks"
README = HERE / "README.md"
DOC = ROOT / "docs" / "stream.md"
VENVS = {"driftwise": ROOT / ".venv" / "bin" / "python",
         "river": HERE / ".venv-anchors" / "bin" / "python"}
START, END = "<!-- changepoints:start -->", "<!-- changepoints:end -->"
DOC_START, DOC_END = "<!-- changepoints-summary:start -->", "<!-- changepoints-summary:end -->"
MARGIN = 5
ZERO = "zero (never alarms)"


@dataclass(frozen=True)
class DetectorConfig:
    """One row of the comparison: a tool's detector and how it is fed."""

    tool: str  # "driftwise" or "river"
    name: str
    #: driftwise: a ``make_detector`` mapping; river: ``type`` names the class in
    #: ``river.drift`` (``binary.DDM``...), the other keys are its parameters.
    spec: dict[str, Any]
    #: "z": the standardised series; "binary": the raw 0/1 error stream (binary series only).
    feed: str = "z"
    #: Give the detector the standardised series' in-control mean 0 and sd 1.
    reference: bool = False


# The table of every detector the benchmark runs. A driftwise type that is not registered, or
# a parameter this driftwise does not take (a newer option), is reported as skipped.
DETECTORS: list[DetectorConfig] = [
    DetectorConfig("driftwise", "cusum", {"type": "cusum", "target_arl0": 500}, reference=True),
    DetectorConfig("driftwise", "cusum (after_alarm=hold)",
                   {"type": "cusum", "target_arl0": 500, "after_alarm": "hold"}, reference=True),
    DetectorConfig("driftwise", "cusum (after_alarm=keep)",
                   {"type": "cusum", "target_arl0": 500, "after_alarm": "keep"}, reference=True),
    DetectorConfig("driftwise", "cusum (self-starting)",
                   {"type": "cusum", "target_arl0": 500, "self_starting": True}),
    DetectorConfig("driftwise", "ewma", {"type": "ewma", "target_arl0": 500}, reference=True),
    DetectorConfig("driftwise", "ewma (after_alarm=hold)",
                   {"type": "ewma", "target_arl0": 500, "after_alarm": "hold"}, reference=True),
    DetectorConfig("driftwise", "ewma (after_alarm=keep)",
                   {"type": "ewma", "target_arl0": 500, "after_alarm": "keep"}, reference=True),
    DetectorConfig("driftwise", "ewma (self-starting)",
                   {"type": "ewma", "target_arl0": 500, "self_starting": True}),
    DetectorConfig("driftwise", "shewhart", {"type": "shewhart", "target_arl0": 500},
                   reference=True),
    DetectorConfig("driftwise", "page_hinkley", {"type": "page_hinkley"}),
    DetectorConfig("driftwise", "page_hinkley (target_arl0=500)",
                   {"type": "page_hinkley", "target_arl0": 500}),
    DetectorConfig("driftwise", "adwin", {"type": "adwin"}),
    DetectorConfig("driftwise", "kswin", {"type": "kswin", "seed": 1}),
    DetectorConfig("driftwise", "bocpd", {"type": "bocpd"}, reference=True),
    DetectorConfig("driftwise", "ddm", {"type": "ddm"}, feed="binary"),
    DetectorConfig("driftwise", "eddm", {"type": "eddm"}, feed="binary"),
    DetectorConfig("river", "ADWIN", {"type": "ADWIN"}),
    DetectorConfig("river", "PageHinkley", {"type": "PageHinkley"}),
    # The same threshold as driftwise's calibrated Page-Hinkley: one calibration, both tools.
    DetectorConfig("river", "PageHinkley (driftwise's ARL0-500 threshold)",
                   {"type": "PageHinkley", "threshold": {
                       "from": "driftwise:page_hinkley (target_arl0=500)",
                       "param": "threshold"}}),
    DetectorConfig("river", "KSWIN", {"type": "KSWIN", "seed": 1}),
    DetectorConfig("river", "DDM", {"type": "binary.DDM"}, feed="binary"),
    DetectorConfig("river", "EDDM", {"type": "binary.EDDM"}, feed="binary"),
]
#: The charts whose alarm count the target bounds: at most one per change plus n / ARL0.
BOUNDED = ("cusum", "ewma")


def config_key(config: DetectorConfig) -> str:
    return f"{config.tool}:{config.name}"


# --- workers: one per venv -------------------------------------------------------------------

def driftwise_worker(job: dict[str, Any]) -> dict[str, Any]:
    from driftwise import __version__
    from driftwise.errors import ConfigError
    from driftwise.stream import (
        DETECTOR_TYPES,
        cusum_arl,
        ewma_arl,
        make_detector,
        shewhart_arl,
    )

    def nominal_arl0(det: Any) -> float | None:
        kind = getattr(det, "kind", "")
        if kind == "cusum":
            return float(cusum_arl(det.h, det.k))
        if kind == "ewma":
            return float(ewma_arl(det.lam, det.L, exact_limits=det.exact_limits))
        if kind == "shewhart":
            return float(shewhart_arl(det.L))
        return None

    out: dict[str, Any] = {"version": __version__, "types": list(DETECTOR_TYPES),
                           "configs": {}}
    for cfg in job["configs"]:
        spec = dict(cfg["spec"])
        if cfg["reference"]:
            spec.update(mean=0.0, std=1.0)
        entry: dict[str, Any] = {"series": {}}
        if spec["type"] not in DETECTOR_TYPES:
            entry["skipped"] = f"type {spec['type']!r} is not registered in this driftwise"
        else:
            try:
                det = make_detector(spec)
                entry["arl0"] = nominal_arl0(det)
                entry["params"] = det.get_params()
            except ConfigError as exc:
                entry["skipped"] = f"this driftwise refuses the configuration: {exc}"
        if "skipped" not in entry:
            for series in job["series"]:
                if cfg["feed"] == "binary" and series["binary"] is None:
                    continue
                xs = series["binary"] if cfg["feed"] == "binary" else series["z"]
                try:
                    alarms = make_detector(spec).update_many(xs).tolist()
                except Exception as exc:  # reported per series; the run goes on
                    entry["series"][series["name"]] = {"error": f"{type(exc).__name__}: {exc}"}
                    continue
                entry["series"][series["name"]] = {"alarms": alarms}
        out["configs"][cfg["key"]] = entry
    return out


def river_worker(job: dict[str, Any]) -> dict[str, Any]:
    from river import __version__, drift

    out: dict[str, Any] = {"version": __version__, "configs": {}}
    for cfg in job["configs"]:
        params = dict(cfg["spec"])
        target: Any = drift
        for part in params.pop("type").split("."):
            target = getattr(target, part)
        entry: dict[str, Any] = {"series": {}}
        for series in job["series"]:
            if cfg["feed"] == "binary" and series["binary"] is None:
                continue
            xs = series["binary"] if cfg["feed"] == "binary" else series["z"]
            det = target(**params)
            alarms = []
            for i, x in enumerate(xs):
                det.update(x)
                if det.drift_detected:
                    alarms.append(i)
            entry["series"][series["name"]] = {"alarms": alarms}
        out["configs"][cfg["key"]] = entry
    return out


def nile_worker() -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from changepoint_series import nile

    return nile().to_dict()


def run_worker(venv: str, mode: str, tmp: Path, job: dict[str, Any] | None = None) -> Any:
    python = VENVS[venv]
    if not python.is_file():
        raise SystemExit(f"changepoints: {python} not found (run `make bench` once)")
    out = tmp / f"{mode}-out.json"
    command = [str(python), __file__, "--worker", mode, "--out", str(out)]
    if job is not None:
        job_path = tmp / f"{mode}-job.json"
        job_path.write_text(json.dumps(job))
        command += ["--job", str(job_path)]
    subprocess.run(command, check=True, cwd=ROOT, env=dict(os.environ, PYTHONHASHSEED="0"))
    return json.loads(out.read_text())


# --- the orchestrator (driftwise's venv) -----------------------------------------------------

def load_series(tmp: Path) -> list[Any]:
    sys.path.insert(0, str(HERE))
    import changepoint_series as cs

    loaded = [cs.elec2_vicdemand(), cs.insects_att1(), cs.usenet_errors(1),
              cs.usenet_errors(2), cs.Series.from_dict(run_worker("river", "nile", tmp)),
              cs.acs_accuracy(), cs.credit_accuracy()]
    for series in loaded:
        first = min(min(a) for a in series.annotations if a)
        assert series.warmup <= first, f"{series.name}: the warm-up prefix overlaps a change"
    return loaded


def build_job(series: list[Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from changepoint_series import standardise

    fed, meta = [], {}
    for s in series:
        z, mean, sd = standardise(s)
        fed.append({"name": s.name, "z": z.tolist(),
                    "binary": [int(v) for v in s.values] if s.binary else None})
        meta[s.name] = {"mean": mean, "sd": sd}
    return fed, meta


def driftwise_revision() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "src")
    return head + (" with uncommitted changes in src/" if dirty else "")


def score_all(series: list[Any], runs: dict[str, Any]) -> list[dict[str, Any]]:
    from changepoint_score import score_changepoints

    rows = []
    for s in series:
        n = len(s.values)
        zero = score_changepoints(s.annotations, [], n, MARGIN)
        rows.append({"series": s.name, "tool": "none", "detector": ZERO, "n": n,
                     **zero.to_dict(), "alarm_positions": []})
        for cfg in DETECTORS:
            entry = runs[cfg.tool]["configs"].get(config_key(cfg), {})
            result = entry.get("series", {}).get(s.name)
            if result is None:
                continue
            row: dict[str, Any] = {"series": s.name, "tool": cfg.tool, "detector": cfg.name,
                                   "n": n, "feed": cfg.feed}
            if "error" in result:
                row["error"] = result["error"]
            else:
                scored = score_changepoints(s.annotations, result["alarms"], n, MARGIN)
                row.update(scored.to_dict(), alarm_positions=result["alarms"])
                if entry.get("arl0"):
                    row["arl0"] = entry["arl0"]
                    row["alarm_budget"] = scored.changes + n / entry["arl0"]
            rows.append(row)
    return rows


def resolve(spec: dict[str, Any], driftwise_run: dict[str, Any] | None) -> (
    tuple[dict[str, Any], str | None]
):
    """``spec`` with each ``{"from": KEY, "param": NAME}`` value replaced by that parameter
    of the driftwise configuration KEY as it ran; or the reason it cannot be."""
    out = {}
    for name, value in spec.items():
        if isinstance(value, dict) and "from" in value:
            entry = (driftwise_run or {}).get("configs", {}).get(value["from"], {})
            if value["param"] not in entry.get("params", {}):
                return spec, f"needs {value['from']}, which did not run"
            value = entry["params"][value["param"]]
        out[name] = value
    return out, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=("driftwise", "river", "nile"))
    parser.add_argument("--job", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--json", type=Path, help="also write the JSON lines here")
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    if args.worker:
        job = json.loads(args.job.read_text()) if args.job else {}
        workers = {"driftwise": driftwise_worker, "river": river_worker}
        result = nile_worker() if args.worker == "nile" else workers[args.worker](job)
        args.out.write_text(json.dumps(result))
        return
    sys.path.insert(0, str(HERE))
    from changepoint_report import render, render_summary, write_readme

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        series = load_series(tmp)
        fed, meta = build_job(series)
        runs: dict[str, Any] = {}
        skipped: dict[str, str] = {}
        for tool in ("driftwise", "river"):  # driftwise first: River may take its parameters
            configs = []
            for c in DETECTORS:
                if c.tool != tool:
                    continue
                spec, reason = resolve(c.spec, runs.get("driftwise"))
                if reason:
                    skipped[config_key(c)] = reason
                    continue
                configs.append({"key": config_key(c), "spec": spec, "feed": c.feed,
                                "reference": c.reference})
            print(f"changepoints: {tool} on {len(series)} series", file=sys.stderr, flush=True)
            runs[tool] = run_worker(tool, tool, tmp, {"series": fed, "configs": configs})
            skipped.update({k: v["skipped"] for k, v in runs[tool]["configs"].items()
                            if "skipped" in v})
    rows = score_all(series, runs)
    lines = [json.dumps(r) for r in rows]
    print("\n".join(lines))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text("\n".join(lines) + "\n")
    context = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "driftwise": runs["driftwise"]["version"], "revision": driftwise_revision(),
        "river": runs["river"]["version"], "python": platform.python_version(),
        "cpus": os.cpu_count(), "load": os.getloadavg(),
        "skipped": skipped,
        "standardisation": meta,
    }
    block = render(series, rows, DETECTORS, context)
    print(block, file=sys.stderr)
    if not args.no_readme:
        write_readme(README, block, START, END)
        text = DOC.read_text()
        if DOC_START in text and DOC_END in text:
            write_readme(DOC, render_summary(series, rows, context), DOC_START, DOC_END)


if __name__ == "__main__":
    sys.exit(main())
