"""Single-record ingest latency of ``driftwise serve`` at a fixed request rate, with and
without windows being evaluated at the same time.

Run from the repository root with driftwise's venv::

    .venv/bin/python benchmarks/service_latency.py --backend sqlite|postgresql \
        [--rate 200] [--seconds 30] [--phases idle,evaluating] [--windows 120] \
        [--path records|screen]

``--path screen`` measures ``POST /v1/models/{m}/screen`` instead: one record per request,
judged by the model's outlier check (``checks.outliers``, kNN on the 20 features) before
the answer (target p99 <= 10 ms).

An open-loop load generator (asyncio, plain HTTP/1.1 keep-alive connections on loopback):
request ``i`` is due at ``t0 + i / rate`` and is sent then whether or not earlier ones have
been answered (a new connection is opened when none is free, up to 256), so a slow answer
does not hold the next requests back and hide its queueing. The latency of a request is
measured from when it was due to when its answer arrived (what a model server calling at
that rate sees); the time from sending to the answer is reported too. Each phase sends
``rate x seconds`` records after a 3-second warm-up at the same rate; each record is one
``POST /v1/models/{m}/records`` with the 20 features, a timestamp, the probability and the
latency, to a model whose windows never close during the run.

Phases:

- ``idle``: nothing else runs on the server (the phase starts once the server's processes
  are idle: its evaluator child takes some seconds of CPU to start).
- ``evaluating``: another model holds ``--windows`` closed 10,000-row windows, stored
  beforehand with the evaluator off; the server is restarted with the evaluator on
  (``DRIFTWISE_EVALUATOR``, default ``process``), the phase starts once the first window
  is evaluated, and the evaluator works through the others while the records arrive. The
  result says how many windows were evaluated during the phase and what share of the
  phase the evaluator was busy (from each window's ``evaluated_at`` and ``duration_s``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import service_common as sc

LATENCY_MODEL = "latency"
EVAL_MODEL = "evaluated"
WINDOW = 10_000


def _quantiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(values)

    def q(p: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return {"p50_ms": q(0.50), "p90_ms": q(0.90), "p99_ms": q(0.99),
            "max_ms": 1000 * ordered[-1]}


class _Connections:
    """Keep-alive HTTP/1.1 connections to the server, opened when none is free (a bare
    asyncio client: httpx's costs a few ms of CPU a request, taken from the server on a
    machine of two cores)."""

    def __init__(self, url: str, limit: int) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.host, self.port, self.limit = host, int(port), limit
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0
        self.stale = 0  # kept-alive connections found closed (their request sent again)
        self.free = asyncio.Condition()

    async def post(self, path: str, body: bytes) -> int:
        """POST ``body`` (JSON); the answer's status. A kept-alive connection the server
        has closed meanwhile (uvicorn closes idle ones after 5 s) is replaced and the
        request sent again on a new one, as HTTP clients do."""
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        message = head.encode() + body
        for attempt in range(2):
            conn, reused = await self._take(fresh=attempt > 0)
            reader, writer = conn
            try:
                writer.write(message)
                status_line = await reader.readline()
                if not status_line and reused and attempt == 0:
                    raise ConnectionResetError("closed while idle")
                status = int(status_line.split()[1])
                length, close = 0, False
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"connection" and value.strip().lower() == b"close":
                        close = True
                if length:
                    await reader.readexactly(length)
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                writer.close()
                self.opened -= 1
                if reused and attempt == 0:
                    self.stale += 1
                    continue
                raise
            if close:
                writer.close()
                self.opened -= 1
            else:
                self.idle.append(conn)
            async with self.free:
                self.free.notify()
            return status
        raise ConnectionResetError("no answer")

    async def _take(self, fresh: bool = False
                    ) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter], bool]:
        """A connection (the most recently used idle one, else, or when ``fresh``, a new
        one) and whether it was used before."""
        while not self.idle and self.opened >= self.limit:
            async with self.free:
                await self.free.wait()
        if self.idle and not fresh:
            return self.idle.pop(), True
        self.opened += 1
        try:
            return await asyncio.open_connection(self.host, self.port), False
        except OSError:
            self.opened -= 1
            raise

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def _load(url: str, pool: sc.RecordPool, rate: float, count: int, tag: str,
                route: str = "records") -> dict[str, Any]:
    """Send ``count`` records at ``rate`` per second on a fixed schedule."""
    latency: list[float] = []
    service: list[float] = []
    lateness: list[float] = []
    errors: dict[str, int] = {}
    path = f"/v1/models/{LATENCY_MODEL}/{route}"
    bodies = [pool.single(i, f"{tag}-{i}") for i in range(count)]
    ok = "201"
    if route == "screen":
        bodies = [b'{"records":[' + b + b"]}" for b in bodies]
        ok = "200"
    connections = _Connections(url, 256)

    async def send(i: int, due: float) -> None:
        sent = time.perf_counter()
        lateness.append(sent - due)
        try:
            status = str(await connections.post(path, bodies[i]))
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
            status = type(exc).__name__
        done = time.perf_counter()
        if status == ok:
            latency.append(done - due)
            service.append(done - sent)
        else:
            errors[status] = errors.get(status, 0) + 1

    tasks = []
    start = time.perf_counter() + 0.05
    for i in range(count):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(i, due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    connections.close()
    return {"requests": count, "ok": len(latency), "errors": errors,
            "achieved_rate": count / elapsed, "latency": _quantiles(latency),
            "service_time": _quantiles(service),
            "sender_lateness_p99_ms": _quantiles(lateness)["p99_ms"],
            "connections": connections.opened, "stale_connections": connections.stale}


def run_phase(url: str, pool: sc.RecordPool, rate: float, seconds: float, tag: str,
              route: str = "records") -> dict[str, Any]:
    asyncio.run(_load(url, pool, rate, int(rate * 3), f"{tag}-warm", route))
    began = time.time()
    result = asyncio.run(_load(url, pool, rate, int(rate * seconds), tag, route))
    result["wall"] = (began, time.time())
    return result


def _preload(url: str, pool: sc.RecordPool, windows: int) -> None:
    """``windows`` x 10,000 records for the evaluated model, two senders at a time."""
    todo = list(range(windows))
    lock = threading.Lock()

    def sender() -> None:
        with httpx.Client(base_url=url, timeout=300) as http:
            while True:
                with lock:
                    if not todo:
                        return
                    k = todo.pop()
                body = pool.arrow_body(0, WINDOW, f"pre{k}")
                r = http.post(f"/v1/models/{EVAL_MODEL}/records/batch", content=body,
                              headers={"content-type": sc.ARROW})
                r.raise_for_status()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _windows(url: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{url}/v1/models/{EVAL_MODEL}/windows", params={"limit": 10_000},
                  timeout=60)
    r.raise_for_status()
    return list(r.json())


def _evaluation_during(windows: list[dict[str, Any]], began: float, ended: float
                       ) -> dict[str, Any]:
    """Windows evaluated in [began, ended] and the share of it the evaluator was busy."""
    busy = 0.0
    inside = []
    for w in windows:
        stop, length = w["evaluated_at"], w["duration_s"]
        lo, hi = max(began, stop - length), min(ended, stop)
        if hi > lo:
            busy += hi - lo
        if began <= stop <= ended:
            inside.append(length)
    return {"windows_evaluated": len(inside), "busy_share": busy / (ended - began),
            "window_duration_s_median": sc.median(inside)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--phases", default="idle,evaluating")
    parser.add_argument("--windows", type=int, default=120,
                        help="closed windows waiting for the evaluator (evaluating phase)")
    parser.add_argument("--evaluator", choices=("process", "thread"), default="process")
    parser.add_argument("--path", choices=("records", "screen"), default="records",
                        help="the route each request goes to")
    args = parser.parse_args()
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    pool = sc.RecordPool.make(WINDOW)
    screen = args.path == "screen"
    result: dict[str, Any] = {"benchmark": "service_screen" if screen else "service_latency",
                              "backend": args.backend, "path": args.path,
                              "rate": args.rate, "seconds": args.seconds,
                              "evaluator": args.evaluator,
                              "target_p99_ms": 10.0 if screen else 20.0}
    checks = {"outliers": {"detector": "knn"}} if screen else {}
    with tempfile.TemporaryDirectory(prefix="driftwise-bench-") as tmp:
        data = Path(tmp) / "data"
        with sc.store_url(args.backend, data) as db:
            with sc.Server(data, db, evaluator="off") as server:
                sc.setup_model(server.url, LATENCY_MODEL, 10_000_000, sc.reference_parquet(),
                               **checks)
                sc.setup_model(server.url, EVAL_MODEL, WINDOW, sc.reference_parquet())
            if "idle" in phases:
                with sc.Server(data, db, evaluator=args.evaluator) as server:
                    waited = server.wait_quiet()
                    out = run_phase(server.url, pool, args.rate, args.seconds, "idle",
                                    args.path)
                    out["waited_for_quiet_s"] = waited
                    out.pop("wall")
                    result["idle"] = out
                    print(f"{args.path} latency {args.backend} idle: p99 "
                          f"{out['latency']['p99_ms']:.1f} ms", file=sys.stderr)
            if "evaluating" in phases:
                with sc.Server(data, db, evaluator="off") as server:
                    _preload(server.url, pool, args.windows)
                with sc.Server(data, db, evaluator=args.evaluator) as server:
                    deadline = time.monotonic() + 120
                    while not _windows(server.url) and time.monotonic() < deadline:
                        time.sleep(0.2)
                    out = run_phase(server.url, pool, args.rate, args.seconds, "evaluating",
                                    args.path)
                    began, ended = out.pop("wall")
                    windows = _windows(server.url)
                    out.update(_evaluation_during(windows, began, ended))
                    out["windows_waiting_at_end"] = args.windows - len(windows)
                    result["evaluating"] = out
                    print(f"latency {args.backend} evaluating: p99 "
                          f"{out['latency']['p99_ms']:.1f} ms, evaluator busy "
                          f"{100 * out['busy_share']:.0f}% of the phase", file=sys.stderr)
    result["machine"] = sc.machine()
    sc.emit(result)


if __name__ == "__main__":
    main()
