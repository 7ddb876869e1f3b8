"""Evaluation time of one 10,000-row x 20-feature window by the service's evaluator.

Run from the repository root with driftwise's venv::

    .venv/bin/python benchmarks/service_window.py --backend sqlite|postgresql \
        [--windows 5] [--rows 10000]

Two measurements on the same kind of store (SQLite in a temporary directory, or a
throwaway PostgreSQL), for a binary model with 20 features (15 numeric, 5 categorical), a
10,000-row reference and the default Monitor configuration (drift tests of every feature,
label-free performance estimation, data quality, operational metrics), windows of
``--rows`` records:

- ``service``: ``--windows`` windows are stored through ``driftwise serve`` with its
  evaluator off, then the server is restarted with the evaluator in its child process
  (``DRIFTWISE_EVALUATOR=process``, the default) and works through them with nothing else
  running; the time is each window's ``duration_s`` as ``GET /v1/models/{m}/windows``
  reports it (from reading the window's rows to its results being ready, before they are
  committed).
- ``direct``: the same in this process through ``driftwise.app.evaluation`` on a store
  opened here: each window is stored, then one evaluator pass evaluates it and is timed
  whole (claiming the lease, reading, evaluating, committing), next to the parts it is made
  of: committing the window with its results and the records' window numbers
  (``commit_window``, timed inside the pass), and, timed again on their own after it,
  reading the rows (``read_rows``), loading the fitted Monitor and ``Monitor.run``.

The JSON line gives the medians over windows (the first window of each part is included;
every value is listed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import service_common as sc

TARGET_S = 0.5


def _service(data: Path, db: str | None, pool: sc.RecordPool, windows: int, rows: int
             ) -> dict[str, Any]:
    name = "window-service"
    with sc.Server(data, db, evaluator="off") as server:
        sc.setup_model(server.url, name, rows, sc.reference_parquet())
        with httpx.Client(base_url=server.url, timeout=300) as http:
            for k in range(windows):
                body = pool.arrow_body(0, rows, f"svc{k}")
                r = http.post(f"/v1/models/{name}/records/batch", content=body,
                              headers={"content-type": sc.ARROW})
                r.raise_for_status()
    with sc.Server(data, db, evaluator="process") as server, \
            httpx.Client(base_url=server.url, timeout=60) as http:
        deadline = time.monotonic() + 60 + 30 * windows
        found: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            found = http.get(f"/v1/models/{name}/windows", params={"limit": 1000}).json()
            if len(found) >= windows:
                break
            time.sleep(0.2)
    durations = [w["duration_s"] for w in found]
    return {"windows": len(found), "rows": [w["rows"] for w in found],
            "status": sorted({w["status"] for w in found}),
            "duration_s_median": sc.median(durations), "duration_s": durations}


def _direct(data: Path, db: str | None, pool: sc.RecordPool, windows: int, rows: int
            ) -> dict[str, Any]:
    from driftwise.app import ingest, models
    from driftwise.app.evaluation import Evaluator, Scheduling, window_table
    from driftwise.config.monitor import parse_monitor_config
    from driftwise.store import open_store, registry
    from driftwise.store.records import read_rows

    name = "window-direct"
    engine = open_store(db, data)
    try:
        models.register_model(engine, name, "binary",
                              {"probabilities": "proba", "target": "label"},
                              {"windows": {"rows": rows}})
        models.upload_reference(engine, name, sc.reference_parquet(),
                                "application/vnd.apache.parquet")
        model = registry.get_model(engine, name)
        cfg = parse_monitor_config(model.config, "config")
        evaluator = Evaluator(engine, "bench-direct", Scheduling(default_rows=rows))
        parts: dict[str, list[float]] = {"pass_s": [], "read_rows_s": [],
                                         "load_monitor_s": [], "monitor_run_s": [],
                                         "commit_window_s": [], "duration_s": []}
        from driftwise.app import evaluation as app_ev

        commit = app_ev.ev.commit_window

        def timed_commit(*a: Any, **k: Any) -> Any:
            started = time.perf_counter()
            try:
                return commit(*a, **k)
            finally:
                parts["commit_window_s"].append(time.perf_counter() - started)
        statuses = set()
        for k in range(windows):
            body = pool.arrow_body(0, rows, f"direct{k}")
            items = ingest.rows_of_table(body, sc.ARROW)
            report = ingest.ingest_records(engine, name, items)
            assert report.accepted == rows, report.to_dict()
            started = time.perf_counter()
            app_ev.ev.commit_window = timed_commit  # type: ignore[assignment]
            try:
                done = evaluator.pending()
            finally:
                app_ev.ev.commit_window = commit  # type: ignore[assignment]
            parts["pass_s"].append(time.perf_counter() - started)
            assert done == 1, done
            lo, hi = k * rows, (k + 1) * rows
            started = time.perf_counter()
            table, labels = read_rows(engine, model.id, seq=(lo, hi))
            parts["read_rows_s"].append(time.perf_counter() - started)
            started = time.perf_counter()
            monitor = models.fitted_monitor(engine, model.id, model.config_version,
                                            model.reference_version)
            parts["load_monitor_s"].append(time.perf_counter() - started)
            window = window_table(cfg, table, labels)
            started = time.perf_counter()
            result = monitor.run(window, name=f"rows {lo}-{hi - 1}")
            parts["monitor_run_s"].append(time.perf_counter() - started)
            statuses.add(result.status)
        from driftwise.store import evaluation as ev

        stored = ev.windows(engine, model.id, limit=1000)
        parts["duration_s"] = [w.duration_s for w in stored]
    finally:
        engine.dispose()
    out: dict[str, Any] = {f"{k}_median": sc.median(v) for k, v in parts.items()}
    out.update(parts)
    out["status"] = sorted(statuses)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    pool = sc.RecordPool.make(args.rows, seed=3)
    result: dict[str, Any] = {"benchmark": "service_window", "backend": args.backend,
                              "rows": args.rows, "features": len(sc.FEATURES),
                              "windows": args.windows, "target_s": TARGET_S}
    with tempfile.TemporaryDirectory(prefix="driftwise-bench-") as tmp:
        data = Path(tmp) / "data"
        with sc.store_url(args.backend, data) as db:
            result["direct"] = _direct(data, db, pool, args.windows, args.rows)
            result["service"] = _service(data, db, pool, args.windows, args.rows)
    print(f"window {args.backend}: service {result['service']['duration_s_median']:.3f} s, "
          f"direct Monitor.run {result['direct']['monitor_run_s_median']:.3f} s",
          file=sys.stderr)
    result["machine"] = sc.machine()
    sc.emit(result)


if __name__ == "__main__":
    main()
