"""Batch ingest throughput of ``driftwise serve``: records/s sustained, JSON and Arrow bodies.

Run from the repository root with driftwise's venv::

    .venv/bin/python benchmarks/service_ingest.py --backend sqlite|postgresql \
        [--seconds 20] [--repeats 3] [--threads 4] [--batch 1000] [--formats json,arrow] \
        [--workers 1]

It starts ``python -m driftwise serve`` on a free loopback port (evaluator off: this measures
ingest alone; ``service_latency.py`` measures ingest beside evaluation) with a fresh store
(SQLite in a temporary directory, or a throwaway PostgreSQL), registers a binary model with
20 features (15 numeric, 5 categorical) and a 10,000-row reference, then, per format and
repeat, keeps ``--threads`` client threads posting batches of ``--batch`` new records (each
thread waits for its answer before sending the next batch) for ``--seconds``. The bodies are
built before the clock starts (only the record ids change per send), so the clients cost
little CPU next to the server. Throughput = records the server answered as accepted /
wall time of the repeat; the JSON line printed at the end gives the median over repeats,
every repeat, and the batch requests' latency.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import service_common as sc

MODEL = "ingest"


def _sender(url: str, pool: sc.RecordPool, fmt: str, batch: int, tag: str,
            deadline: float, out: dict[str, Any]) -> None:
    """One client thread: post batches until ``deadline``; count what was accepted."""
    accepted = failed = 0
    latencies: list[float] = []
    offset = (hash(tag) % 50) * batch
    template = pool.json_template(offset, batch) if fmt == "json" else b""
    headers = {"content-type": "application/json" if fmt == "json" else sc.ARROW}
    path = f"/v1/models/{MODEL}/records/batch"
    k = 0
    with httpx.Client(base_url=url, timeout=120) as http:
        while time.perf_counter() < deadline:
            prefix = f"{tag}b{k}"
            body = template.replace(b"@@", prefix.encode()) if fmt == "json" else \
                pool.arrow_body(offset, batch, prefix)
            k += 1
            start = time.perf_counter()
            r = http.post(path, content=body, headers=headers)
            latencies.append(time.perf_counter() - start)
            if r.status_code == 200 and r.json()["accepted"] == batch:
                accepted += batch
            else:
                failed += 1
                if failed == 1:
                    print(f"ingest: {r.status_code} {r.text[:300]}", file=sys.stderr)
    out.update(accepted=accepted, failed=failed, latencies=latencies,
               finished=time.perf_counter())


def run_once(server: sc.Server, pool: sc.RecordPool, fmt: str, batch: int, threads: int,
             seconds: float, tag: str) -> dict[str, Any]:
    """One repeat: ``threads`` senders for ``seconds``; records/s accepted."""
    url = server.url
    outs: list[dict[str, Any]] = [{} for _ in range(threads)]
    cpu = server.cpu_seconds()
    start = time.perf_counter()
    deadline = start + seconds
    workers = [threading.Thread(target=_sender, args=(url, pool, fmt, batch, f"{tag}t{i}",
                                                      deadline, outs[i]))
               for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = max(o["finished"] for o in outs) - start
    cpu = server.cpu_seconds() - cpu
    accepted = sum(o["accepted"] for o in outs)
    lat = sorted(x for o in outs for x in o["latencies"])
    return {"records_per_s": accepted / elapsed, "records": accepted,
            "failed_requests": sum(o["failed"] for o in outs), "elapsed_s": elapsed,
            "requests": len(lat), "server_cpu_share": cpu / elapsed,
            "server_cpu_ms_per_1000": 1e6 * cpu / accepted if accepted else None,
            "request_p50_ms": 1000 * lat[len(lat) // 2] if lat else None,
            "request_p99_ms": 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            if lat else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--formats", default="json,arrow")
    parser.add_argument("--workers", type=int, default=1,
                        help="uvicorn worker processes (DRIFTWISE_WORKERS)")
    args = parser.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    pool = sc.RecordPool.make(50 * args.batch + args.batch)
    result: dict[str, Any] = {"benchmark": "service_ingest", "backend": args.backend,
                              "batch": args.batch, "threads": args.threads,
                              "workers": args.workers,
                              "seconds": args.seconds, "repeats": args.repeats,
                              "features": len(sc.FEATURES), "target_records_per_s": 50_000}
    with tempfile.TemporaryDirectory(prefix="driftwise-bench-") as tmp:
        data = Path(tmp) / "data"
        with sc.store_url(args.backend, data) as db, \
                sc.Server(data, db, workers=args.workers) as server:
            sc.setup_model(server.url, MODEL, 10_000, sc.reference_parquet())
            # Warm-up: connections, imports, SQLite pages and the layout cache.
            warm = run_once(server, pool, "json", args.batch, 2, 1.0, "warm")
            for fmt in formats:
                runs = [run_once(server, pool, fmt, args.batch, args.threads,
                                 args.seconds, f"{fmt}{rep}") for rep in range(args.repeats)]
                result[fmt] = {
                    "records_per_s_median": sc.median([r["records_per_s"] for r in runs]),
                    "request_p50_ms_median": sc.median([r["request_p50_ms"] for r in runs]),
                    "request_p99_ms_median": sc.median([r["request_p99_ms"] for r in runs]),
                    "server_cpu_ms_per_1000_median": sc.median(
                        [r["server_cpu_ms_per_1000"] for r in runs]),
                    "runs": runs}
                print(f"ingest {args.backend} {fmt}: "
                      f"{result[fmt]['records_per_s_median']:,.0f} records/s", file=sys.stderr)
            with httpx.Client(base_url=server.url) as http:
                stored = http.get(f"/v1/models/{MODEL}").json()["records"]
            sent = warm["records"] + sum(r["records"] for f in formats
                                         for r in result[f]["runs"])
            result["stored_records"] = stored
            result["accepted_records"] = sent
    result["machine"] = sc.machine()
    sc.emit(result)


if __name__ == "__main__":
    main()
